-- wrk script: POST /v1/search in the basic view (what machines ask for) with thousands of
-- distinct (input, output) sizes, so no response cache could stand in for the search.
-- Deterministic per thread.
local counter = 0
local thread_seed = 0

function setup(thread)
  thread_seed = thread_seed + 1
  thread:set("seed", thread_seed)
end

function init(args)
  math.randomseed(seed or 1)
end

request = function()
  counter = counter + 1
  local i = math.random(1, 200)
  local factor = math.random(1, 4)
  local o = math.max(1, i * factor + math.random(-3, 3))
  local body = string.format('{"input_size": %d, "output_size": %d, "view": "basic"}', i, o)
  return wrk.format("POST", "/v1/search", {["Content-Type"] = "application/json"}, body)
end

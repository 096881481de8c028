#!/usr/bin/env bash
# End to end on this machine: dockerd, a stand-in base image, both images, compose up (CPU
# override), real requests through the API to the worker, teardown. Bounded: every wait has a
# timeout, and the stack is removed on exit. Where docker cannot run, it says so loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PROJECT=tconv-e2e
BASE_IMAGE=tconv-base:bookworm

# A skip is loud everywhere; under CI=true it is also a failure, so a pipeline never reports a
# deployment check that did not run as passed.
loud_skip() {
  printf '\n%s\n!! deploy e2e SKIPPED: %s\n%s\n\n' "$(printf '!%.0s' {1..70})" "$1" "$(printf '!%.0s' {1..70})" >&2
  echo "skipped: $1" > build/e2e-status
  if [ "${CI:-}" = true ]; then exit 1; fi
  exit 0
}
mkdir -p build

# The Debian mirror this machine's apt already uses (one-line .list files and deb822 .sources
# files): the stand-in base image is built from it, so no host is named here.
debian_mirror() {
  local files=() file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] && files+=("$file")
  done
  [ ${#files[@]} -gt 0 ] || return 0
  awk '
    /^[[:space:]]*#/ { next }
    /^[[:space:]]*deb[[:space:]]/ {
      for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; break }
    }
    /^[[:space:]]*URIs:/ { for (i = 2; i <= NF; i++) print $i }
  ' "${files[@]}" | grep -v -- '-security' | head -n 1
}

apt_install() {
  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -q >build/apt.log 2>&1 \
    && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q "$@" >>build/apt.log 2>&1
}

# 1. A docker engine: use a running one, or start Debian's dockerd (installing it as root).
if ! docker info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt_install docker.io debootstrap || loud_skip "apt-get install docker.io debootstrap failed (build/apt.log)"
    else
      loud_skip "no docker engine and no way to install one (not root or no apt-get)"
    fi
  fi
  (dockerd >build/dockerd.log 2>&1 &)
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || loud_skip "dockerd did not start (build/dockerd.log)"
fi

# 2. Images cannot be pulled here: build a stand-in Debian base with python3 once.
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  if ! command -v debootstrap >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt_install debootstrap || true
  fi
  command -v debootstrap >/dev/null 2>&1 || loud_skip "debootstrap is not installed"
  MIRROR=$(debian_mirror)
  [ -n "$MIRROR" ] || loud_skip "no Debian mirror in /etc/apt/sources.list*"
  rm -rf build/rootfs
  timeout 600 debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm build/rootfs "$MIRROR" >build/debootstrap.log 2>&1 \
    || loud_skip "debootstrap failed (build/debootstrap.log)"
  tar -C build/rootfs -c . | docker import - "$BASE_IMAGE" >/dev/null
  rm -rf build/rootfs
fi

# 3. Wheels for offline image builds: the service, its dependencies, the build backend, and the
#    CPU torch this machine carries.
timeout 600 "$BIN/pip" wheel -q --wheel-dir build/wheels . '.[worker]' 'torch==2.13.0' hatchling >build/wheels.log 2>&1

export TCONV_BASE_IMAGE=$BASE_IMAGE PIP_NO_INDEX=1 PIP_FIND_LINKS=/src/build/wheels TCONV_TORCH_SPEC=torch==2.13.0
export TCONV_PORT=${TCONV_E2E_PORT:-18080} TCONV_TAG=e2e
# Keys and the worker token, as an operator would pass them: an env file both services read.
E2E_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
printf 'TCONV_API_KEYS=%s\nTCONV_WORKER_TOKEN=%s\n' "$E2E_KEY" "$(python3 -c 'import secrets; print(secrets.token_hex(16))')" \
  >build/e2e.env
export TCONV_ENV_FILE=build/e2e.env E2E_KEY
COMPOSE=("$BIN/docker-compose" -p "$PROJECT" -f docker-compose.yml -f docker-compose.cpu.yml)
trap '"${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 || true' EXIT

began=$(date +%s)
timeout 900 "${COMPOSE[@]}" build >build/e2e-build.log 2>&1 || { tail -30 build/e2e-build.log; exit 1; }
timeout 240 "${COMPOSE[@]}" up -d --wait --wait-timeout 180 >build/e2e-up.log 2>&1 || {
  cat build/e2e-up.log; "${COMPOSE[@]}" logs --tail 40; exit 1; }

# 4. Real requests: a search, a search verified through the worker, the worker unreachable from outside.
URL=http://127.0.0.1:$TCONV_PORT
python3 - "$URL" <<'PY'
import json, os, sys, urllib.error, urllib.request

url = sys.argv[1]
KEY = {"Authorization": "Bearer " + os.environ["E2E_KEY"]}

def post(path, body, headers=KEY):
    request = urllib.request.Request(url + path, json.dumps(body).encode(), {"content-type": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)

try:
    post("/v1/search", {"input_size": 7, "output_size": 14}, headers={})
    raise AssertionError("a call without a key was answered")
except urllib.error.HTTPError as refused:
    assert refused.code == 401, refused.code

search = post("/v1/search", {"input_size": 7, "output_size": 14})
assert search["total"] == 15, search
verified = post("/v1/search", {"input_size": 7, "output_size": 14, "verify": "device", "limit": 3})
statuses = [c["verification"]["status"] for c in verified["candidates"]]
assert statuses == ["confirmed"] * 3, verified["candidates"][0]["verification"]
ready = json.load(urllib.request.urlopen(url + "/readyz", timeout=10))
assert ready["worker"]["mode"] == "remote" and ready["worker"]["available"], ready
print("e2e: search total", search["total"], "| verified through the", ready["worker"]["mode"], "worker |", statuses)
PY
"${COMPOSE[@]}" ps --format '{{.Service}} {{.Status}}'
echo "passed in $(( $(date +%s) - began )) s (build + up + requests)" | tee build/e2e-status

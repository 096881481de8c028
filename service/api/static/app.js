// The tconv playground: forms -> the public API (/v1/search, /v1/shape, /v1/plan, /v1/invert,
// /v1/overlap.svg, /v1/info) -> tables and pictures. Plain JS, no build step, no outside request.
// Every rule (sizes, overlap, scores) is the service's; this file only asks and shows.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// Builds DOM from data without innerHTML, so nothing from an answer is parsed as markup.
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// ---------- input parsing: the shapes of the API's fields, checked before anything is sent ----------

const INTEGER = /^\d+$/;

function integers(text, separator, what) {
  const parts = text.split(separator).map((part) => part.trim());
  if (parts.some((part) => !INTEGER.test(part))) throw new Error(`${what}: whole numbers only, got "${text}"`);
  return parts.map(Number);
}

const PARSERS = {
  // 7 (square 2-D), 7, (1-D: a trailing separator makes a one-element array), 16x9, 5x5x5
  size(text) {
    let normal = text.toLowerCase().replace(/[×*,]/g, "x");
    const isArray = normal.includes("x");
    if (isArray && normal.endsWith("x") && !normal.slice(0, -1).includes("x")) normal = normal.slice(0, -1);
    const values = integers(normal, "x", "a size");
    if (values.length > 3) throw new Error("at most 3 dimensions");
    if (values.some((v) => v < 1)) throw new Error("sizes are at least 1");
    return isArray ? values : values[0];
  },
  // 3 or 3,5 (one per dimension)
  dims(text, input) {
    const values = integers(text.replace(/x/gi, ","), ",", "a value");
    const min = Number(input.dataset.min ?? 0);
    if (values.some((v) => v < min)) throw new Error(`at least ${min}`);
    if (values.length > 3) throw new Error("at most 3 dimensions");
    return values.length === 1 ? values[0] : values;
  },
  // 1..8, 2,4 or 3
  range(text) {
    if (text.includes("..")) {
      const [min, max] = integers(text, "..", "a range");
      if (min > max) throw new Error(`the range ${min}..${max} is empty`);
      return { min, max };
    }
    const values = integers(text, ",", "a range");
    return values.length === 1 ? values[0] : { values };
  },
  count(text, input) {
    const [value] = integers(text, /\s+/, "a count");
    const max = Number(input.dataset.max);
    if (value < 1 || value > max) throw new Error(`between 1 and ${max}`);
    return value;
  },
  // one Conv per line: kernel, stride, padding[, dilation]
  convs(text) {
    const lines = text.split("\n").map((line) => line.trim()).filter(Boolean);
    if (!lines.length) throw new Error("at least one layer");
    return lines.map((line, n) => {
      const values = integers(line, ",", `line ${n + 1}`);
      if (values.length < 1 || values.length > 4) throw new Error(`line ${n + 1}: kernel, stride, padding[, dilation]`);
      const [kernel_size, stride = 1, padding = 0, dilation = 1] = values;
      return { kernel_size, stride, padding, dilation };
    });
  },
};

// The request body, or null after marking each field that cannot be parsed.
function readForm(form) {
  const body = {};
  let ok = true;
  for (const note of $$(".field-error", form)) note.remove();
  for (const input of $$("input[name], select[name], textarea[name]", form)) {
    input.removeAttribute("aria-invalid");
    const text = input.value.trim();
    if (input.tagName === "SELECT") {
      body[input.name] = input.value;
      continue;
    }
    if (!text) {
      if (input.required) {
        mark(input, "required");
        ok = false;
      }
      continue;
    }
    try {
      body[input.name] = PARSERS[input.dataset.kind](text, input);
    } catch (error) {
      mark(input, error.message);
      ok = false;
    }
  }
  return ok ? body : null;
}

function mark(input, message) {
  input.setAttribute("aria-invalid", "true");
  input.closest("label").append(el("span", { class: "field-error", text: message }));
}

// ---------- talking to the API ----------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers(extra = {}) {
  const key = $("#api-key").value.trim();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

async function failure(response) {
  let code = "http_error";
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && body.error) ({ code, message } = body.error);
  } catch {
    // Not a JSON error body (a proxy's page, say): the status line is all there is.
  }
  return new ApiError(response.status, code, message);
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json" }),
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

async function getText(path) {
  const response = await fetch(path, { headers: headers() });
  if (!response.ok) throw await failure(response);
  return response.text();
}

// ---------- page state: one request at a time is shown; a newer one makes older answers stale ----------

let generation = 0;

function setBusy(text) {
  const status = $("#status");
  status.textContent = text;
  status.classList.toggle("busy", Boolean(text));
  for (const button of $$("button[type=submit]")) button.disabled = Boolean(text);
  document.body.setAttribute("aria-busy", text ? "true" : "false");
}

function clearAnswers() {
  $("#error").hidden = true;
  $("#error").replaceChildren();
  $("#results").replaceChildren();
  $("#detail").replaceChildren();
}

function showError(error) {
  const box = $("#error");
  const code = error instanceof ApiError ? error.code : "network_error";
  const status = error instanceof ApiError ? `${error.status} ` : "";
  box.replaceChildren(
    el("strong", { text: "The request failed: " }),
    el("span", { class: "message", text: error.message }),
    " ",
    el("code", { text: `(${status}${code})` }),
  );
  box.hidden = false;
}

const VERBS = { search: "Searching", shape: "Calculating", plan: "Planning", invert: "Inverting" };

async function submit(form) {
  clearAnswers();
  const body = readForm(form);
  if (!body) {
    $("#status").textContent = "Fix the marked fields; nothing was sent.";
    return;
  }
  remember(form);
  const mine = ++generation;
  setBusy(`${VERBS[form.id]}…`);
  try {
    const answer = await post(form.dataset.endpoint, body);
    if (mine !== generation) return;
    RENDER[form.id](answer, body);
    setBusy("");
  } catch (error) {
    if (mine !== generation) return;
    setBusy("");
    showError(error);
  }
}

// ---------- words and numbers ----------

const SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹";

// 2000000000000 -> "2 × 10¹²": the artifact penalties are round powers of ten.
function big(value) {
  if (Math.abs(value) < 1e9) return String(value);
  for (let exponent = 15; exponent >= 9; exponent--) {
    const unit = 10 ** exponent;
    if (value % unit === 0) {
      const power = [...String(exponent)].map((d) => SUPERSCRIPT[d]).join("");
      return `${value / unit} × 10${power}`;
    }
  }
  return value.toLocaleString("en");
}

function sizeText(size) {
  return Array.isArray(size) ? size.join("×") : String(size);
}

// In a chain of square sizes one number says it all: 4 → 8 → 16, not 4×4 → 8×8 → 16×16.
function chainSizes(sizes, isSquare) {
  return sizes.map((size) => (isSquare && Array.isArray(size) ? String(size[0]) : sizeText(size)));
}

function collapse(values) {
  return new Set(values).size === 1 ? String(values[0]) : values.join("×");
}

function layerText(layer) {
  const parts = [`kernel ${collapse(layer.kernel_size)}`, `stride ${collapse(layer.stride)}`];
  if (layer.padding.some(Boolean)) parts.push(`padding ${collapse(layer.padding)}`);
  if (layer.output_padding.some(Boolean)) parts.push(`output_padding ${collapse(layer.output_padding)}`);
  if (layer.dilation.some((d) => d !== 1)) parts.push(`dilation ${collapse(layer.dilation)}`);
  return parts.join(", ");
}

const TERM_WORDS = {
  holes: "dimensions whose periodic pattern (what a long input shows) has holes, output pixels no input pixel reaches: a penalty larger than all the mild terms together, so such a layer ranks below every layer without one",
  checkerboard: "dimensions whose periodic pattern is uneven (a checkerboard), even where this input is too small to show it: the same large penalty",
  unused_stride: "dimensions over a single input pixel with a stride above 1, which moves nothing there: the stride-1 form of the layer ranks first",
  output_padding: "output_padding used: extra pixels on one side only, so the output is off-centre",
  misalignment: "half-pixels between the kernel's centre and the input pixel's centre after cropping",
  kernel_size: "kernel size: a smaller kernel costs less",
  dilation: "dilation above 1",
  overlap_spread: "how far the overlap count falls at the borders, relative to its peak (per mille)",
  kernel_taps: "kernel taps, multiplied over dimensions: proportional to MACs and parameters",
  kernel_not_stride_multiple: "how far the kernel size is from stride or 2·stride",
  padding_off_convention: "how far the padding is from (kernel − stride) / 2",
  latency_us: "forward time measured on the verification worker, in microseconds",
};

function scoreParts(candidate) {
  const terms = candidate.score_terms || {};
  const heavy = Object.values(terms).filter((v) => v >= 1e9).reduce((a, b) => a + b, 0);
  if (!heavy) return String(candidate.score);
  const rest = candidate.score - heavy;
  return rest ? `${big(heavy)} + ${rest}` : big(heavy);
}

function overlapBadges(overlap) {
  const badges = [];
  if (overlap.holes) badges.push(el("span", { class: "badge hole", text: `${overlap.holes} holes` }));
  if (overlap.checkerboard) badges.push(el("span", { class: "badge bad", text: "checkerboard" }));
  if (!overlap.holes && !overlap.checkerboard) badges.push(el("span", { class: "badge good", text: "even" }));
  return badges;
}

// A candidate's PyTorch check, when the search asked for one.
function verificationText(verification) {
  const where = verification.device ? ` on ${verification.device}` : "";
  const time = verification.latency_ms ? `, ${verification.latency_ms} ms` : "";
  const why = verification.error ? `: ${verification.error}` : "";
  return `${verification.status}${where}${time}${why}`;
}

function verificationBadge(verification) {
  if (!verification) return "";
  const tone = verification.status === "confirmed" ? "good" : verification.status === "failed" ? "hole" : "bad";
  return el("span", { class: `badge ${tone}`, title: verificationText(verification), text: verification.status });
}

// Why the map looks as it does, in words, from the answer's own overlap analysis.
function verdict(overlap, layer) {
  const dims = overlap.dims.map((dim, n) => {
    const counts = dim.interior_counts;
    const k = layer.kernel_size[n];
    const s = layer.stride[n];
    // Identical dimensions say the same thing once (below).
    if (!counts.length) return "the input is too small for an interior";
    if (counts.length > 1) {
      return `kernel ${k} over stride ${s}: the output's ${s} phases get ${counts.join(" or ")} taps each, so neighbouring pixels get unequal sums`;
    }
    return `kernel ${k} over stride ${s}: each of the output's ${s} phases gets ${counts[0]} tap${counts[0] === 1 ? "" : "s"}`;
  });
  let headline;
  let bad = true;
  if (overlap.checkerboard) {
    headline = "Checkerboard: inside the map, the number of (input pixel, kernel tap) pairs that reach a pixel alternates; the thin pixels are outlined in orange.";
  } else if (overlap.holes) {
    headline = `Holes: ${overlap.holes} output pixels receive nothing from any input pixel (crossed in red).`;
  } else {
    bad = false;
    const inside = overlap.dims.every((dim) => dim.interior_counts.length)
      ? overlap.dims.reduce((product, dim) => product * dim.interior_counts[0], 1)
      : null;
    headline = inside
      ? `No checkerboard: every interior pixel is reached by exactly ${inside} (input pixel, kernel tap) pairs; only the border thins out.`
      : "No checkerboard and no holes.";
  }
  if (overlap.holes && overlap.checkerboard) headline += ` It also has ${overlap.holes} holes (crossed in red).`;
  return el("div", { class: `verdict${bad ? " bad" : ""}`, id: "verdict", "data-checkerboard": String(overlap.checkerboard) },
    el("strong", { text: headline }),
    el("ul", {}, (new Set(dims).size === 1 ? [`${dims.length > 1 ? "every dimension: " : ""}${dims[0]}`]
      : dims.map((text, n) => `dim ${n}: ${text}`)).map((text) => el("li", { text }))));
}

function copyButton(text) {
  const button = el("button", { type: "button", class: "copy", text: "Copy" });
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard permission (some embedded browsers): select the text for Ctrl+C instead.
      const range = document.createRange();
      range.selectNodeContents(button.previousSibling);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      button.textContent = "Selected: press Ctrl+C";
      return;
    }
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
  return el("div", { class: "snippet" }, el("pre", { class: "code" }, el("code", { text })), button);
}

function pictureQuery(inputSize, layer, diagram = true) {
  // A one-element array keeps its trailing comma: a bare "6" would be a square 2-D size.
  const query = new URLSearchParams({ input_size: inputSize.length === 1 ? `${inputSize[0]},` : inputSize.join(",") });
  for (const field of ["kernel_size", "stride", "padding", "output_padding", "dilation"]) {
    query.set(field, layer[field].join(","));
  }
  if (diagram) query.set("diagram", "true");
  return `/v1/overlap.svg?${query}`;
}

// The overlap map is the service's own SVG (one renderer for pages, READMEs and notebooks).
async function picture(figure, inputSize, layer, mine, diagram = true) {
  figure.replaceChildren(el("figcaption", { text: "Drawing the overlap map…" }));
  try {
    const svg = await getText(pictureQuery(inputSize, layer, diagram));
    if (mine !== generation) return;
    const holder = el("div", { class: "map" });
    holder.innerHTML = svg; // same-origin SVG; its text is escaped by the service
    figure.replaceChildren(holder, el("figcaption", {},
      "The all-ones experiment: ones in, ones weights, no bias. Each pixel counts the (input pixel, kernel tap) pairs that reach it. ",
      el("a", { href: pictureQuery(inputSize, layer, diagram), target: "_blank", text: "Open the SVG" })));
  } catch (error) {
    figure.replaceChildren(el("figcaption", { class: "field-error", text: `No picture: ${error.message}` }));
  }
}

function explainLayer(container, { title, snippet, inputSize, layer, overlap, derivation, candidate, cost }) {
  const mine = generation;
  const figure = el("figure", { id: "overlap-map" });
  const parts = [el("h2", { text: title })];
  if (snippet) parts.push(copyButton(snippet));
  if (overlap) parts.push(verdict(overlap, layer), figure);
  parts.push(el("h3", { text: "Output size, dimension by dimension" }),
    el("p", { class: "muted", text: "(input − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1" }),
    el("ol", { class: "derivation", start: 0 }, derivation.map((line) => el("li", {}, el("code", { text: line })))));
  if (candidate) {
    const terms = Object.entries(candidate.score_terms || {});
    const sum = scoreParts(candidate);
    const score = candidate.score.toLocaleString("en");
    parts.push(el("h3", { text: sum === String(candidate.score) ? `Score ${score}` : `Score ${score} = ${sum}` }),
      el("p", { class: "muted", text: "Lower ranks first. The terms, summed over dimensions (multiplied, for the cost objective):" }),
      el("div", { class: "table-wrap" }, el("table", { class: "terms" },
        el("thead", {}, el("tr", {}, el("th", { text: "term" }), el("th", { class: "num", text: "value" }), el("th", { text: "meaning" }))),
        el("tbody", {}, terms.map(([name, value]) => el("tr", {},
          el("td", {}, el("code", { text: name })),
          el("td", { class: "num", text: big(value) }),
          el("td", { text: value ? TERM_WORDS[name] || "" : `${TERM_WORDS[name] || ""} (none here)` })))))));
  }
  if (candidate && candidate.verification) {
    parts.push(el("p", { id: "verification", text: `PyTorch: ${verificationText(candidate.verification)}.` }));
  }
  if (cost) parts.push(el("p", { class: "muted", text: `Cost: ${cost.parameters.toLocaleString("en")} parameters, ${cost.macs.toLocaleString("en")} multiply-accumulates per forward pass.` }));
  container.replaceChildren(...parts);
  if (overlap) picture(figure, inputSize, layer, mine);
}

function selectable(row, onSelect) {
  row.classList.add("pick");
  row.tabIndex = 0;
  row.setAttribute("aria-selected", "false");
  const choose = () => {
    for (const other of $$("tbody tr[aria-selected]", row.closest("table"))) other.setAttribute("aria-selected", "false");
    row.setAttribute("aria-selected", "true");
    onSelect();
    $("#detail").scrollIntoView({ block: "nearest" });
  };
  row.addEventListener("click", choose);
  row.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      choose();
    }
  });
}

function table(headings, rows) {
  return el("div", { class: "table-wrap" }, el("table", {},
    el("thead", {}, el("tr", {}, headings.map(([text, cls]) => el("th", { class: cls, text })))),
    el("tbody", {}, rows)));
}

// ---------- answers ----------

const RENDER = {
  search(answer) {
    const results = $("#results");
    const from = `${sizeText(answer.input_size)} to ${sizeText(answer.output_size)}`;
    if (!answer.total) {
      const nearest = (answer.nearest || []).map((n) =>
        el("li", {}, `${n.direction}: ${sizeText(n.output_size)}, e.g. `, el("code", { text: n.example.snippet })));
      results.replaceChildren(el("p", { id: "summary", text: `No layer maps ${from}. ${answer.reason || ""}` }),
        nearest.length ? el("ul", {}, nearest) : "");
      return;
    }
    const shown = answer.candidates.length;
    const summary = el("p", { id: "summary" },
      `${answer.total.toLocaleString("en")} ${answer.module} layers map ${from}; `,
      `showing ${answer.offset + 1}–${answer.offset + shown}, best first under "${answer.objective}". `,
      el("span", { class: "muted", text: "Select a row to see why." }));
    const rows = answer.candidates.map((candidate) => {
      const row = el("tr", { "data-layer": layerText(candidate.layer) },
        el("td", { class: "num", text: candidate.rank }),
        el("td", {}, layerText(candidate.layer)),
        el("td", { class: "num", title: String(candidate.score), text: scoreParts(candidate) }),
        el("td", {}, `${candidate.overlap.min_count}..${candidate.overlap.max_count} `, overlapBadges(candidate.overlap),
          verificationBadge(candidate.verification)),
        el("td", { class: "num hide-narrow", text: candidate.cost.macs.toLocaleString("en") }));
      selectable(row, () => explainLayer($("#detail"), {
        title: `Rank ${candidate.rank}`,
        snippet: candidate.snippet,
        inputSize: answer.input_size,
        layer: candidate.layer,
        overlap: candidate.overlap,
        derivation: candidate.derivation,
        candidate,
        cost: candidate.cost,
      }));
      return row;
    });
    results.replaceChildren(summary, table(
      [["#", "num"], ["layer"], ["score", "num"], ["overlap"], ["MACs", "num hide-narrow"]], rows));
  },

  shape(answer, request) {
    const inputSize = answer.dimensions.map((d) => d.input_size);
    const derivation = answer.dimensions.map((d) => d.derivation);
    if (!answer.valid) {
      $("#results").replaceChildren(el("div", { class: "verdict bad", id: "summary" },
        el("strong", { text: `PyTorch refuses this ${answer.module}: ` }),
        (answer.errors || [answer.error]).map((e) => el("div", { text: `${e.message} (${e.code})` }))),
      el("ol", { class: "derivation", start: 0 }, derivation.map((line) => el("li", {}, el("code", { text: line })))));
      return;
    }
    $("#results").replaceChildren(el("p", { id: "summary", text: `${answer.module}: ${sizeText(inputSize)} → ${sizeText(answer.output_size)}` }));
    explainLayer($("#detail"), {
      title: `${answer.module}: ${layerText(answer.layer)}`,
      inputSize,
      layer: answer.layer,
      overlap: answer.overlap,
      derivation,
      cost: answer.cost,
    });
  },

  plan(answer, request) {
    const isSquare = !Array.isArray(request.input_size);
    const rows = answer.plans.map((plan) => {
      const chain = chainSizes([request.input_size, ...plan.sizes], isSquare);
      const row = el("tr", {},
        el("td", { class: "num", text: plan.rank }),
        el("td", { class: "chain" }, chainOf(chain)),
        el("td", {}, el("ol", { class: "derivation" }, plan.layers.map((layer) => el("li", { text: layerText(layer) })))),
        el("td", { class: "num", title: String(plan.score), text: big(plan.score) }));
      selectable(row, () => {
        const mine = generation;
        const dims = plan.sizes[0].length;
        const inputs = [Array.isArray(request.input_size) ? request.input_size : Array(dims).fill(request.input_size),
          ...plan.sizes];
        const layers = plan.layers.map((layer, n) => {
          const figure = el("figure", { class: "plan-layer" });
          picture(figure, inputs[n], layer, mine, false);
          return [el("h3", { text: `Layer ${n + 1}: ${chain[n]} → ${chain[n + 1]}, ${layerText(layer)}` }), figure];
        });
        $("#detail").replaceChildren(el("h2", { text: `Plan ${plan.rank}` }), el("p", { class: "chain" }, chainOf(chain)),
          copyButton(plan.snippet), ...layers.flat());
      });
      return row;
    });
    const total = answer.total === null ? "Many" : answer.total.toLocaleString("en");
    $("#results").replaceChildren(
      el("p", { id: "summary", text: `${total} plans; the best ${answer.plans.length} first. Select one for its code.` }),
      table([["#", "num"], ["sizes"], ["layers"], ["score", "num"]], rows));
  },

  invert(answer, request) {
    if (!answer.valid) {
      $("#results").replaceChildren(el("div", { class: "verdict bad", id: "summary", text: answer.error?.message || "PyTorch refuses this encoder" }));
      return;
    }
    const isSquare = !Array.isArray(request.input_size);
    const encoder = chainSizes(answer.sizes, isSquare);
    const decoder = chainSizes([answer.sizes[answer.sizes.length - 1], ...answer.decoder_sizes], isSquare);
    const exact = answer.is_exact
      ? "A plain mirrored decoder restores every size."
      : `Some stage rounds down: the decoder needs output_padding. Inputs where every stage is exact: ${sizeText(answer.exact_input_sizes.below)} below, ${sizeText(answer.exact_input_sizes.above)} above.`;
    $("#results").replaceChildren(
      el("p", { id: "summary" }, "Encoder ", el("span", { class: "chain" }, chainOf(encoder)),
        ", decoder ", el("span", { class: "chain" }, chainOf(decoder)), "."),
      el("p", { class: "muted", text: exact }),
      table([["#", "num"], ["decoder layer"], ["sizes"]], answer.decoder.map((layer, n) => el("tr", {},
        el("td", { class: "num", text: n + 1 }),
        el("td", {}, copyButton(answer.snippets[n])),
        el("td", { class: "chain" }, chainOf([decoder[n], decoder[n + 1]]))))));
  },
};

function chainOf(sizes) {
  return sizes.flatMap((size, n) => (n ? [el("span", { class: "arrow", text: "→" }), size] : [size]));
}

// ---------- wiring ----------

function showTab(name) {
  for (const tab of $$(".tabs button")) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
  for (const form of $$("form")) form.hidden = form.id !== name;
  generation++;
  setBusy("");
  clearAnswers();
  $("#status").textContent = "";
}

async function loadObjectives() {
  // The objectives the service offers now (latency only with a verifier); the static list stays otherwise.
  try {
    const response = await fetch("/v1/info", { headers: headers() });
    if (!response.ok) return;
    const info = await response.json();
    for (const select of $$("select.objectives")) {
      const chosen = select.value;
      select.replaceChildren(...info.objectives.filter((o) => o.available !== false).map((o) =>
        el("option", { value: o.name, title: o.description, text: o.name, selected: o.name === chosen })));
    }
  } catch {
    // Offline or refused: the built-in list still works.
  }
}

// The address holds the last request's fields, so a link reproduces it: /?tab=search&input_size=7&output_size=14
function remember(form) {
  const query = new URLSearchParams({ tab: form.id });
  for (const input of $$("[name]", form)) query.set(input.name, input.value.trim());
  history.replaceState(null, "", `/?${query}`);
}

function restore() {
  const query = new URLSearchParams(location.search);
  const form = document.getElementById(query.get("tab") || "search");
  if (!form || form.tagName !== "FORM" || ![...query.keys()].some((key) => key !== "tab")) return;
  showTab(form.id);
  for (const [name, value] of query) {
    const input = form.elements.namedItem(name);
    if (input && "value" in input) input.value = value;
  }
  submit(form);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const tab of $$(".tabs button")) tab.addEventListener("click", () => showTab(tab.dataset.tab));
  for (const form of $$("form")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit(form);
    });
  }
  loadObjectives();
  restore();
});

// The digits page: a drawing (or a link's 8×8 pixels) goes to POST /api/digits/predict, debounced
// and latest-only; its answer is painted as the reduction, the verdict and every layer's maps.
// A chosen cell's arithmetic is recomputed from the answer and the weights in use (the bundled
// model's, or a run's trained here). State: {cell, trained}; the pixels and the cell are
// mirrored in the URL so a link reproduces the view.
import "./strings.js";
import * as api from "../api.js";
import { applyI18n, fmt, t } from "../i18n.js";
import { createStore, debounce } from "../state.js";
import { computeCell, paintCell, titleOf } from "./cellmath.js";
import { onFollow } from "../live/follow.js";
import { createPad } from "./draw.js";
import { paintGrid } from "./grids.js";
import { KernelLearner } from "./learn.js";
import { LayerView } from "./layers.js";
import { Trainer } from "./train.js";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const page = $("digits-page");
const DIGITS = "0123456789abcdefg"; // one character per pixel count 0..16 in the URL

const store = createStore({ cell: null, trained: null });
const latest = api.latestOnly();
let model = null;   // GET /api/digits/model
let answer = null;  // the last predict answer
let linkPixels = null;

// ---- URL ----

function pixelsFromQuery(text) {
  if (!text || text.length !== 64 || [...text].some((ch) => !DIGITS.includes(ch))) return null;
  return Array.from({ length: 8 }, (_, r) => [...text.slice(r * 8, r * 8 + 8)].map((ch) => DIGITS.indexOf(ch)));
}

function cellFromQuery(text) {
  const m = /^(\w+):(\d+(?:,\d+)*)$/.exec(text || "");
  return m ? { name: m[1], coords: m[2].split(",").map(Number) } : null;
}

function mirror() {
  const params = new URLSearchParams(location.search);
  for (const k of ["px", "cell"]) params.delete(k);
  if (answer) params.set("px", answer.pixels.flat().map((v) => DIGITS[Math.round(v)] ?? "0").join(""));
  const cell = store.get("cell");
  if (answer && cell) params.set("cell", `${cell.name}:${cell.coords.join(",")}`);
  const query = params.toString();
  history.replaceState(null, "", `${location.pathname}${query ? `?${query}` : ""}`);
}

// ---- the network and its numbers ----

function weights() {
  return store.get("trained")?.weights || model.weights;
}

/** What computeCell needs: the specs, every output by name, the input and the weights. */
function net() {
  const scale = model.pixel_scale;
  return {
    specs: model.layers,
    outputs: Object.fromEntries(answer.layers.map((l) => [l.name, l.output])),
    pixels: answer.pixels,
    input: answer.pixels.map((row) => row.map((p) => [p * scale])),
    scale,
    weights: weights(),
  };
}

function layerRows() {
  const input = { name: "input", spec: null, shape: model.input_shape, before: null };
  let before = model.input_shape;
  const rows = [input];
  model.layers.forEach((spec, i) => {
    const shape = answer?.layers[i]?.output_shape || [];
    rows.push({ name: spec.name, spec, shape, before });
    before = shape;
  });
  return rows;
}

const layers = new LayerView($("layers"), {
  onPick: (name, coords, { keep } = {}) => {
    const cell = store.get("cell");
    const same = cell && cell.name === name && cell.coords.join() === coords.join();
    store.set({ cell: same && !keep ? null : { name, coords } });
  },
});

// ---- painting ----

function paintReduction() {
  const canvas = $("reduction-scaled");
  const ctx = canvas.getContext("2d");
  const side = canvas.width;
  ctx.clearRect(0, 0, side, side);
  const box = $("ink-box");
  const reduction = answer?.reduction;
  const styles = getComputedStyle(canvas);
  if (reduction) {
    const n = reduction.scaled.length;
    const cell = side / n;
    ctx.fillStyle = styles.getPropertyValue("--dg-ink").trim() || "#111";
    reduction.scaled.forEach((row, r) => row.forEach((v, c) => {
      if (!v) return;
      ctx.globalAlpha = Math.min(v, 1);
      ctx.fillRect(c * cell, r * cell, cell, cell);
    }));
    ctx.globalAlpha = 1;
    ctx.strokeStyle = styles.getPropertyValue("--line-strong").trim() || "#999";
    ctx.lineWidth = 1;
    for (let i = 0; i <= n; i += 4) {
      const p = Math.round(i * cell) + 0.5;
      ctx.beginPath(); ctx.moveTo(p, 0); ctx.lineTo(p, side); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(0, p); ctx.lineTo(side, p); ctx.stroke();
    }
    const [top, left, bottom, right] = reduction.box;
    const s = pad.side;
    Object.assign(box.style, {
      top: `${(100 * top) / s}%`, left: `${(100 * left) / s}%`,
      height: `${(100 * (bottom - top)) / s}%`, width: `${(100 * (right - left)) / s}%`,
    });
  }
  box.hidden = !reduction;
  canvas.hidden = !reduction;
  canvas.closest(".dg-reduction").dataset.direct = String(Boolean(answer && !reduction));
  $("reduction-none").hidden = !(answer && !reduction);
  const pixels = answer?.pixels || Array.from({ length: 8 }, () => Array(8).fill(null));
  paintGrid($("pixels-grid"), pixels, { max: 16, format: (v) => String(Math.round(v)) });
}

function paintAnswer() {
  const out = $("prediction");
  const list = $("probabilities");
  $("answer-empty").hidden = Boolean(answer);
  if (!answer) {
    out.textContent = "–";
    $("prediction-sure").textContent = "";
    list.replaceChildren();
    return;
  }
  out.textContent = String(answer.label);
  $("prediction-sure").textContent = t("dg.answer.sure", { pct: fmt(100 * answer.probabilities[answer.label], 1) });
  if (list.children.length !== answer.probabilities.length) {
    list.replaceChildren(...answer.probabilities.map((_, d) => {
      const li = document.createElement("li");
      li.dataset.testid = "prob-row";
      li.dataset.digit = String(d);
      li.innerHTML = '<span class="dg-prob-digit"></span><span class="dg-bar"><span></span></span><span class="dg-prob-value"></span>';
      li.firstChild.textContent = String(d);
      return li;
    }));
  }
  answer.probabilities.forEach((p, d) => {
    const li = list.children[d];
    li.classList.toggle("top", d === answer.label);
    li.dataset.value = String(p);
    li.querySelector(".dg-bar > span").style.width = `${(100 * p).toFixed(2)}%`;
    li.querySelector(".dg-prob-value").textContent = `${fmt(100 * p, 1)}%`;
    li.setAttribute("aria-label", t("dg.prob.row", { d, pct: fmt(100 * p, 1) }));
  });
}

function paintModel() {
  if (!model) return;
  const trained = store.get("trained");
  $("model-source").textContent = trained
    ? t("dg.model.trained", { acc: fmt(100 * trained.test_accuracy, 1) })
    : t("dg.model.bundled", { seed: model.seed, n: model.train_size, m: model.test_size,
                               acc: fmt(100 * model.test_accuracy, 1) });
  $("model-source").dataset.model = trained ? "trained" : "bundled";
  $("use-bundled").hidden = !trained;
}

function paintLayers() {
  $("layers-empty").hidden = Boolean(answer);
  $("layers").hidden = !answer;
  if (!answer) return;
  const n = net();
  const panel = $("cell-math");
  if (panel.parentElement === $("layers")) $("layers").after(panel); // a rebuild must not take it away
  layers.build(layerRows());
  layers.paint([
    { name: "input", shape: model.input_shape, output: n.input, range: [0, 1] },
    ...answer.layers.map((l) => ({ name: l.name, shape: l.output_shape, output: l.output, params: l.params,
                                   macs: l.macs, range: l.range })),
  ]);
}

/** The sources of a cell: the cells of the layer before it that it reads. */
function sourcesOf(info) {
  if (info.kind === "conv") {
    return info.channels.flatMap((ch) => ch.window.flatMap((row, kr) => row.map((v, kc) => (v === null ? null : {
      name: info.beforeName,
      coords: [info.coords[0] - 1 + kr, info.coords[1] - 1 + kc, ch.ch],
    })))).filter(Boolean);
  }
  if (info.kind === "pool") {
    return info.window.flatMap((row, i) => row.map((_, j) => ({
      name: info.beforeName, coords: [info.origin[0] + i, info.origin[1] + j, info.channel] })));
  }
  if (info.kind === "flatten") return [{ name: info.beforeName, coords: info.from }];
  if (info.kind === "dense") return info.inputs.map((_, j) => ({ name: info.beforeName, coords: [j] }));
  return [];
}

function paintMath() {
  const panel = $("cell-math");
  const cell = store.get("cell");
  let info = null;
  if (answer && cell) {
    try {
      info = computeCell(net(), cell.name, cell.coords);
    } catch {
      info = null; // a cell from a link that this network does not have
    }
  }
  if (!info || info.kind === "other" || info.server === undefined && info.kind !== "input") {
    panel.hidden = true;
    layers.mark(null, []);
    return;
  }
  const article = layers.article(cell.name);
  if (article && article.nextElementSibling !== panel) article.after(panel);
  $("cell-math-title").textContent = titleOf(info);
  paintCell($("cell-math-body"), info);
  panel.dataset.layer = cell.name;
  panel.dataset.coords = cell.coords.join(",");
  panel.hidden = false;
  layers.mark(cell, sourcesOf(info));
}

function paintAll() {
  paintReduction();
  paintAnswer();
  paintLayers();
  paintMath();
  paintModel();
  mirror();
}

// ---- talking to the server ----

function showError(text) {
  const box = $("digits-error");
  box.textContent = text || "";
  box.hidden = !text;
}

let inflight = 0;      // predict requests not yet answered (superseded ones included)
let scheduled = false; // a debounced predict is waiting

/** Busy while a prediction is due or on its way, so tests and screen readers know. */
function markBusy() {
  page.setAttribute("aria-busy", String(inflight > 0 || scheduled || !model));
}

async function predict() {
  scheduled = false;
  if (!model) return;
  let body;
  if (!pad.isEmpty()) body = { drawing: pad.ink() };
  else if (linkPixels) body = { pixels: linkPixels };
  else {
    latest.abort();
    answer = null;
    paintAll();
    markBusy();
    return;
  }
  const trained = store.get("trained");
  if (trained) body.weights = trained.weights;
  inflight += 1;
  markBusy();
  try {
    answer = await latest((signal) => api.digitsPredict(body, { signal }));
    showError(null);
    paintAll();
  } catch (err) {
    if (api.isAbort(err)) return;
    showError(err.status === 0 ? t("dg.error.network") : t("dg.error.predict", { msg: err.message }));
  } finally {
    inflight -= 1;
    markBusy();
  }
}
const predictSoon = debounce(predict, 120);
function predictLater() {
  scheduled = true;
  markBusy();
  predictSoon();
}

const pad = createPad($("draw-canvas"), {
  onInk: () => {
    linkPixels = null;
    $("draw-caption").textContent = t("dg.draw.caption");
    predictLater();
  },
  onStroke: () => predictSoon.flush(),
});

$("clear-drawing").addEventListener("click", () => {
  pad.clear();
  linkPixels = null;
  predictSoon.cancel();
  scheduled = false;
  store.set({ cell: null });
  predict();
});
$("close-math").addEventListener("click", () => store.set({ cell: null }));
$("use-bundled").addEventListener("click", () => store.set({ trained: null }));

const trainer = new Trainer({ onTrained: (run) => store.set({ trained: run }) });
const learner = new KernelLearner();

store.on("change:cell", () => { paintMath(); mirror(); });
store.on("change:trained", () => {
  paintModel();
  trainer.kernels(weights().conv2d?.[0]);
  predict();
});
document.addEventListener("langchange", () => {
  layers.key = null;
  if (linkPixels && pad.isEmpty()) $("draw-caption").textContent = t("dg.from_link");
  paintAll();
});
document.addEventListener("themechange", () => paintReduction());
// A student's copy in a live room follows the teacher's digit and cell without reloading.
onFollow((query) => {
  const params = new URLSearchParams(query);
  linkPixels = pixelsFromQuery(params.get("px"));
  if (linkPixels) pad.setBackground(linkPixels);
  else pad.clear();
  store.set({ cell: cellFromQuery(params.get("cell")) });
  predict();
  return true;
});

async function init() {
  applyI18n(); // this page's strings arrived after base.html labelled the page
  learner.load();
  const params = new URLSearchParams(location.search);
  linkPixels = pixelsFromQuery(params.get("px"));
  const cell = cellFromQuery(params.get("cell"));
  if (linkPixels) {
    pad.setBackground(linkPixels);
    $("draw-caption").textContent = t("dg.from_link");
  }
  if (cell) store.set({ cell });
  try {
    model = await api.digitsModel();
  } catch (err) {
    showError(t("dg.error.model", { msg: err.message }));
    page.setAttribute("aria-busy", "false");
    return;
  }
  paintModel();
  trainer.kernels(model.weights.conv2d?.[0]);
  page.dataset.ready = "true";
  await predict();
  markBusy();
}

init();

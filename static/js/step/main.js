// The step page: one store, the model derived from it, the stage, playback, keyboard, editor,
// share link with QR code, export. Hover and pins take priority over the animation.
import "./strings.js";
import * as api from "../api.js";
import { applyI18n, t, fmt, getLang } from "../i18n.js";
import { createStore, debounce } from "../state.js";
import { isProjector, setProjector } from "../theme.js";
import { buildModel, frameAt, requestBody, sceneWindow, MAX_FRAMES } from "./model.js";
import { buildStage } from "./stage.js";
import { describe, planeShape, shapeOf, valueAt } from "../geometry.js";
import { frameFormula, channelFormulas, positionText } from "./formula.js";
import {
  PRESETS, normalize, presetScene, matchPreset, sceneDims, sceneFromQuery, sceneToQuery,
} from "./scenes.js";
import { initEditor } from "./editor.js";
import { initShare } from "./share.js";
import { mountIdeas } from "./ideas.js";
import { buildScatter } from "./scatter.js";
import {
  cellFormula, scatterFormula, transposedAxes, transposedBody, transposedFix, transposedFormula,
} from "./transposed.js";
import { TRANSPOSED_PRESETS, axesToText, forwardScene } from "./scenes.js";
import { onFollow } from "../live/follow.js";

const SPEEDS = [0.5, 1, 2, 4, 8, 16];
const ICON_PLAY = '<svg viewBox="0 0 24 24" width="1.1em" height="1.1em" aria-hidden="true"><path d="M7 4.5v15L19.5 12z" fill="currentColor"/></svg>';
const ICON_PAUSE = '<svg viewBox="0 0 24 24" width="1.1em" height="1.1em" aria-hidden="true"><path d="M6 5h4v14H6zM14 5h4v14h-4z" fill="currentColor"/></svg>';
const $ = (sel, root = document) => root.querySelector(sel);
const byId = (id) => $(`[data-testid="${id}"]`);

const initial = sceneFromQuery(location.search);
const VIEWS = ["scatter", "gather"];
const initialView = new URLSearchParams(location.search).get("view");
const store = createStore({
  scene: initial.scene, frame: initial.frame, playing: false, speed: 1,
  hover: null, pin: null, weight: null,
  // a transposed convolution's view: input cells stamping (scatter) or the direct convolution (gather)
  view: VIEWS.includes(initialView) ? initialView : "scatter",
});

let model = null; // the model on the stage (for a transposed scene: the view shown)
let tmodel = null; // a transposed scene's two views
let ideas = null; // "why convolution" and dropout, redrawn for every scene
let stage = null;
let loadSeq = 0;

// ---- derived view ----

function shownIndex() {
  const { pin, hover, frame } = store.get();
  const cell = pin || hover;
  if (model && model.view === "scatter") return frame; // hover lights stamps, the step stays
  if (cell && model) return frameAt(model, cell[0], cell.slice(1));
  return frame;
}

function render() {
  if (!model || !stage) return;
  const s = store.get();
  const progress = Math.min(s.frame, model.total - 1);
  const frame = model.frames[Math.min(shownIndex(), model.total - 1)];
  stage.update({ frame, progress, weight: s.weight, hover: s.hover, pinned: s.pin });
  let text;
  if (model.view === "scatter") {
    const cell = s.pin || s.hover;
    text = cell && cell[0] === frame.map ? cellFormula(model, model.frameOf(cell[0], cell.slice(1))) : scatterFormula(model, frame);
  } else {
    text = frameFormula(model, frame);
  }
  const formulaBox = byId("frame-formula");
  formulaBox.textContent = text;
  // A three-channel sum has 27 products: smaller type keeps the stage on screen.
  formulaBox.classList.toggle("st-long", text.length > 150);
  const lines = channelFormulas(model, frame);
  byId("channel-formulas").replaceChildren(...lines.map((line, c) => {
    const li = document.createElement("li");
    li.textContent = `${t("st.channel", { c })}: ${line}`;
    return li;
  }));
  byId("hover-note").textContent = noteText(s, frame);
  const scrub = byId("scrubber");
  scrub.max = String(model.total - 1);
  scrub.value = String(progress);
  byId("frame-counter").textContent = t("st.frame", { i: progress + 1, n: model.total });
  const play = byId("play");
  play.innerHTML = s.playing ? ICON_PAUSE : ICON_PLAY;
  play.setAttribute("aria-pressed", String(s.playing));
  play.setAttribute("aria-label", t(s.playing ? "st.pause" : "st.play"));
  play.title = t(s.playing ? "st.pause" : "st.play");
  const select = byId("filter-select");
  if (model.maps > 1) select.value = String(frame.map);
  document.querySelectorAll("[data-scene]").forEach((b) => {
    b.setAttribute("aria-pressed", String(b.dataset.scene === matchPreset(s.scene)));
  });
  keepSceneInView(document.querySelector('.st-scene-list [aria-pressed="true"]'));
}

// On a phone the scenes are one row that scrolls inside itself: keep the chosen one in sight
// (without scrolling the page, which scrollIntoView would do).
let sceneInView = null;
function keepSceneInView(chip) {
  if (!chip || chip === sceneInView) return;
  sceneInView = chip;
  const list = chip.parentElement;
  if (list.scrollWidth <= list.clientWidth) return;
  const box = list.getBoundingClientRect();
  const r = chip.getBoundingClientRect();
  if (r.left < box.left || r.right > box.right) list.scrollLeft += r.left - box.left - 8;
}

function noteText(s, frame) {
  if (model.op === "transposed") {
    if (s.pin) return t("st.pinned", { pos: positionText(s.pin.slice(1)) });
    return t(model.view === "scatter" ? "st.t.hint.scatter" : "st.t.hint.gather");
  }
  if (s.weight && model.op === "conv") {
    const slice = model.kernelOf(frame.map)[model.channelsOf(frame.map).indexOf(s.weight.c)];
    const w = slice === undefined ? undefined : valueAt(slice, s.weight.tap);
    return t("st.weight", { w: fmt(w), pos: positionText(s.weight.tap), n: model.P });
  }
  if (s.pin) return t("st.pinned", { pos: positionText(s.pin.slice(1)) });
  if (model.op === "max") return `${t("st.winner")}. ${t("st.hover.hint.pool")}`;
  if (model.op !== "conv") return t("st.hover.hint.pool");
  return t("st.hover.hint");
}

/** Names of the spatial axes of an input with `nd` of them (1-D: its length). */
function axisNames(nd) {
  const keys = { 1: ["st.axis.length"], 2: ["st.axis.rows", "st.axis.cols"], 3: ["st.axis.depth", "st.axis.rows", "st.axis.cols"] }[nd];
  return keys.map((k) => t(k));
}

function renderShape() {
  const box = byId("shape-formula");
  if (!model) return;
  if (model.op === "transposed") {
    renderTransposedShape(box);
    return;
  }
  const names = axisNames(model.nd);
  const lines = model.axes.map((a, i) => {
    const size = model.oshape[i];
    const [before, after] = model.pads[i];
    const round = a.ceilMode ? "⌈" : "⌊";
    const close = a.ceilMode ? "⌉" : "⌋";
    return `${names[i]}: ${round}(${a.n} + ${before} + ${after} − ${a.d}·(${a.k} − 1) − 1) / ${a.s}${close} + 1 = ${size}`;
  });
  const head = document.createElement("span");
  head.className = "st-shape-head";
  head.textContent = `${t("st.shape")}: ${model.spatial.join("×")} → ${model.oshape.join("×")}`;
  box.replaceChildren(head, ...lines.map((line) => {
    const span = document.createElement("span");
    span.className = "st-shape-axis";
    span.textContent = line;
    return span;
  }));
}

/**
 * The transposed output size per axis with the numbers substituted, the forward convolution it
 * transposes (one click shows it) and, in the gather view, how the direct convolution is built.
 */
function renderTransposedShape(box) {
  const names = axisNames(model.nd);
  const scene = store.get("scene");
  const axes = transposedAxes(scene);
  const span = (cls, text, testid) => {
    const node = document.createElement("span");
    node.className = cls;
    node.textContent = text;
    if (testid) node.setAttribute("data-testid", testid);
    return node;
  };
  const head = span("st-shape-head", `${t("st.t.shape")}: ${model.spatial.join("×")} → ${model.oshape.join("×")}`);
  const lines = axes.map((a, i) => span("st-shape-axis", `${names[i]}: (n − 1)·s − 2·p + d·(k − 1) + output_padding + 1 = ${transposedFormula(a)}`));
  const forward = document.createElement("p");
  forward.className = "st-t-forward";
  forward.setAttribute("data-testid", "transposed-forward");
  const k = axes.map((a) => a.k).join("×");
  const one = (key) => axesToText(axes.map((a) => a[key]));
  forward.append(t("st.t.forward", {
    input: model.oshape.join("×"), k, s: one("s"), p: one("p"), d: one("d"), output: model.spatial.join("×"),
  }), " ");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn st-btn-sm";
  button.setAttribute("data-testid", "show-forward");
  button.textContent = t("st.t.forward.show");
  button.addEventListener("click", () => setScene(forwardScene(scene, model.oshape)));
  forward.append(button);
  const parts = [head, ...lines, forward];
  if (model.view === "gather") {
    const sizes = axes.map((a) => `${(a.n - 1) * a.s + 1} + ${a.reach} + ${a.reach + a.op} = ${(a.n - 1) * a.s + 1 + 2 * a.reach + a.op}`);
    const grid = sizes.every((v) => v === sizes[0]) ? sizes[0] : sizes.join("; ");
    parts.push(span("st-t-gather", t("st.t.gather.how", {
      zeros: axesToText(axes.map((a) => a.s - 1)), before: axesToText(axes.map((a) => a.reach)),
      after: axesToText(axes.map((a) => a.reach + a.op)), grid,
    }), "gather-explain"));
  }
  box.replaceChildren(...parts);
}

/** Show the transposed scene's view `view` ("scatter" or "gather") on the stage. */
function showView(view) {
  document.querySelectorAll("[data-view]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.view === view)));
  if (!tmodel) return;
  model = tmodel.views[view];
  stage = view === "scatter" ? buildScatter(byId("stage"), model, gestures) : buildStage(byId("stage"), model, gestures);
  const export_ = document.querySelectorAll("[data-format]");
  export_.forEach((b) => { b.title = t(`st.t.export.${view}`); });
  if (store.get("frame") >= model.total) store.set({ frame: model.total - 1 });
  renderShape();
  render();
  fitCells();
}

// ---- sizing: cells as large as the stage allows ----

function fitCells() {
  if (!model) return;
  const host = byId("stage");
  const width = host.clientWidth || 900;
  // Sizes in cells of what the stage draws: a 3-D array is its slices side by side, with a
  // gap and a caption line; a 1-D one is a single row (geometry.planeShape).
  const drawn = (shape) => {
    const p = planeShape(shape);
    return { w: p.slices * p.cols + (p.slices - 1) * 0.7, h: p.rows + (p.slices > 1 ? 0.8 : 0) };
  };
  const inp = drawn(model.padded ? shapeOf(model.padded[0]).slice(0, model.nd) : model.spatial);
  const ker = drawn(model.kshape);
  const out = drawn(model.oshape);
  const conv = model.op === "conv" || Boolean(model.transposed);
  const multi = conv && model.C > 1;
  const projector = isProjector();
  // A phone (the stylesheet's 560 px breakpoint): the result wraps under the input and several
  // channels stand one per line; readable digits beat seeing it all, the page scrolls down and a
  // wide stage scrolls inside its own box.
  const narrow = window.matchMedia("(max-width: 560px)").matches;
  const max = projector ? 112 : 76;
  const min = projector ? 24 : (narrow ? 24 : 18);
  // Height: what is left of the window below the stage's top once the formula and the
  // controls are counted, so a projector shows the window and its sum without scrolling.
  const top = host.getBoundingClientRect().top + window.scrollY;
  const below = ($(".st-formula-box")?.offsetHeight || 120) + ($(".st-controls")?.offsetHeight || 50) + 56;
  let heightBudget = Math.max(window.innerHeight - top - below, window.innerHeight * 0.35);
  // On a laptop readable digits beat seeing everything at once: the page may scroll.
  if (!projector && !document.fullscreenElement) heightBudget = Math.max(heightBudget, window.innerHeight * 0.7);
  if (narrow) heightBudget = Math.max(heightBudget, window.innerHeight * 1.5);
  const fit = (wide, high) => Math.floor(Math.min(width / wide, heightBudget / high));

  let across;
  let tall;
  let beside = false;
  if (model.view === "scatter") {
    // inputs and kernel slices in rows, the uncut output beside them
    const full = drawn(model.fullShape);
    const line = Math.max(inp.h, ker.h) + 1.2;
    across = inp.w + ker.w + full.w + 7;
    tall = Math.max(model.C * line, full.h + 1.5) + 1.5;
  } else if (model.nd !== 2) {
    // A signal or a volume: one line per channel (input ⊙ kernel, its partial sum), the result
    // under them; a signal's outputs stand under their windows, spaced by the stride (stage.js).
    const a = model.axes[0];
    const outAcross = model.nd === 1 ? (a.window - 1) / 2 + out.w * a.s : out.w;
    const lineAcross = inp.w + (conv ? ker.w + 2.4 : 5) + (multi ? out.w + 1.6 : 0);
    across = Math.max(lineAcross, outAcross) + 1;
    const line = Math.max(inp.h, conv ? ker.h : 0) + 1.1;
    const results = (out.h + 1.2) * (model.activation && conv ? 2 : 1);
    tall = model.C * line + results + 1.5;
    // A volume's result may stand beside the slices instead, when that gives bigger cells
    // (a short projector screen has width to spare and little height).
    if (model.nd === 3) {
      const wide = lineAcross + out.w + 2.5;
      const high = Math.max(model.C * line, results) + 1.5;
      if (fit(wide, high) > fit(across, tall)) [across, tall, beside] = [wide, high, true];
    }
  } else if (narrow) {
    // One line per channel (input ⊙ kernel, the partial sum wrapping under it), the result
    // under the channels.
    const outAcross = out.w * (multi ? 1.4 : 1) * (model.maps > 1 ? 1.6 : 1) + 1;
    across = Math.max(inp.w + (conv ? ker.w + 3 : 6), outAcross);
    tall = multi
      ? model.C * (Math.max(inp.h, ker.h) + out.h + 2.5) + out.h * 1.4 + 3
      : inp.h + out.h * (model.maps > 1 ? 2 : 1) + 4;
  } else {
    // Several channels stand in columns (input, kernel slice, partial sum under each other),
    // the result beside them; one channel reads left to right: input, kernel, output.
    // In projector mode each kernel slice stands beside its input (see the stylesheet).
    const side = multi && projector && window.matchMedia("(min-width: 1500px)").matches;
    across = multi
      ? model.C * (inp.w + (side ? ker.w + 2.2 : 1.2)) + out.w * 1.6 + 2
      : inp.w + (conv ? ker.w + 3 : 5) + out.w * (model.maps > 1 ? 1.6 : 1) + 2;
    tall = multi
      ? (side ? Math.max(inp.h, ker.h) + out.h + 3 : inp.h + ker.h + out.h + 4.5)
      : Math.max(inp.h, out.h * (model.maps > 1 ? 2 : 1)) + 2;
  }
  host.querySelector(".st-stage")?.classList.toggle("st-beside", beside);
  const cell = Math.max(min, Math.min(max, fit(across, tall)));
  host.style.setProperty("--st-cell", `${cell}px`);
  // The result is what the class watches: give it more room when it sits beside small slices.
  const outCell = multi && model.nd === 2 ? Math.min(max, Math.round(cell * 1.4)) : cell;
  host.style.setProperty("--st-out-cell", `${outCell}px`);
}

// ---- loading ----

async function load() {
  const seq = ++loadSeq;
  const scene = store.get("scene");
  const page = byId("step-page");
  page.setAttribute("aria-busy", "true");
  byId("step-status").textContent = t("st.loading");
  showError(null);
  try {
    const next = await buildModel(scene);
    if (seq !== loadSeq) return;
    if (next.tooMany) {
      showError(t("st.error.too_many", { n: next.tooMany, max: MAX_FRAMES }));
      return;
    }
    tmodel = next.op === "transposed" ? next : null;
    model = tmodel ? next.views[store.get("view")] : next;
    byId("transposed-views").hidden = !tmodel;
    if (tmodel) byId("transposed-scenes").open = true;
    document.querySelectorAll("[data-view]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.view === store.get("view"))));
    if (tmodel && model.view === "scatter") stage = buildScatter(byId("stage"), model, gestures);
    else stage = buildStage(byId("stage"), model, gestures);
    const select = byId("filter-select");
    select.replaceChildren(...Array.from({ length: model.maps }, (_, f) => {
      const o = document.createElement("option");
      o.value = String(f);
      o.textContent = `#${f}`;
      return o;
    }));
    byId("filter-picker").hidden = model.maps < 2;
    // The animation export draws signals and matrices, not volumes: say so instead of failing.
    document.querySelectorAll("[data-format]").forEach((b) => {
      b.disabled = model.nd > 2;
      b.title = model.nd > 2 ? t("st.export.flat_only") : "";
    });
    if (store.get("frame") >= model.total) store.set({ frame: model.total - 1 });
    renderShape();
    render();
    fitCells();
    ideas.update(model);
    byId("step-status").textContent = "";
  } catch (err) {
    if (seq !== loadSeq || api.isAbort(err)) return;
    showError(explainApiError(err, scene), err.status ? err.message : null);
    byId("step-status").textContent = "";
  } finally {
    if (seq === loadSeq) page.setAttribute("aria-busy", "false");
  }
}

/**
 * Show `message` (in the user's language); `detail` is the server's own English words, folded
 * under it so a Russian page never leads with English.
 */
function showError(message, detail = null) {
  const box = byId("step-error");
  box.hidden = !message;
  box.replaceChildren(message || "");
  if (message && detail && detail !== message) {
    const more = document.createElement("details");
    more.className = "st-error-more";
    const summary = document.createElement("summary");
    summary.textContent = t("pg.server_detail");
    const text = document.createElement("span");
    text.className = "error-detail";
    text.setAttribute("data-testid", "step-error-detail");
    text.textContent = detail;
    more.append(summary, text);
    box.append(more);
  }
}

/** One sentence about a refused scene, from the error envelope and the local geometry. */
function explainApiError(err, scene) {
  if (!err.status) return err.message || String(err);
  if (scene.op === "transposed") {
    const fix = transposedFix(scene);
    if (fix) {
      const names = axisNames(sceneDims(scene));
      const formulas = transposedAxes(scene).map((a, i) => `${names[i]}: ${transposedFormula(a)}`).join("; ");
      const key = fix.field === "output_padding" ? "st.t.error.output_padding" : "st.t.error.empty";
      return t(key, { most: fix.most, value: fix.value, formulas });
    }
  }
  if (err.code === "output_size" && scene.input?.[0]) {
    const nd = sceneDims(scene);
    const win = sceneWindow(scene);
    const axes = describe({
      spatial: shapeOf(scene.input[0]).slice(0, nd), kernel: win.kernel, stride: win.stride,
      padding: win.padding, dilation: win.dilation,
    });
    const i = axes.findIndex((a) => a.size < 1);
    if (i >= 0) {
      const a = axes[i];
      return t("st.error.empty", {
        axis: axisNames(nd)[i], window: a.window, padded: a.n + a.before + a.after,
      });
    }
  }
  const field = (err.field || "").split(".")[0];
  const label = { stride: "st.setup.stride", padding: "st.setup.padding", dilation: "st.setup.dilation",
    kernel: "st.setup.kernel", bias: "st.setup.bias", groups: "st.setup.groups", input: "st.setup.input",
    kernel_size: "st.setup.pool", padding_mode: "st.setup.mode", output_padding: "st.setup.output_padding" }[field];
  return label ? t("st.error.field", { field: t(label) }) : t("st.error.refused");
}

// ---- gestures from the stage ----

const gestures = {
  hoverCell(cell) { store.set({ hover: cell }); },
  clickCell(cell) {
    const pin = store.get("pin");
    const same = pin && pin.every((v, i) => v === cell[i]);
    store.set({ pin: same ? null : cell });
  },
  hoverWeight(w) { store.set({ weight: w }); },
  tapWeight(w) {
    const cur = store.get("weight");
    const same = cur && cur.c === w.c && cur.tap.every((v, i) => v === w.tap[i]);
    store.set({ weight: same ? null : w, hover: null });
  },
  pickMap(f) { goTo(f * model.P + (store.get("frame") % model.P)); },
};

// ---- playback ----

let timer = null;

function goTo(index) {
  if (!model) return;
  store.set({ frame: Math.max(0, Math.min(model.total - 1, index)) });
}

function step(delta) {
  store.set({ playing: false, pin: null });
  goTo(store.get("frame") + delta);
}

function togglePlay() {
  if (!model) return;
  const playing = !store.get("playing");
  if (playing && store.get("frame") >= model.total - 1) store.set({ frame: 0 });
  store.set({ playing, pin: null });
}

function schedule() {
  clearTimeout(timer);
  timer = null;
  if (!store.get("playing") || !model) return;
  timer = setTimeout(() => {
    const next = store.get("frame") + 1;
    if (next >= model.total) store.set({ playing: false });
    else store.set({ frame: next });
  }, 1000 / store.get("speed"));
}

function changeSpeed(direction) {
  const i = SPEEDS.indexOf(store.get("speed"));
  const next = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, (i < 0 ? 1 : i) + direction))];
  store.set({ speed: next });
}

function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen?.();
  else document.documentElement.requestFullscreen?.().catch(() => {});
}

function toggleHelp(force) {
  const dlg = byId("help-overlay");
  const open = force ?? !dlg.open;
  if (open && !dlg.open) dlg.showModal();
  if (!open && dlg.open) dlg.close();
}

const ACTIVATABLE = "button, a[href], select, summary, input, textarea, [role=button], [role=link], [contenteditable=true]";

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const tag = e.target && e.target.tagName;
  const typing = tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && e.target.type !== "range" && e.target.type !== "checkbox");
  if (typing) return;
  // Sliders and check boxes of their own (dropout's p, ceil mode) keep their keys.
  const input = tag === "INPUT" ? e.target : null;
  if (input && input.type === "range" && input.dataset.testid !== "scrubber") return;
  // A focused control owns Space and Enter (a button presses, a link follows, a select opens),
  // so the page's play shortcut must not fire on top of it. A slider has no such action.
  const activates = e.key === " " || e.key === "Spacebar" || e.key === "Enter";
  if (activates && e.target instanceof Element && !(input && input.type === "range")
    && e.target.closest(ACTIVATABLE)) return;
  const shareOpen = byId("share-dialog").open;
  if (shareOpen && e.key !== "Escape") return;
  const key = e.key;
  let handled = true;
  if (key === " " || key === "Spacebar") togglePlay();
  else if (key === "ArrowRight" || key === "ArrowDown") step(1);
  else if (key === "ArrowLeft" || key === "ArrowUp") step(-1);
  else if (key === "Home") step(-Infinity);
  else if (key === "End") step(Infinity);
  else if (key === "+" || key === "=" || e.code === "NumpadAdd") changeSpeed(1);
  else if (key === "-" || key === "_" || key === "−" || e.code === "NumpadSubtract") changeSpeed(-1);
  else if (e.code === "KeyP") setProjector(!isProjector());
  else if (e.code === "KeyF") toggleFullscreen();
  else if (key === "?" || (e.code === "Slash" && e.shiftKey)) toggleHelp();
  else if (key === "Escape") {
    store.set({ pin: null });
    toggleHelp(false);
    handled = false; // let the dialog close itself too
  } else handled = false;
  if (handled) e.preventDefault();
}

// ---- export ----

async function exportAnimation(format, button) {
  if (!model) return;
  const scene = store.get("scene");
  const body = { ...requestBody(scene), format, fps: Math.max(1, store.get("speed")) };
  if (scene.op === "max" || scene.op === "avg") body.op = "pool";
  if (scene.op === "transposed") Object.assign(body, transposedBody(scene), { view: store.get("view") });
  const status = byId("step-status");
  button.disabled = true;
  status.textContent = t("st.export.busy");
  try {
    const blob = scene.op === "transposed" ? await api.convTransposeAnimation(body) : await api.framesAnimation(body);
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    const suffix = scene.op === "transposed" ? `-${store.get("view")}` : "";
    a.download = `svertka-${matchPreset(scene) || "scene"}${suffix}.${format}`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    status.textContent = "";
  } catch (err) {
    showError(err.message || String(err));
    status.textContent = "";
  } finally {
    button.disabled = false;
  }
}

// ---- URL ----

const syncUrl = debounce(() => {
  const s = store.get();
  const query = sceneToQuery(s.scene, { frame: s.frame }) + viewQuery(s);
  const keep = new URLSearchParams(location.search).get("theme");
  const url = `${location.pathname}?${query}${keep ? `&theme=${keep}` : ""}`;
  history.replaceState(null, "", url);
}, 150);

/** "&view=gather" for a transposed scene in its gather view (scatter is the default). */
function viewQuery(s) {
  return s.scene.op === "transposed" && s.view !== "scatter" ? `&view=${s.view}` : "";
}

export function shareUrl() {
  const s = store.get();
  return `${location.origin}${location.pathname}?${sceneToQuery(s.scene, { frame: s.frame })}${viewQuery(s)}`;
}

// ---- wiring ----

function buildSceneButtons() {
  const list = byId("scene-list");
  const button = (name) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn st-scene";
    b.dataset.scene = name;
    // "lesson-" keeps the ids apart from the setup form's fields ("scene-dilation")
    b.setAttribute("data-testid", `lesson-${name}`);
    b.dataset.i18n = `st.scene.${name}`;
    b.textContent = t(`st.scene.${name}`);
    b.addEventListener("click", () => setScene(presetScene(name)));
    return b;
  };
  const plain = Object.keys(PRESETS).filter((name) => !TRANSPOSED_PRESETS.includes(name));
  list.replaceChildren(...plain.map(button));
  byId("scene-list-transposed").replaceChildren(...TRANSPOSED_PRESETS.map((name) => {
    const b = button(name);
    b.title = t(`st.scene.${name}.forward`);
    return b;
  }));
}

export function setScene(scene) {
  store.set({ scene: normalize(scene), frame: 0, playing: false, pin: null, hover: null, weight: null });
}

function init() {
  applyI18n(); // base.html labelled the page before this page's strings were registered
  buildSceneButtons();
  byId("play").addEventListener("click", togglePlay);
  byId("step-forward").addEventListener("click", () => step(1));
  byId("step-back").addEventListener("click", () => step(-1));
  byId("scrubber").addEventListener("input", (e) => {
    store.set({ playing: false, pin: null });
    goTo(Number(e.target.value));
  });
  const speed = byId("speed");
  speed.addEventListener("change", () => store.set({ speed: Number(speed.value) }));
  byId("filter-select").addEventListener("change", (e) => gestures.pickMap(Number(e.target.value)));
  document.querySelectorAll("[data-format]").forEach((b) => {
    b.addEventListener("click", () => exportAnimation(b.dataset.format, b));
  });
  byId("fullscreen").addEventListener("click", toggleFullscreen);
  document.querySelectorAll("[data-view]").forEach((b) => {
    b.addEventListener("click", () => store.set({ view: b.dataset.view, pin: null, hover: null, playing: false }));
  });
  byId("help").addEventListener("click", () => toggleHelp(true));
  document.querySelectorAll("dialog [data-close]").forEach((b) => {
    b.addEventListener("click", () => b.closest("dialog").close());
  });
  document.addEventListener("keydown", onKey);
  document.addEventListener("fullscreenchange", () => {
    document.documentElement.toggleAttribute("data-fullscreen", Boolean(document.fullscreenElement));
    fitCells();
  });
  document.addEventListener("themechange", fitCells);
  window.addEventListener("resize", debounce(fitCells, 100));
  document.addEventListener("langchange", () => {
    buildSceneButtons();
    if (model) {
      if (model.view === "scatter") stage = buildScatter(byId("stage"), model, gestures);
      else stage = buildStage(byId("stage"), model, gestures);
      renderShape();
      render();
      ideas.relabel();
    }
  });

  store.on("change:scene", () => { load(); });
  store.on("change:view", ({ value }) => { showView(value); syncUrl(); });
  store.on("change", ({ keys }) => {
    if (keys.includes("speed")) byId("speed").value = String(store.get("speed"));
    if (keys.includes("playing") || keys.includes("frame") || keys.includes("speed")) schedule();
    if (keys.includes("scene") || keys.includes("frame")) syncUrl();
    if (!keys.includes("scene")) render();
  });

  initEditor({ store, setScene, getModel: () => model, showError });
  initShare({ getUrl: shareUrl });
  ideas = mountIdeas();
  // A student's copy of this page (live room) follows the teacher's scene and frame in place.
  onFollow((query) => {
    const next = sceneFromQuery(query);
    store.set({ scene: next.scene, frame: next.frame, playing: false, pin: null, hover: null });
  });
  load();
}

init();
// Exposed for tests and for the console: the store and the current model.
window.svertkaStep = { store, getModel: () => model, lang: getLang };

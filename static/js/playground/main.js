// The playground page: one store, the views that listen to it, and the compute loop that turns
// the state into a feature map (debounced, the previous request cancelled, never blank).

import * as api from "../api.js";
import { createStore, debounce } from "../state.js";
import { fmt, t } from "../i18n.js";
import { describe } from "../geometry.js";
import {
  DEFAULTS, axesValue, displaySpec, filterOf, fromQuery, paddingValue, poolSpec, recommendedDisplay, renderBody, stripBody,
  toQuery,
} from "./model.js";
import { as2d, mountKernel, presetKernel } from "./kernel.js";
import { loadPixels, mountImagePicker } from "./image.js";
import { mountControls } from "./controls.js";
import { drawOutputOverlay, paddedImage, paintBitmap, sizeCanvas } from "./views.js";
import { paintStrip } from "./strip.js";
import { explainError, story } from "./explain.js";
import { describeFix, suggestFix } from "./fix.js";
import { mountCursor } from "./cursor.js";
import { isProjector, setProjector } from "../theme.js";

const $ = (id) => document.getElementById(id);
const COMPUTE_KEYS = [
  "imageId", "res", "color", "kmode", "kernels", "bias", "flip", "padding", "padAmount",
  "paddingMode", "stride", "dilation", "activation", "slope", "pool", "poolSize", "poolStride", "poolPad",
  "display",
];

const store = createStore({ ...DEFAULTS, ...fromQuery(location.search), imageId: null, orig: null });
window.svertka = { store }; // handy in the console and for tests

// ---- things computed from the server's answers (not user state) ----
const live = {
  pixels: null,        // {width, height, rgba} of the working-size input
  pixelsKey: "",
  out: null,           // {rows, cols, filters} of the drawn map
  scale: 1,
  hover: null,         // output cell under the pointer (takes priority over the pinned one)
  ok: false,           // the map on screen matches the current settings
};

// ---- geometry of the current settings (recomputed, never stored) ----
function geometryOf(state) {
  if (!live.pixels) return null;
  const k = state.kernels[0];
  const spatial = [live.pixels.height, live.pixels.width];
  const conv = describe({
    spatial, kernel: [k.length, k[0].length], stride: axesValue(state.stride),
    padding: paddingValue(state), dilation: axesValue(state.dilation),
  });
  let pool = null;
  const spec = poolSpec(state);
  if (spec) {
    pool = describe({
      spatial: conv.map((a) => Math.max(a.size, 0)), kernel: [spec.kernel_size, spec.kernel_size],
      stride: spec.stride, padding: spec.padding || 0, dilation: 1,
    });
  }
  return { conv, pool, spatial };
}

/** Padding as drawn around the input: an absurd or half-typed value must not stall the page. */
function displayPads(geo) {
  const cap = (v) => (Number.isFinite(v) ? Math.min(Math.max(Math.round(v), 0), 256) : 0);
  return geo.conv.map((a) => [cap(a.before), cap(a.after)]);
}

// ---- layout: one scale for both pictures ----
function computeScale(geo) {
  const box = $("input-box");
  const padded = displayPads(geo).map(([b, a], i) => geo.conv[i].n + b + a);
  const availW = Math.max(box.clientWidth - 26, 80);
  // The stylesheet says how much of the window one picture may take (less when they stack).
  const share = parseFloat(getComputedStyle($("views")).getPropertyValue("--view-h")) || 0.56;
  const availH = Math.max(window.innerHeight * share - 40, 180);
  const s = Math.min(availW / padded[1], availH / padded[0]);
  // Whole pixels when enlarging a lot keep every input pixel the same size on screen.
  return s >= 4 ? Math.floor(s) : Math.floor(s * 100) / 100;
}

// ---- painting the input ----
function paintInput() {
  const state = store.get();
  const geo = geometryOf(state);
  if (!geo) return;
  live.scale = computeScale(geo);
  const pads = displayPads(geo);
  const img = paddedImage(live.pixels, pads, state.paddingMode, state.color === "gray");
  const canvas = $("input-canvas");
  sizeCanvas(canvas, $("input-overlay"), img.width, img.height, live.scale);
  canvas.getContext("2d").putImageData(img, 0, 0);
  const chan = state.color === "gray" ? 1 : 3;
  const padNote = pads.some(([b, a]) => b || a)
    ? ` · ${t("pg.padding")}: ${pads.map(([b, a]) => `${b}+${a}`).join(", ")}` : "";
  $("input-meta").textContent = `${chan} × ${live.pixels.height} × ${live.pixels.width}${padNote}`;
  $("input-caption").textContent = t("pg.shown_at", { w: live.pixels.width, h: live.pixels.height })
    + (padNote ? ` · ${t("pg.input.padded_note")}` : "");
  cursor?.paintOverlays();
}

// ---- shape and formulas ----
function paintShape() {
  const state = store.get();
  const geo = geometryOf(state);
  const list = $("formula-list");
  list.replaceChildren();
  if (!geo) return;
  const axisName = (i) => (i === 0 ? t("common.height") : t("common.width"));
  // e.g. "convolution, height:  ⌊(170 + 0 + 0 − 1·(3−1) − 1) / 1⌋ + 1 = 168"
  const add = (stage, a, i) => {
    const li = document.createElement("li");
    const s = document.createElement("span");
    s.className = "stage";
    s.textContent = `${stage}, ${axisName(i)}:`;
    // A stride of 0 divides by zero: say "?" rather than "Infinity".
    li.append(s, Number.isFinite(a.size) ? a.text : a.text.replace(/= -?Infinity$|= NaN$/, "= ?"));
    if (!(a.size >= 1) || !Number.isFinite(a.size)) li.classList.add("bad");
    list.append(li);
  };
  geo.conv.forEach((a, i) => add(t("pg.shape.conv"), a, i));
  if (geo.pool) geo.pool.forEach((a, i) => add(t("pg.shape.pool"), a, i));
  const final = geo.pool || geo.conv;
  const f = filterOf(state).filters;
  const ok = (a) => Number.isFinite(a.size) && a.size >= 1;
  $("shape-value").textContent = `${f} × ${final.map((a) => (Number.isFinite(a.size) ? a.size : "?")).join(" × ")}`;
  $("shape-value").classList.toggle("bad", !final.every(ok));
  $("shape-story").textContent = final.every(ok) && geo.conv.every(ok) ? story(state, geo) : "";
}


let cursor = null; // the under-the-cursor view, mounted once the presets are known

// ---- errors that explain themselves ----
let fix = null;
let lastChanged = []; // store keys in the order the user last touched them
function showError(err, fallbackTitle) {
  const box = $("error");
  box.hidden = false;
  box.querySelector("strong").textContent = fallbackTitle || t("pg.invalid");
  const geo = geometryOf(store.get());
  const why = explainError(err, geo);
  $("error-why").textContent = why;
  // The server's (English) words are a detail under our explanation, unless they are all we have.
  $("error-more").open = !why;
  $("error-message").textContent = err.status === 0 ? err.message : `${t("pg.server_says")} ${err.message}`;
  $("error-accepted").textContent = err.accepted ? `→ ${err.accepted}` : "";
  fix = suggestFix(err, store.get(), { geometryOf, lastChanged });
  const button = $("error-fix");
  button.hidden = !fix;
  if (fix) button.textContent = t("pg.fix", { setting: describeFix(fix) });
}
function clearError() {
  $("error").hidden = true;
  fix = null;
}

// ---- the compute loop ----
const latestMap = api.latestOnly();
const latestStrip = api.latestOnly();
const latestPixels = api.latestOnly();

async function ensurePixels(state) {
  const key = `${state.imageId}@${state.res}`;
  if (live.pixels && live.pixelsKey === key) return true;
  const px = await latestPixels((signal) => loadPixels(state.imageId, state.res, signal));
  live.pixels = px;
  live.pixelsKey = key;
  return true;
}

function setBusy(on) {
  $("output-box").classList.toggle("busy", on);
}

async function update() {
  const state = store.get();
  if (!state.imageId) {
    $("output-empty").textContent = t("pg.no_image");
    $("output-empty").hidden = false;
    return;
  }
  $("output-empty").textContent = t("pg.output.empty");
  setBusy(true);
  try {
    await ensurePixels(state);
  } catch (err) {
    if (api.isAbort(err)) return;
    setBusy(false);
    showError(err, t("common.error"));
    return;
  }
  try {
    paintInput();
    paintShape();
  } catch (err) {
    // A drawing problem must never keep the request (and its explanation) from happening.
    console.warn("[playground] could not draw the input", err);
  }
  const strip = state.color === "rgb" && state.kmode !== "depthwise";
  $("strip-panel").hidden = !strip;
  try {
    const r = await latestMap((signal) => api.convRender(renderBody(state), { signal }));
    const bitmap = await createImageBitmap(r.blob);
    const canvas = $("feature-map");
    const shape = r.shape || [1, bitmap.height, bitmap.width];
    live.out = { rows: bitmap.height, cols: bitmap.width, filters: shape.length > 2 ? shape[0] : 1 };
    sizeCanvas(canvas, $("output-overlay"), bitmap.width, bitmap.height, live.scale);
    paintBitmap(canvas, bitmap);
    $("output-stack").hidden = false;
    bitmap.close?.();
    paintLegend(r.range, displaySpec(state).mode, r.dataRange);
    $("output-meta").textContent = shape.join(" × ");
    canvas.dataset.version = String((+canvas.dataset.version || 0) + 1);
    $("output-box").classList.remove("stale");
    $("output-empty").hidden = true;
    live.drawn = `${state.imageId}@${state.res}@${state.color}`;
    live.ok = true;
    clearError();
    setBusy(false);
    cursor.clamp();
    cursor.refresh();
  } catch (err) {
    if (api.isAbort(err)) return;
    setBusy(false);
    live.ok = false;
    // Never blank: the last good map stays, dimmed, under the explanation.
    $("output-box").classList.add("stale");
    // A dimmed map of another photo would mislead: keep only one of this photo.
    const sameImage = live.drawn === `${state.imageId}@${state.res}@${state.color}`;
    if (!sameImage) {
      const canvas = $("feature-map");
      canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
      $("output-stack").hidden = true;
      $("output-meta").textContent = "";
    }
    $("output-empty").hidden = sameImage;
    drawOutputOverlay($("output-overlay"), live.scale, null);
    showError(err);
    return;
  }
  if (strip) {
    try {
      const r = await latestStrip((signal) => api.convRender(stripBody(store.get()), { signal }));
      const bitmap = await createImageBitmap(r.blob);
      paintStrip($("strip"), bitmap, r.grid);
      bitmap.close?.();
    } catch (err) {
      if (!api.isAbort(err)) $("strip").textContent = err.message;
    }
  }
}
const scheduleUpdate = debounce(update, 110);

function paintLegend(range, mode, dataRange) {
  const bar = $("legend-bar");
  if (range) { live.range = range; live.dataRange = dataRange; }
  range = live.range;
  dataRange = live.dataRange;
  bar.dataset.mode = mode;
  const [lo, hi] = range || [NaN, NaN];
  $("legend-min").textContent = fmt(lo, 1);
  $("legend-max").textContent = fmt(hi, 1);
  bar.title = t("pg.legend", { min: fmt(lo, 2), max: fmt(hi, 2) });
  // Clipping hides values outside 0..255; say how far the data really goes.
  const data = dataRange && (dataRange[0] < range[0] - 1e-6 || dataRange[1] > range[1] + 1e-6)
    ? ` ${t("pg.legend.data", { min: fmt(dataRange[0], 1), max: fmt(dataRange[1], 1) })}` : "";
  $("display-caption").textContent = t(`pg.display.caption.${mode}`) + data;
}

// ---- the URL mirrors the state ----
const writeUrl = debounce(() => {
  const q = toQuery(store.get());
  const url = `${location.pathname}${q ? `?${q}` : ""}`;
  if (url !== `${location.pathname}${location.search}`) history.replaceState(null, "", url);
}, 150);

function toast(text) {
  const el = Object.assign(document.createElement("div"), { className: "toast", textContent: text });
  el.setAttribute("role", "status");
  document.body.append(el);
  setTimeout(() => el.remove(), 2200);
}

// ---- start ----
async function start() {
  let presets = [];
  let samples = [];
  try {
    [presets, samples] = await Promise.all([api.listKernels(), api.listSamples()]);
  } catch (err) {
    showError(err, t("pg.error.samples"));
    $("error-fix").hidden = false;
    $("error-fix").textContent = t("common.retry");
    $("error-fix").onclick = () => location.reload();
    return;
  }
  presets = presets.map((p) => ({ ...p, kernel: as2d(p.kernel) }));
  const state = store.get();
  const patch = {};
  if (!presets.some((p) => p.name === state.preset)) patch.preset = presets[0]?.name || "identity";
  if (!state.kernels) {
    const k = presetKernel(presets, patch.preset || state.preset);
    patch.kernels = [k, k.map((r) => r.slice()), k.map((r) => r.slice())];
  }
  if (!new URLSearchParams(location.search).has("disp")) {
    patch.display = recommendedDisplay((patch.kernels || state.kernels)[0], state);
  }
  if (state.image) {
    patch.imageId = state.image;
    // A shared link names an upload by id only; its original size comes from the store.
    api.imageMeta(state.image).then((m) => store.set({ orig: [m.width, m.height] })).catch((err) => showError(err));
  } else {
    const s = samples.find((x) => x.name === state.sample) || samples[0];
    if (s) Object.assign(patch, { sample: s.name, imageId: s.id, orig: [s.width, s.height] });
  }
  store.set(patch);

  mountImagePicker(store, samples, { onError: (err, title) => showError(err, title) });
  mountKernel(store, presets);
  mountControls(store);
  cursor = mountCursor(store, live, { geometryOf, displayPads });

  $("error-fix").addEventListener("click", () => { if (fix) store.set(fix); });
  $("share").addEventListener("click", async () => {
    writeUrl.flush();
    try {
      await navigator.clipboard.writeText(location.href);
      toast(t("pg.share.done"));
    } catch {
      toast(location.href); // no clipboard permission: at least show the link
    }
  });

  store.on("change", ({ keys }) => {
    lastChanged = [...lastChanged.filter((k) => !keys.includes(k)), ...keys];
    writeUrl();
    if (keys.some((k) => COMPUTE_KEYS.includes(k))) {
      paintShape();
      scheduleUpdate();
    }
    if (keys.includes("selected")) cursor.schedule();
  });
  // Keyboard-only use at a projector: P switches the theme, M jumps to the map (arrows then move
  // the window), as on the step page. Never while typing in a field.
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = e.target?.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || e.target?.isContentEditable) return;
    if (e.code === "KeyP") { setProjector(!isProjector()); e.preventDefault(); }
    else if (e.code === "KeyM") {
      const canvas = $("feature-map");
      canvas.focus({ preventScroll: true });
      canvas.scrollIntoView({ block: "nearest" });
      if (!store.get().selected) store.set({ selected: [0, 0] });
      e.preventDefault();
    }
  });
  document.addEventListener("langchange", () => {
    paintShape();
    if (live.pixels) paintInput();
    paintLegend(null, displaySpec(store.get()).mode);
    scheduleUpdate();
  });
  document.addEventListener("themechange", () => setTimeout(() => { if (live.pixels) update(); }, 50));
  window.addEventListener("resize", debounce(() => { if (live.pixels) update(); }, 200));
  update();
}

start();

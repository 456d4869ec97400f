// The layer-stack page: one store {input, layers}; every change is mirrored in the URL and the
// Keras code at once, and sent (debounced, latest only) to POST /api/network, whose summary
// or error is painted into the rows. Nothing is computed here that the server reports.
// An uploaded model (model.js) takes the store's place read-only: its summary is the server's
// /api/models answer, its runs and exports name it by `model_id`, the URL by `model=<id>`.
import "./strings.js";
import "./model_strings.js";
import * as api from "../api.js";
import { applyI18n, t, fmt } from "../i18n.js";
import { createStore, debounce } from "../state.js";
import { GROUPS, newLayer, presetStack } from "./layers.js";
import { stackFromQuery, stackToQuery } from "./url.js";
import { kerasCode, modelCode } from "./keras.js";
import { mountModel } from "./model.js";
import { renderRows, FAMILY } from "./rows.js";
import { paintSummary, showError, clearErrors, split } from "./view.js";
import { onFollow } from "../live/follow.js";
import { mountRun } from "./run.js";
import { mountMatrix } from "./matrix.js";
import { mountExport } from "./export.js";

const $ = (sel, root = document) => root.querySelector(sel);
const byId = (id) => $(`[data-testid="${id}"]`);
const page = byId("network-page");
const list = byId("layer-list");
const axesBox = $("[data-input-axes]");
// The input's axes by rank, as keras.Input(shape=...) names them: test ids and labels.
const AXES = { 1: ["units"], 2: ["steps", "c"], 3: ["h", "w", "c"], 4: ["d", "h", "w", "c"] };
const AXIS_LABEL = { units: "nm.axis.units", steps: "nm.axis.steps", d: "nm.axis.depth",
                     h: "nw.input.h", w: "nw.input.w", c: "nw.input.c" };
const inputs = () => [...axesBox.querySelectorAll("input")];

const initial = stackFromQuery(location.search) || presetStack("lesson");
const store = createStore({ input: initial.input, layers: initial.layers });
const latest = api.latestOnly();
let runner = null; // running the stack on a photo (run.js): its options join the URL, its maps the cards
let model = null;  // {summary, name} while an uploaded model is open; null while building one's own
let saved = null;  // the stack being built when a model was opened: "back" restores it
const modelId = new URLSearchParams(location.search).get("model");

const clone = (v) => JSON.parse(JSON.stringify(v));
const count = (n) => n.toLocaleString(document.documentElement.lang === "ru" ? "ru-RU" : "en-US");

// Keras prints the weights' size as float32 with 1024-based units: "34,826 (136.04 KB)".
function memory(params) {
  let size = params * 4;
  let unit = "B";
  for (const next of ["KB", "MB", "GB", "TB"]) {
    if (size < 1024) break;
    size /= 1024;
    unit = next;
  }
  return `(${fmt(size, 2)} ${unit}, float32)`;
}

// ---- editing ----

function onEdit(index, name, value) {
  const layers = clone(store.get("layers"));
  layers[index][name] = value;
  store.set({ layers }, { edit: true });
}

function onTool(index, action) {
  const layers = clone(store.get("layers"));
  if (action === "remove") layers.splice(index, 1);
  const to = action === "up" ? index - 1 : action === "down" ? index + 1 : -1;
  if (to >= 0 && to < layers.length) [layers[index], layers[to]] = [layers[to], layers[index]];
  store.set({ layers });
  const row = list.children[Math.max(0, Math.min(to >= 0 ? to : index, layers.length - 1))];
  row?.querySelector(`[data-action="${action}"]:not(:disabled)`)?.focus();
}

/** Apply a server suggestion such as {"layers[3].padding": "same"} or {"input_shape[1]": 1}. */
function onApply(fix) {
  const layers = clone(store.get("layers"));
  const input = [...store.get("input")];
  for (const [path, value] of Object.entries(fix)) {
    const layer = /^layers\[(\d+)\]\.(\w+)$/.exec(path);
    const axis = /^input_shape\[(\d)\]$/.exec(path);
    if (layer && layers[Number(layer[1])]) layers[Number(layer[1])][layer[2]] = value;
    else if (axis) input[Number(axis[1])] = value;
  }
  store.set({ layers, input });
}

function readInput() {
  return inputs().map((box) => (box.value.trim() === "" ? null : Number(box.value)));
}

/** The input's shape at another rank, keeping its side and channels where it can. */
function reshape(input, rank) {
  const known = input.filter((n) => Number.isInteger(n) && n > 0);
  const c = input.length > 1 && input.at(-1) > 0 ? input.at(-1) : 1;
  const side = input.length > 1 && input[input.length === 4 ? 1 : 0] > 0 ? input[input.length === 4 ? 1 : 0] : 28;
  if (rank === 1) return [known.reduce((a, n) => a * n, 1)];
  if (rank === 2) return [input.length === 1 && input[0] > 0 ? input[0] : side, c];
  if (rank === 3) return [side, side, c];
  return [8, side, side, c];
}

// ---- painting ----

function totals(summary) {
  const total = byId("param-total");
  if (!summary) {
    total.textContent = "–";
    delete total.dataset.value;
    for (const id of ["param-trainable", "param-non-trainable"]) byId(id).textContent = "–";
    byId("param-memory").textContent = "";
    byId("param-split").textContent = "";
    return;
  }
  total.textContent = count(summary.total_params);
  total.dataset.value = String(summary.total_params);
  byId("param-memory").textContent = memory(summary.total_params);
  byId("param-trainable").textContent = count(summary.trainable_params);
  byId("param-non-trainable").textContent = count(summary.non_trainable_params);
  const layers = store.get("layers");
  const hasBoth = layers.some((l) => FAMILY[l.type] === "conv") && layers.some((l) => FAMILY[l.type] === "dense");
  byId("param-split").textContent = hasBoth ? t("nw.split", split(summary, layers)) : "";
}

function paint(summary, input, layers, complete) {
  clearErrors(page);
  paintSummary({ list, input, layers, summary, totals: (s) => totals(complete ? s : null) });
  store.emit("summary", complete ? summary : null);  // the matrix panel reads the shapes
  byId("input-shape").textContent = input.join(" × ");
}

async function compute() {
  const { input, layers } = store.get();
  if (model) {
    latest.abort(); // a stack's summary still on its way must not paint over the model
    paint(model.summary, input, layers, true);
    page.setAttribute("aria-busy", "false");
    return;
  }
  page.setAttribute("aria-busy", "true");
  try {
    const summary = await latest((signal) => api.network({ input_shape: input, layers }, { signal }));
    if (model) return;
    paint(summary, input, layers, true);
  } catch (err) {
    if (api.isAbort(err) || model) return;
    if (err.status === 0) {
      byId("network-error").textContent = t("nw.error.network");
      byId("network-error").hidden = false;
      return;
    }
    // show what the layers before the faulty one do: they are still worth reading
    const at = /^layers\[(\d+)\]/.exec(err.field || "");
    let prefix = null;
    if (at && Number(at[1]) > 0) {
      try {
        const body = { input_shape: input, layers: layers.slice(0, Number(at[1])) };
        prefix = await latest((signal) => api.network(body, { signal }));
      } catch (inner) {
        if (api.isAbort(inner)) return;
      }
    }
    paint(prefix, input, layers, false);
    showError(page, err, { onApply });
    if (at) byId("param-memory").textContent = t("nw.blocked", { n: Number(at[1]) });
  } finally {
    if (!model) page.setAttribute("aria-busy", "false");
  }
}
const refresh = debounce(compute, 150);

function rebuild() {
  renderRows(list, store.get("layers"), { onEdit, onTool, readOnly: Boolean(model) });
  byId("layer-empty").hidden = store.get("layers").length > 0;
  runner?.rows(); // the run's feature maps go back under the fresh cards
}

/** One number box per axis of the input (rebuilt when the rank changes), labelled as Keras's. */
function renderInputs(rank) {
  const keys = AXES[rank] || AXES[3];
  const boxes = keys.map((key, i) => {
    const box = document.createElement("div");
    box.className = "nw-arg";
    const label = Object.assign(document.createElement("label"), { htmlFor: `nw-in-${key}`, textContent: t(AXIS_LABEL[key]) });
    const field = Object.assign(document.createElement("input"), { id: `nw-in-${key}`, type: "number", min: "1", max: "8192", step: "1" });
    Object.assign(field.dataset, { testid: `input-${key}`, inputAxis: String(i) });
    field.disabled = Boolean(model);
    box.append(label, field);
    return box;
  });
  axesBox.replaceChildren(...boxes);
}

function syncInputs() {
  const input = store.get("input");
  const rank = String(input.length);
  if (inputs().length !== input.length || byId("input-rank").value !== rank) renderInputs(input.length);
  byId("input-rank").value = rank;
  byId("input-rank").disabled = Boolean(model);
  inputs().forEach((box, i) => { box.value = input[i] ?? ""; box.disabled = Boolean(model); });
  byId("input-caption").textContent = t(`nm.input.caption.${rank}`);
}

function mirror() {
  const state = store.get();
  const run = runner ? runner.query() : "";
  if (model) {
    history.replaceState(null, "", `${location.pathname}?model=${encodeURIComponent(model.summary.id)}${run}`);
    $("code", byId("keras-code")).textContent = modelCode(state, model.name);
  } else {
    history.replaceState(null, "", `${location.pathname}?${stackToQuery(state)}${run}`);
    $("code", byId("keras-code")).textContent = kerasCode(state);
  }
  const caption = byId("code-caption");
  caption.dataset.i18n = model ? "nm.code.caption" : "nw.code.caption";
  caption.textContent = t(caption.dataset.i18n);
}

// ---- an uploaded model ----

function openModel(summary, name) {
  if (!model) saved = clone(store.get());
  model = { summary, name: name || (model?.summary.id === summary.id ? model.name : null) };
  page.classList.add("nm-mode");
  modelPanel.shown(summary, model.name);
  const layers = summary.layers.map((row) => ({ type: row.type, name: row.name, ...row.config }));
  store.set({ input: summary.input_shape, layers }, { model: true });
  rebuild();
  syncInputs();
  mirror();
  compute();
  runner?.modelChanged();
}

function closeModel() {
  model = null;
  page.classList.remove("nm-mode");
  modelPanel.shown(null);
  store.set(saved || presetStack("lesson"));
  saved = null;
  rebuild();
  syncInputs();
  mirror();
  compute();
  runner?.modelChanged();
}

const modelPanel = mountModel({ onOpen: openModel, onClose: closeModel });

// ---- wiring ----

function addButtons() {
  const box = byId("add-layer");
  box.replaceChildren(...GROUPS.map(([group, types]) => {
    const set = document.createElement("div");
    set.className = "nm-add-group";
    set.setAttribute("role", "group");
    set.append(Object.assign(document.createElement("span"), { className: "nm-add-label", textContent: t(`nm.group.${group}`) }));
    set.setAttribute("aria-label", t(`nm.group.${group}`));
    for (const type of types) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-small nw-add-btn";
      b.dataset.type = type;
      b.dataset.family = FAMILY[type];
      b.title = t(`nw.type.${type}`);
      b.textContent = type;
      set.append(b);
    }
    return set;
  }));
}

async function copy(text, button, doneKey, idleKey) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = t(doneKey);
    setTimeout(() => { button.textContent = t(idleKey); }, 1500);
  } catch { /* clipboard blocked: the text stays selectable on the page */ }
}

byId("add-layer").addEventListener("click", (event) => {
  const button = event.target.closest("[data-type]");
  if (!button) return;
  store.set({ layers: [...clone(store.get("layers")), newLayer(button.dataset.type)] });
  list.lastElementChild?.querySelector("input, select")?.focus({ preventScroll: false });
});
byId("presets").addEventListener("click", (event) => {
  const button = event.target.closest("[data-preset]");
  if (button) store.set(presetStack(button.dataset.preset));
});
axesBox.addEventListener("input", () => { if (!model) store.set({ input: readInput() }, { edit: true }); });
byId("input-rank").addEventListener("change", (e) => {
  if (!model) store.set({ input: reshape(store.get("input"), Number(e.target.value)) });
});
byId("copy-code").addEventListener("click", (e) => copy($("code", byId("keras-code")).textContent, e.currentTarget, "nw.copied", "nw.copy"));
byId("share-link").addEventListener("click", (e) => copy(location.href, e.currentTarget, "nw.share_link.done", "nw.share_link"));

store.on("change", ({ keys, meta }) => {
  if (keys.includes("layers") && !meta.edit) rebuild();
  if (keys.includes("input") && !meta.edit) syncInputs();
  if (meta.model) return; // openModel paints everything once
  mirror();
  refresh();
  runner?.stackChanged(keys, meta);
});
document.addEventListener("langchange", () => { addButtons(); rebuild(); syncInputs(); mirror(); compute(); });

// A student's copy of this page (live room) follows the teacher's stack in place.
onFollow((query) => {
  const id = new URLSearchParams(query).get("model");
  if (id) {
    if (model?.summary.id !== id) modelPanel.reopen(id);
    return true;
  }
  const stack = stackFromQuery(query);
  if (!stack) return false;
  if (model) closeModel();
  store.set(stack);
  return true;
});
runner = mountRun({ stack: store, list, onMirror: () => mirror(), model: () => model?.summary || null });
mountMatrix(byId("matrix-panel"), store);
mountExport(byId("export-panel"), store, { request: () => (model ? { model_id: model.summary.id } : null) });
applyI18n(); // this page's strings arrived after base.html labelled the page
addButtons();
rebuild();
syncInputs();
mirror();
compute();
if (modelId) modelPanel.reopen(modelId);

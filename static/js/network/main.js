// The layer-stack page: one store {input, layers}; every change is mirrored in the URL and the
// Keras code at once, and sent (debounced, latest only) to POST /api/network, whose summary
// or error is painted into the rows. Nothing is computed here that the server reports.
import "./strings.js";
import * as api from "../api.js";
import { applyI18n, t, fmt } from "../i18n.js";
import { createStore, debounce } from "../state.js";
import { TYPES, newLayer, presetStack } from "./layers.js";
import { stackFromQuery, stackToQuery } from "./url.js";
import { kerasCode } from "./keras.js";
import { renderRows, FAMILY } from "./rows.js";
import { paintSummary, showError, clearErrors, split } from "./view.js";
import { onFollow } from "../live/follow.js";
import { mountRun } from "./run.js";

const $ = (sel, root = document) => root.querySelector(sel);
const byId = (id) => $(`[data-testid="${id}"]`);
const page = byId("network-page");
const list = byId("layer-list");
const inputs = ["h", "w", "c"].map((k) => byId(`input-${k}`));

const initial = stackFromQuery(location.search) || presetStack("lesson");
const store = createStore({ input: initial.input, layers: initial.layers });
const latest = api.latestOnly();
let runner = null; // running the stack on a photo (run.js): its options join the URL, its maps the cards

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
  return inputs.map((box) => (box.value.trim() === "" ? null : Number(box.value)));
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
  byId("input-shape").textContent = input.join(" × ");
}

async function compute() {
  const { input, layers } = store.get();
  page.setAttribute("aria-busy", "true");
  try {
    const summary = await latest((signal) => api.network({ input_shape: input, layers }, { signal }));
    paint(summary, input, layers, true);
  } catch (err) {
    if (api.isAbort(err)) return;
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
    page.setAttribute("aria-busy", "false");
  }
}
const refresh = debounce(compute, 150);

function rebuild() {
  renderRows(list, store.get("layers"), { onEdit, onTool });
  byId("layer-empty").hidden = store.get("layers").length > 0;
  runner?.rows(); // the run's feature maps go back under the fresh cards
}

function syncInputs() {
  store.get("input").forEach((n, i) => { inputs[i].value = n ?? ""; });
}

function mirror() {
  const state = store.get();
  history.replaceState(null, "", `${location.pathname}?${stackToQuery(state)}${runner ? runner.query() : ""}`);
  $("code", byId("keras-code")).textContent = kerasCode(state);
}

// ---- wiring ----

function addButtons() {
  const box = byId("add-layer");
  box.replaceChildren(...TYPES.map((type) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-small nw-add-btn";
    b.dataset.type = type;
    b.dataset.family = FAMILY[type];
    b.title = t(`nw.type.${type}`);
    b.textContent = type;
    return b;
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
inputs.forEach((box) => box.addEventListener("input", () => store.set({ input: readInput() }, { edit: true })));
byId("copy-code").addEventListener("click", (e) => copy($("code", byId("keras-code")).textContent, e.currentTarget, "nw.copied", "nw.copy"));
byId("share-link").addEventListener("click", (e) => copy(location.href, e.currentTarget, "nw.share_link.done", "nw.share_link"));

store.on("change", ({ keys, meta }) => {
  if (keys.includes("layers") && !meta.edit) rebuild();
  if (keys.includes("input") && !meta.edit) syncInputs();
  mirror();
  refresh();
  runner?.stackChanged(keys, meta);
});
document.addEventListener("langchange", () => { addButtons(); rebuild(); compute(); });

// A student's copy of this page (live room) follows the teacher's stack in place.
onFollow((query) => { const stack = stackFromQuery(query); if (!stack) return false; store.set(stack); return true; });
runner = mountRun({ stack: store, list, onMirror: () => mirror() });
applyI18n(); // this page's strings arrived after base.html labelled the page
addButtons();
rebuild();
syncInputs();
mirror();
compute();

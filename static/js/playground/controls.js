// The technique controls (padding, stride, dilation, activation, pooling), the colour switch,
// bias, flip, working size and display mode: each form control mirrors one key of the store.

import { parseAxes } from "./model.js";

const $ = (id) => document.getElementById(id);

// id -> [store key, kind]; "int" fields keep what the user typed even when it is out of range,
// so an invalid value reaches the server and comes back explained instead of being silently fixed.
const FIELDS = {
  res: ["res", "int"],
  bias: ["bias", "float"],
  flip: ["flip", "bool"],
  padding: ["padding", "text"],
  "pad-amount": ["padAmount", "axes"],
  "padding-mode": ["paddingMode", "text"],
  stride: ["stride", "axes"],
  dilation: ["dilation", "axes"],
  activation: ["activation", "text"],
  slope: ["slope", "float"],
  pool: ["pool", "text"],
  "pool-size": ["poolSize", "int"],
  "pool-stride": ["poolStride", "int"],
  "pool-pad": ["poolPad", "int"],
  display: ["display", "text"],
};

function read(el, kind) {
  if (kind === "bool") return el.checked;
  if (kind === "text") return el.value;
  if (kind === "axes") return parseAxes(el.value);
  if (el.value.trim() === "") return undefined;
  const n = Number(el.value);
  // A fractional stride is kept as typed: the server names the field and the fix rounds it.
  return Number.isFinite(n) ? n : undefined;
}

function write(el, kind, value) {
  if (kind === "bool") el.checked = Boolean(value);
  else if (document.activeElement !== el || String(read(el, kind)) !== String(value)) {
    el.value = Array.isArray(value) ? value.join(", ") : String(value);
  }
}

function stepAxes(e, el, handler) {
  const d = { ArrowUp: 1, ArrowDown: -1 }[e.key];
  const v = parseAxes(el.value);
  if (!d || v === undefined) return;
  e.preventDefault();
  const min = Number(el.dataset.min || 0);
  const next = (n) => Math.max(Math.round(n) + d, min);
  el.value = Array.isArray(v) ? v.map(next).join(", ") : String(next(v));
  handler();
}

export function mountControls(store) {
  for (const [id, [key, kind]] of Object.entries(FIELDS)) {
    const el = $(id);
    const handler = () => {
      const v = read(el, kind);
      if (v === undefined) return; // half-typed: wait for a number
      const patch = { [key]: v };
      // Moving the pooling window keeps the usual non-overlapping step unless the user set one.
      if (key === "poolSize" && store.get().poolStride === store.get().poolSize) patch.poolStride = v;
      store.set(patch);
    };
    el.addEventListener(kind === "text" || kind === "bool" ? "change" : "input", handler);
    if (kind !== "text" && kind !== "bool") el.addEventListener("change", handler);
    // Text fields that take "2" or "2, 1" keep the arrow keys of a number field.
    if (kind === "axes") el.addEventListener("keydown", (e) => stepAxes(e, el, handler));
  }

  document.querySelectorAll("[data-color]").forEach((b) => {
    b.addEventListener("click", () => store.set({ color: b.dataset.color }));
  });

  function sync() {
    const s = store.get();
    for (const [id, [key, kind]] of Object.entries(FIELDS)) write($(id), kind, s[key]);
    document.querySelectorAll("[data-color]").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.color === s.color));
    });
    $("pad-amount-field").hidden = s.padding !== "number";
    const pooled = s.pool !== "none";
    $("pool-size").disabled = !pooled;
    $("pool-stride").disabled = !pooled;
    $("pool-pad").disabled = !pooled;
    $("slope-field").hidden = s.activation !== "leaky_relu";
    // A colour result cannot be drawn with one diverging map per pixel.
    const signed = $("display").querySelector('option[value="signed"]');
    signed.disabled = s.color === "rgb" && s.kmode === "depthwise";
  }

  store.on("change", sync);
  sync();
}

// The one-click "use the nearest valid setting": the server's suggestion mapped onto the
// playground's controls, or one found with the local geometry when the server has none.

import { nearestValid } from "../geometry.js";
import { t } from "../i18n.js";
import { axesValue, paddingValue } from "./model.js";

/** The server's suggestion mapped onto our controls, or one from the local geometry. */
export function suggestFix(err, state, { geometryOf, lastChanged }) {
  const patch = {};
  // The suggestion and its alternatives (each a change that works alone) in one patch.
  const sug = Object.assign({}, ...(err.alternatives || []), err.suggestion || {});
  const field = (err.field || "").split(".");
  const inPool = field[0] === "pool";
  for (const [key, value] of Object.entries(sug)) {
    if (inPool) {
      // The pooling window has no padding control here: fit the window instead (below).
      if (key === "kernel_size") patch.poolSize = Number(value);
      if (key === "stride") patch.poolStride = Number(value);
    } else if (key === "padding") {
      if (typeof value === "string") patch.padding = value;
      else if (Number.isInteger(value)) Object.assign(patch, { padding: "number", padAmount: value });
      else if (Array.isArray(value) && value.every(Number.isInteger) && value.length === 2) {
        Object.assign(patch, { padding: "number", padAmount: value });
      }
    } else if (key === "stride" || key === "dilation") {
      const v = Array.isArray(value) ? Math.max(...value) : Number(value);
      const mine = state[key];
      if (Array.isArray(value) && value.every(Number.isInteger)) patch[key] = value.map(Number);
      else if (Array.isArray(mine) && Number.isInteger(v)) {
        // One number for a (rows, cols) setting: mend only the axis that is out of range.
        patch[key] = mine.map((n) => (Number.isInteger(Number(n)) && Number(n) >= 1 ? Number(n) : v));
      } else if (Number.isInteger(v)) patch[key] = v;
    } else if (key === "padding_mode") patch.paddingMode = value;
  }
  if (Object.keys(patch).length > 1) {
    // The server lists alternatives ("padding >= 14, or dilation <= 5"): offer the one that
    // undoes what the user just changed, else the first that works on its own.
    const entries = Object.entries(patch).filter(([k]) => k !== "padAmount" || !("padding" in patch));
    const single = (k) => (k === "padding" && patch.padding === "number"
      ? { padding: "number", padAmount: patch.padAmount } : { [k]: patch[k] });
    const works = (p) => { const g = geometryOf({ ...state, ...p }); return !g || [...g.conv, ...(g.pool || [])].every((a) => a.size >= 1); };
    const order = entries.map(([k]) => k).sort((a, b) => lastChanged.indexOf(b) - lastChanged.indexOf(a));
    for (const k of order) if (works(single(k))) return single(k);
  }
  if (Object.keys(patch).length) return patch;
  const geo = geometryOf(state);
  if (geo && !inPool) {
    const local = nearestValid({
      spatial: geo.spatial, kernel: [state.kernels[0].length, state.kernels[0][0].length],
      stride: axesValue(state.stride), padding: paddingValue(state), dilation: axesValue(state.dilation),
    });
    if (local) return local.padding !== undefined && typeof local.padding === "number"
      ? { padding: "number", padAmount: local.padding } : local;
  }
  // Simple range faults: bring the number back into range.
  const ranges = {
    stride: [1, 16], dilation: [1, 64], padAmount: [0, 64], poolSize: [1, 8], poolStride: [1, 8], poolPad: [0, 4],
  };
  const into = (v, lo, hi) => Math.min(Math.max(Math.round(v) || lo, lo), hi);
  for (const [key, [lo, hi]] of Object.entries(ranges)) {
    const v = state[key];
    const bad = (n) => !Number.isInteger(Number(n)) || Number(n) < lo || Number(n) > hi;
    if (Array.isArray(v)) {
      if (v.some(bad)) patch[key] = v.map((n) => into(Number(n), lo, hi));
    } else if (bad(v)) patch[key] = into(Number(v), lo, hi);
  }
  if (state.paddingMode !== "zeros" && (err.code === "padding" || field[0] === "padding_mode")) {
    patch.paddingMode = "zeros";
  }
  // Pooling padding may be at most half the window (PyTorch's rule).
  if (inPool && Number(state.poolPad) > Math.floor(Number(state.poolSize) / 2)) {
    patch.poolPad = Math.floor(Number(state.poolSize) / 2);
  }
  if (inPool && !Object.keys(patch).length) {
    const g = geometryOf(state);
    const side = g ? Math.min(...g.conv.map((a) => a.size)) : 0;
    if (side >= 1) Object.assign(patch, { poolSize: side, poolStride: Math.min(Number(state.poolStride) || side, side) });
    else patch.pool = "none";
  }
  return Object.keys(patch).length ? patch : null;
}

export function describeFix(patch) {
  const names = {
    padding: t("pg.padding"), padAmount: t("pg.padding"), stride: t("pg.stride"), dilation: t("pg.dilation"),
    paddingMode: t("pg.padding_mode"), poolSize: `${t("pg.pooling")} ${t("pg.pool.size")}`,
    poolStride: `${t("pg.pooling")} ${t("pg.pool.stride")}`, pool: t("pg.pooling"),
    poolPad: `${t("pg.pooling")} ${t("pg.pool.padding")}`,
  };
  return Object.entries(patch)
    .filter(([k, v]) => !(k === "padding" && v === "number" && "padAmount" in patch))
    .map(([k, v]) => `${names[k] || k} = ${Array.isArray(v) ? `(${v.join(", ")})` : v}`).join(", ");
}

// Small dumb painters shared by the digits views: grids of numbers whose cells are tinted by a
// colorizer, and the number format that fits a cell.
import { el } from "../dom.js";
import { fmt, getLang } from "../i18n.js";

/** A value short enough for a map cell: 2 decimals below 10, 1 up to 100, none beyond. */
export function short(v) {
  const a = Math.abs(v);
  if (a === 0) return "0";
  return fmt(v, a < 10 ? 2 : a < 100 ? 1 : 0);
}

/** Small numbers (losses, differences) in scientific notation: 3.2e−9 ("3,2e−9" in Russian). */
export function sci(v, digits = 3) {
  if (!Number.isFinite(v) || v === 0 || Math.abs(v) >= 1e-3) return fmt(v, digits);
  const [mantissa, exponent] = v.toExponential(1).split("e");
  const m = getLang() === "ru" ? mantissa.replace(".", ",") : mantissa;
  return `${m.replace("-", "−")}e${exponent.replace("-", "−").replace("+", "")}`;
}

/**
 * Tint for `v` against `max` (|v| <= max): a share of the positive or negative colour mixed into
 * the surface. The share stops at --dg-mix-max so the cell's text stays readable on every tint.
 */
export function tint(v, max) {
  if (!max || !v || !Number.isFinite(v)) return "";
  const share = Math.min(Math.abs(v) / max, 1);
  const colour = v > 0 ? "var(--dg-pos)" : "var(--dg-neg)";
  return `color-mix(in srgb, ${colour} calc(${share.toFixed(3)} * var(--dg-mix-max)), var(--surface))`;
}

export const maxAbs = (values) => values.flat(Infinity).reduce((a, v) => Math.max(a, Math.abs(v)), 0);

/**
 * Fill `box` (a .dg-grid) with the cells of a 2-D array. `cell(v, r, c)` may return
 * {text, cls, title, bg, attrs}; by default the short number tinted against `max`.
 * Cells are reused when the size is unchanged, so repainting while drawing stays cheap.
 */
export function paintGrid(box, values, { max = maxAbs(values), cell, format = short } = {}) {
  const rows = values.length;
  const cols = rows ? values[0].length : 0;
  box.style.setProperty("--cols", String(cols));
  if (box.children.length !== rows * cols) {
    box.replaceChildren();
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) box.append(el("span", { class: "dg-cell", "data-r": r, "data-c": c }));
    }
  }
  let i = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const node = box.children[i++];
      const v = values[r][c];
      const spec = cell ? cell(v, r, c) || {} : {};
      node.textContent = spec.text ?? (v === null ? "" : format(v));
      node.className = `dg-cell${spec.cls ? ` ${spec.cls}` : ""}`;
      node.style.background = spec.bg ?? (v === null ? "" : tint(v, max));
      if (spec.title) node.title = spec.title;
      else node.removeAttribute("title");
      if (typeof v === "number") node.dataset.value = String(v);
      else delete node.dataset.value;
      for (const [k, val] of Object.entries(spec.attrs || {})) node.setAttribute(k, val);
    }
  }
  return box;
}

/** A new grid element painted with `values`. */
export function grid(values, opts = {}, attrs = {}) {
  const box = el("div", { class: `dg-grid${opts.extra ? ` ${opts.extra}` : ""}`, ...attrs });
  return paintGrid(box, values, opts);
}

/** Keras's [kh, kw, cin, f] kernel: the 2-D slice for input channel `ch` and filter `f`. */
export function kernelSlice(kernel, ch, f) {
  return kernel.map((row) => row.map((taps) => taps[ch][f]));
}

// Painting the server's summary into the rows: output shape, parameters with their formula,
// the share of all parameters as a bar, a glyph whose size follows the data's shape, the
// note in the page's language, and errors next to the field they name.
import { t, fmt } from "../i18n.js";
import { FAMILY } from "./rows.js";
import { spatialAxes } from "./layers.js";

const times = (shape) => shape.join(" × ");
const count = (n) => n.toLocaleString(document.documentElement.lang === "ru" ? "ru-RU" : "en-US");
const dims = (v, nd) => (Array.isArray(v) ? v : Array(nd).fill(v));
const cross = (v, nd) => dims(v, nd).join("×");

/** A sentence on what the layer does, from its arguments and the shape it receives. */
export function note(layer, before, row) {
  const cin = before[before.length - 1];
  const nd = spatialAxes(layer.type);
  const type = layer.type || "";
  if (/^Conv[123]D$/.test(type)) {
    const bias = t(layer.use_bias === false ? "nw.note.no_bias" : "nw.note.bias");
    if (nd === 2) {
      const [kh, kw] = dims(layer.kernel_size, 2);
      return t("nw.note.conv", { filters: layer.filters, kh, kw, cin, bias });
    }
    return t(`nm.note.conv${nd}`, { filters: layer.filters, k: cross(layer.kernel_size, nd), cin, bias });
  }
  if (/^(Max|Average)Pooling[123]D$/.test(type)) {
    const max = type.startsWith("Max");
    if (nd === 2) {
      const [ph, pw] = dims(layer.pool_size, 2);
      const [sh, sw] = dims(layer.strides ?? layer.pool_size, 2);
      return t(max ? "nw.note.max" : "nw.note.avg", { ph, pw, sh, sw });
    }
    return t(max ? "nm.note.max" : "nm.note.avg", { p: cross(layer.pool_size, nd), s: cross(layer.strides ?? layer.pool_size, nd) });
  }
  if (/^Global(Max|Average)Pooling[123]D$/.test(type)) {
    const max = type.startsWith("GlobalMax");
    const keep = layer.keepdims ? ` ${t("nm.note.keepdims")}` : "";
    if (nd === 2) return t(max ? "nw.note.gmax" : "nw.note.gavg", { h: before[0], w: before[1] }) + keep;
    return t(max ? "nm.note.gmax" : "nm.note.gavg", { size: before.slice(0, -1).join("×") }) + keep;
  }
  if (/^ZeroPadding[123]D$/.test(type)) return t("nm.note.zpad", { from: before.slice(0, -1).join("×"), to: row.output_shape.slice(0, -1).join("×") });
  switch (type) {
    case "BatchNormalization":
      return t("nw.note.bn");
    case "Activation":
      return t("nw.note.act", { act: layer.activation });
    case "ReLU":
      return t("nm.note.relu", { slope: fmt(layer.negative_slope ?? 0, 3), threshold: fmt(layer.threshold ?? 0, 3) })
        + (layer.max_value === null || layer.max_value === undefined ? "" : ` ${t("nm.note.relu_max", { max: fmt(layer.max_value, 3) })}`);
    case "LeakyReLU":
      return t("nm.note.leaky", { slope: fmt(layer.negative_slope ?? 0.3, 3) });
    case "Softmax":
      return t(before.length === 1 ? "nm.note.softmax_vec" : "nm.note.softmax", { n: cin });
    case "Dropout":
      return t("nw.note.dropout", { pct: fmt(layer.rate * 100, 1) });
    case "Flatten":
      return t("nw.note.flatten");
    case "Dense":
      if (before.length > 1) {
        return t("nw.note.dense_map", { cin, units: layer.units, where: before.slice(0, -1).join("×") });
      }
      return t("nw.note.dense", { cin, units: row.output_shape[0] });
    default:
      return "";
  }
}

/** Size the glyph: a map is a box (height and width against the stack's largest side) with
 *  one offset sheet per channel up to 6; a volume the same with its depth written beside; a
 *  signal a thin box as long as its steps; a vector a bar whose length grows with log(units). */
function glyph(node, shape, scale) {
  node.replaceChildren();
  node.dataset.rank = String(shape.length);
  if (shape.length >= 2) {
    const c = shape[shape.length - 1];
    const [h, w] = shape.length === 2 ? [null, shape[0]] : shape.slice(-3, -1);
    const side = (n) => Math.max(4, Math.round(44 * (n / scale.side)));
    const sheets = Math.min(c, 6);
    for (let i = sheets - 1; i >= 0; i -= 1) {
      const sheet = document.createElement("span");
      sheet.className = "nw-sheet";
      sheet.style.cssText = `width:${side(w)}px;height:${h === null ? 6 : side(h)}px;left:${i * 4}px;top:${(sheets - 1 - i) * 4}px`;
      node.append(sheet);
    }
    if (shape.length === 4) {
      const depth = document.createElement("span");
      depth.className = "nm-depth";
      depth.textContent = `×${shape[0]}`;
      node.append(depth);
    }
  } else {
    const bar = document.createElement("span");
    bar.className = "nw-vector";
    const length = Math.log2(shape[0] + 1) / Math.log2(scale.units + 1);
    bar.style.width = `${Math.max(6, Math.round(76 * length))}px`;
    node.append(bar);
  }
}

function fill(li, layer, before, row, total, scale) {
  li.classList.remove("nw-unreached");
  li.querySelector('[data-testid="layer-name"]').textContent = row.name;
  li.querySelector('[data-testid="layer-shape"]').textContent = times(row.output_shape);
  li.querySelector('[data-testid="layer-params"]').textContent = t("nw.params", { n: count(row.params) });
  li.querySelector('[data-testid="layer-formula"]').textContent = row.formula === "0" ? "" : row.formula;
  const share = total ? (100 * row.params) / total : 0;
  const bar = li.querySelector(".nw-bar");
  bar.firstChild.style.width = `${share}%`;
  bar.title = t("nw.share", { pct: fmt(share, 1) });
  li.querySelector('[data-testid="layer-note"]').textContent = note(layer, before, row);
  li.querySelector('[data-testid="layer-explain"]').textContent = row.explain.join("   ");
  glyph(li.querySelector(".nw-glyph"), row.output_shape, scale);
}

function blank(li, faulty) {
  li.classList.add("nw-unreached");
  for (const id of ["layer-name", "layer-params", "layer-formula", "layer-note", "layer-explain"]) {
    li.querySelector(`[data-testid="${id}"]`).textContent = "";
  }
  li.querySelector('[data-testid="layer-shape"]').textContent = faulty ? "–" : t("nw.unreached");
  li.querySelector(".nw-bar").firstChild.style.width = "0";
  li.querySelector(".nw-glyph").replaceChildren();
}

/** Paint `summary` (possibly of a prefix of the stack: the rows after it stay blank). */
export function paintSummary({ list, input, layers, summary, totals }) {
  const rows = summary ? summary.layers : [];
  const shapes = [input, ...rows.map((r) => r.output_shape)];
  const scale = {
    side: Math.max(...shapes.filter((s) => s.length >= 2).flatMap((s) => (s.length === 2 ? [s[0]] : s.slice(-3, -1))), 1),
    units: Math.max(...shapes.map((s) => s[s.length - 1]), 1),
  };
  glyph(document.querySelector('[data-testid="input-glyph"]'), input, scale);
  const total = summary ? summary.total_params : 0;
  [...list.children].forEach((li, i) => {
    if (i < rows.length) fill(li, layers[i], shapes[i], rows[i], total, scale);
    else blank(li, i === rows.length);
  });
  totals(summary);
}

/** Share of parameters held by convolutions and by dense layers, in percent. */
export function split(summary, layers) {
  const by = { conv: 0, dense: 0 };
  summary.layers.forEach((row, i) => {
    const family = FAMILY[layers[i].type];
    if (family in by) by[family] += row.params;
  });
  const total = summary.total_params || 1;
  return { conv: fmt((100 * by.conv) / total, 1), dense: fmt((100 * by.dense) / total, 1) };
}

/** Mark the control an error names (`layers[2].filters`, `input_shape[1]`) and say why. */
export function showError(root, error, { onApply }) {
  const field = error.field || "";
  const layer = /^layers\[(\d+)\](?:\.(\w+))?/.exec(field);
  const inputAxis = /^input_shape(?:\[(\d)\])?/.exec(field);
  let box = root.querySelector('[data-testid="network-error"]');
  let target = null;
  if (layer) {
    const li = root.querySelector(`.nw-row[data-index="${layer[1]}"]`);
    if (li) {
      box = li.querySelector('[data-testid="layer-error"]');
      target = layer[2] ? li.querySelector(`[data-testid="arg-${layer[2]}"]`) : null;
      if (layer[2] === "type") target = li.querySelector('[data-testid="layer-type"]');
    }
  } else if (inputAxis) {
    box = root.querySelector('[data-testid="input-error"]');
    target = root.querySelector(`[data-input-axis="${inputAxis[1] ?? 0}"]`);
  }
  if (target) {
    target.setAttribute("aria-invalid", "true");
    target.classList.add("invalid");
  }
  box.replaceChildren();
  const text = document.createElement("p");
  text.textContent = error.message;
  box.append(text);
  const fixes = [error.suggestion, ...(error.alternatives || [])].filter(Boolean);
  for (const fix of fixes) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-small";
    button.dataset.testid = "apply-fix";
    const change = Object.entries(fix).map(([k, v]) => `${k.replace(/^layers\[\d+\]\./, "")} = ${JSON.stringify(v)}`).join(", ");
    button.textContent = t("nw.apply", { change });
    button.addEventListener("click", () => onApply(fix));
    box.append(button);
  }
  box.hidden = false;
}

/** Forget every error mark (before painting a fresh answer). */
export function clearErrors(root) {
  root.querySelectorAll('[aria-invalid="true"]').forEach((n) => {
    n.removeAttribute("aria-invalid");
    n.classList.remove("invalid");
  });
  root.querySelectorAll('[data-testid="layer-error"], [data-testid="input-error"], [data-testid="network-error"]')
    .forEach((b) => { b.hidden = true; b.replaceChildren(); });
}

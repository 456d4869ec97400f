// Line charts in SVG for the training curves: axes with a few ticks, one polyline per series
// and dots for sparse series. A dumb painter: it is handed the points and redraws everything
// (a few hundred points at most), sized by the viewBox so it scales with its box.
import { fmt } from "../i18n.js";

const NS = "http://www.w3.org/2000/svg";
const W = 420;
const H = 220;
const PAD = { left: 44, right: 12, top: 10, bottom: 30 };

function node(tag, attrs = {}, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

/** About `n` round tick values between lo and hi. */
function ticks(lo, hi, n = 4) {
  const span = hi - lo || 1;
  const raw = span / n;
  const step = [1, 2, 2.5, 5, 10].map((m) => m * 10 ** Math.floor(Math.log10(raw))).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/**
 * Draw `series` = [{points: [[x, y]], cls, dots}] into `svg`. `x` and `y` are [min, max];
 * `log` draws y on a log10 scale (values <= 0 are left out); `xLabel` names the x axis.
 */
export function lineChart(svg, { series, x, y, log = false, xLabel = "", yFormat }) {
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const fy = log ? (v) => Math.log10(v) : (v) => v;
  const [y0, y1] = log ? [Math.log10(y[0]), Math.log10(y[1])] : y;
  const sx = (v) => PAD.left + ((v - x[0]) / (x[1] - x[0] || 1)) * (W - PAD.left - PAD.right);
  const sy = (v) => H - PAD.bottom - ((fy(v) - y0) / (y1 - y0 || 1)) * (H - PAD.top - PAD.bottom);
  const axis = node("g", { class: "dg-axis" });
  axis.append(node("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom }));
  axis.append(node("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom }));
  const decades = Math.floor(y1) - Math.ceil(y0) + 1;
  const every = Math.max(1, Math.ceil(decades / 6)); // at most about six labels
  const yt = log
    ? Array.from({ length: decades }, (_, i) => Math.ceil(y0) + i).filter((e) => e % every === 0).map((e) => 10 ** e)
    : ticks(y[0], y[1]);
  for (const v of yt) {
    const py = sy(v);
    axis.append(node("line", { class: "dg-grid-line", x1: PAD.left, y1: py, x2: W - PAD.right, y2: py }));
    const label = yFormat ? yFormat(v) : log ? `1e${Math.round(Math.log10(v))}`.replace("-", "−") : fmt(v, 2);
    axis.append(node("text", { x: PAD.left - 5, y: py + 4, "text-anchor": "end" }, label));
  }
  for (const v of ticks(x[0], x[1], Math.min(6, Math.max(1, x[1] - x[0])))) {
    const px = sx(v);
    axis.append(node("line", { x1: px, y1: H - PAD.bottom, x2: px, y2: H - PAD.bottom + 4 }));
    axis.append(node("text", { x: px, y: H - PAD.bottom + 16, "text-anchor": "middle" }, fmt(v, 2)));
  }
  if (xLabel) axis.append(node("text", { x: W - PAD.right, y: H - 2, "text-anchor": "end" }, xLabel));
  svg.append(axis);
  for (const s of series) {
    const pts = s.points.filter(([, v]) => Number.isFinite(v) && (!log || v > 0));
    if (!pts.length) continue;
    const g = node("g", { class: s.cls });
    if (pts.length > 1) g.append(node("polyline", { points: pts.map(([a, b]) => `${sx(a).toFixed(1)},${sy(b).toFixed(1)}`).join(" ") }));
    if (s.dots || pts.length === 1) {
      for (const [a, b] of pts) g.append(node("circle", { cx: sx(a).toFixed(1), cy: sy(b).toFixed(1), r: 3.5 }));
    }
    g.dataset.points = String(pts.length);
    svg.append(g);
  }
}

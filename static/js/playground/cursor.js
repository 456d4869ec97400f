// Under the cursor: hover (or tap or drag with a finger, or arrow keys) an output pixel to fetch
// its frames from /api/frames, paint the arithmetic panel and outline the receptive field on the
// input.
// Hover takes priority over the pinned cell; leaving the map returns to the pinned one.

import * as api from "../api.js";
import { debounce } from "../state.js";
import { t } from "../i18n.js";
import { flip2d, poolWindow, tapsPerAxis } from "../geometry.js";
import { convBody, filterOf } from "./model.js";
import { cellAt, drawInputOverlay, drawOutputOverlay } from "./views.js";
import { paintMath, paintMathEmpty } from "./math.js";

const $ = (id) => document.getElementById(id);
const latestFrames = api.latestOnly();

/**
 * `live`: the page's facts from the server (pixels, out, scale, ok, hover); `geometryOf(state)`
 * and `displayPads(geo)` come from main.js. Returns {refresh, clamp, paintOverlays}.
 */
export function mountCursor(store, live, { geometryOf, displayPads }) {
  function currentCell() {
    return live.hover || store.get().selected;
  }

  function clampSelection() {
    const sel = store.get().selected;
    if (!sel || !live.out) return;
    const r = Math.min(sel[0], live.out.rows - 1);
    const c = Math.min(sel[1], live.out.cols - 1);
    if (r !== sel[0] || c !== sel[1]) store.set({ selected: [r, c] });
  }

  function paintOverlays(tapsInfo) {
    const geo = geometryOf(store.get());
    if (!geo || !live.pixels) return;
    const pads = displayPads(geo);
    drawInputOverlay($("input-overlay"), live.scale, {
      pads, width: live.pixels.width, height: live.pixels.height,
      taps: tapsInfo?.taps || [], boxes: tapsInfo?.boxes || [],
    });
    drawOutputOverlay($("output-overlay"), live.scale, live.ok ? currentCell() : null);
  }

  /** Conv-output positions behind a displayed cell, and their taps in padded-input coordinates. */
  function positionsFor(cell, geo) {
    const positions = geo.pool ? poolWindow(cell[0], cell[1], geo.pool) : [cell];
    const taps = [];
    const boxes = [];
    for (const p of positions) {
      const [rows, cols] = tapsPerAxis(p, geo.conv);
      for (const r of rows) for (const c of cols) taps.push({ y: r.padded, x: c.padded });
      boxes.push({ y0: rows[0].padded, x0: cols[0].padded, y1: rows.at(-1).padded, x1: cols.at(-1).padded });
    }
    return { positions, taps, boxes };
  }

  async function refreshMath() {
    const root = $("window-math");
    const cell = currentCell();
    const state = store.get();
    const geo = geometryOf(state);
    if (!cell || !geo || !live.ok || !live.out || cell[0] >= live.out.rows || cell[1] >= live.out.cols) {
      paintOverlays();
      if (!cell) paintMathEmpty(root);
      return;
    }
    const info = positionsFor(cell, geo);
    paintOverlays(info);
    if (!info.positions.length) return;
    try {
      const body = { ...convBody(state), positions: info.positions };
      const answer = await latestFrames((signal) => api.frames(body, { signal }));
      const f = filterOf(state);
      const kernelsOf = (filter) => f.kernel[filter].map((k) => (state.flip ? flip2d(k) : k));
      const padded = (frame, r, c) => {
        const y = frame.origin[0] + r * geo.conv[0].d - geo.conv[0].before;
        const x = frame.origin[1] + c * geo.conv[1].d - geo.conv[1].before;
        return y < 0 || x < 0 || y >= geo.conv[0].n || x >= geo.conv[1].n;
      };
      paintMath(root, answer.frames, {
        cell, kernelsOf, padded, flip: state.flip,
        activation: state.activation === "identity" ? null : t(`pg.act.${state.activation}`),
        rgb: state.color === "rgb", depthwise: state.color === "rgb" && state.kmode === "depthwise",
        pool: geo.pool ? {
          mode: state.pool, cells: info.positions, size: [geo.pool[0].k, geo.pool[1].k],
          origin: [cell[0] * geo.pool[0].s - geo.pool[0].before, cell[1] * geo.pool[1].s - geo.pool[1].before],
        } : null,
      });
    } catch (err) {
      if (api.isAbort(err)) return;
      root.replaceChildren(Object.assign(document.createElement("p"), { className: "math-empty", textContent: err.message }));
    }
  }
  const scheduleMath = debounce(refreshMath, 40);

  /** The cell under a finger, held to the map's edge when the finger slides past it. */
  function cellUnder(canvas, e) {
    const rect = canvas.getBoundingClientRect();
    const clamp = (v, n) => Math.min(Math.max(Math.floor(v * n), 0), n - 1);
    return [clamp((e.clientY - rect.top) / rect.height, live.out.rows),
      clamp((e.clientX - rect.left) / rect.width, live.out.cols)];
  }

  // A finger (or a pen) has no hover: where it lands, and wherever it drags, the window is pinned
  // (the stylesheet's touch-action keeps the page from scrolling meanwhile).
  function mountTouch(canvas) {
    let finger = null;
    const pin = (e) => {
      const cell = cellUnder(canvas, e);
      const sel = store.get().selected;
      if (!sel || sel[0] !== cell[0] || sel[1] !== cell[1]) store.set({ selected: cell });
    };
    canvas.addEventListener("pointerdown", (e) => {
      if (e.pointerType === "mouse" || !live.out || finger !== null) return;
      finger = e.pointerId;
      canvas.setPointerCapture(e.pointerId);
      live.hover = null;
      pin(e);
    });
    canvas.addEventListener("pointermove", (e) => {
      if (e.pointerId === finger && live.out) pin(e);
    });
    const lift = (e) => { if (e.pointerId === finger) finger = null; };
    canvas.addEventListener("pointerup", lift);
    canvas.addEventListener("pointercancel", lift);
  }

  function mountHover() {
    const canvas = $("feature-map");
    mountTouch(canvas);
    canvas.addEventListener("pointermove", (e) => {
      if (e.pointerType !== "mouse") return; // a finger pins instead (mountTouch)
      if (!live.out || !live.ok) return;
      const cell = cellAt(canvas, e, live.out.rows, live.out.cols);
      if (!cell || (live.hover && cell[0] === live.hover[0] && cell[1] === live.hover[1])) return;
      live.hover = cell;
      paintOverlays(geometryOf(store.get()) ? positionsFor(cell, geometryOf(store.get())) : null);
      scheduleMath();
    });
    canvas.addEventListener("pointerleave", (e) => {
      if (e.pointerType !== "mouse") return;
      live.hover = null;
      scheduleMath();
    });
    canvas.addEventListener("click", (e) => {
      if (!live.out) return;
      const cell = cellAt(canvas, e, live.out.rows, live.out.cols);
      if (cell) store.set({ selected: cell });
      canvas.focus({ preventScroll: true });
    });
    canvas.addEventListener("keydown", (e) => {
      if (!live.out) return;
      const d = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
      if (e.key === "Escape") { store.set({ selected: null }); live.hover = null; return; }
      if (!d) return;
      e.preventDefault();
      const base = store.get().selected || live.hover || [0, 0];
      const step = e.shiftKey ? 8 : 1;
      const r = Math.min(Math.max(base[0] + d[0] * step, 0), live.out.rows - 1);
      const c = Math.min(Math.max(base[1] + d[1] * step, 0), live.out.cols - 1);
      live.hover = null; // the keyboard now drives the window
      store.set({ selected: [r, c] });
    });
  }

  mountHover();
  return { refresh: refreshMath, schedule: scheduleMath, clamp: clampSelection, paintOverlays };
}

// The drawing pad: strokes from the mouse, a finger or a pen (pointer events), kept in unit
// coordinates so the pad can be redrawn at any size, and read back as a grid of ink 0..1 at a
// fixed resolution (what POST /api/digits/predict takes as `drawing`).

const INK_SIDE = 128;     // the grid sent to the server: enough to resolve a digit drawn small
// Stroke width as a share of the pad's side: a marker, 18 CSS px on the 280 px pad, 23 px on the
// projector's 360, 19 px on a phone's 300; the server redraws the strokes with the UCI pen anyway
// (server/nn/digits.py reduce_drawing), so the width is for the eye, not for the reading.
const LINE = 0.065;

function strokePath(ctx, stroke, side) {
  ctx.beginPath();
  const [first, ...rest] = stroke;
  ctx.moveTo(first.x * side, first.y * side);
  if (!rest.length) ctx.lineTo(first.x * side + 0.01, first.y * side); // a dot
  for (const p of rest) ctx.lineTo(p.x * side, p.y * side);
  ctx.stroke();
}

function setPen(ctx, side, colour) {
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = LINE * side;
  ctx.strokeStyle = colour;
}

/**
 * Wire `canvas`. `onInk()` fires while drawing (callers debounce), `onStroke()` when a stroke ends.
 * Returns {clear, isEmpty, ink, setBackground, redraw}.
 */
export function createPad(canvas, { onInk, onStroke }) {
  const strokes = [];
  let current = null;
  let background = null; // an 8x8 grid (0..16) shown when a link brought pixels instead of strokes

  const ctx = canvas.getContext("2d");
  const colour = () => getComputedStyle(canvas).getPropertyValue("--dg-ink").trim() || "#111";

  function fit() {
    const side = Math.round(canvas.clientWidth * (window.devicePixelRatio || 1));
    if (side > 0 && (canvas.width !== side || canvas.height !== side)) {
      canvas.width = side;
      canvas.height = side;
    }
    return canvas.width;
  }

  function redraw() {
    const side = fit();
    ctx.clearRect(0, 0, side, side);
    if (background && !strokes.length) {
      const cell = side / 8;
      ctx.fillStyle = colour();
      background.forEach((row, r) => row.forEach((v, c) => {
        ctx.globalAlpha = Math.min(v / 16, 1);
        ctx.fillRect(c * cell, r * cell, cell + 0.5, cell + 0.5);
      }));
      ctx.globalAlpha = 1;
    }
    setPen(ctx, side, colour());
    for (const s of strokes) strokePath(ctx, s, side);
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return {
      x: Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1),
      y: Math.min(Math.max((event.clientY - box.top) / box.height, 0), 1),
    };
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture?.(event.pointerId);
    if (background) { background = null; strokes.length = 0; }
    current = [point(event)];
    strokes.push(current);
    redraw();
    onInk();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!current) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const e of events.length ? events : [event]) current.push(point(e));
    const side = canvas.width;
    setPen(ctx, side, colour());
    strokePath(ctx, current.slice(-1 - (events.length || 1)), side);
    onInk();
  });
  const end = () => {
    if (!current) return;
    current = null;
    onStroke();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("lostpointercapture", end);

  new ResizeObserver(() => redraw()).observe(canvas);
  document.addEventListener("themechange", () => redraw());

  return {
    redraw,
    isEmpty: () => strokes.length === 0,
    hasBackground: () => background !== null,
    clear() {
      strokes.length = 0;
      current = null;
      background = null;
      redraw();
    },
    /** Show 8x8 pixels (0..16) from a link until the first stroke. */
    setBackground(pixels) {
      background = pixels;
      strokes.length = 0;
      redraw();
    },
    /** The strokes as INK_SIDE x INK_SIDE ink values 0..1 (two decimals keep the JSON small). */
    ink() {
      const off = document.createElement("canvas");
      off.width = INK_SIDE;
      off.height = INK_SIDE;
      const c = off.getContext("2d", { willReadFrequently: true });
      setPen(c, INK_SIDE, "#000");
      for (const s of strokes) strokePath(c, s, INK_SIDE);
      const alpha = c.getImageData(0, 0, INK_SIDE, INK_SIDE).data;
      const grid = [];
      for (let r = 0; r < INK_SIDE; r++) {
        const row = new Array(INK_SIDE);
        for (let q = 0; q < INK_SIDE; q++) row[q] = Math.round(alpha[(r * INK_SIDE + q) * 4 + 3] / 2.55) / 100;
        grid.push(row);
      }
      return grid;
    },
    side: INK_SIDE,
  };
}

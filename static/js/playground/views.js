// Painters for the two pictures: the (padded) input and the feature map, drawn at one scale,
// with overlays for the receptive field and the selected output cell. Painters only draw what
// they are given; main.js decides what that is.

const LUMA = [0.299, 0.587, 0.114]; // Pillow's convert("L"), which the server uses for "gray"

/** Source index along one axis for a padded coordinate, per PyTorch's padding modes (or -1). */
function source(i, n, mode) {
  if (i >= 0 && i < n) return i;
  if (mode === "zeros") return -1;
  if (mode === "replicate") return Math.min(Math.max(i, 0), n - 1);
  if (mode === "circular") return ((i % n) + n) % n;
  if (mode === "reflect") {
    if (n === 1) return 0;
    const period = 2 * (n - 1);
    let j = ((i % period) + period) % period;
    if (j >= n) j = period - j;
    return j;
  }
  return -1;
}

/** RGBA pixels of the padded input (grey if asked), 1 pixel per array element. */
export function paddedImage(pixels, pads, mode, gray) {
  const [[pt, pb], [pl, pr]] = pads;
  const W = pixels.width + pl + pr;
  const H = pixels.height + pt + pb;
  const out = new ImageData(Math.max(W, 1), Math.max(H, 1));
  const src = pixels.rgba;
  const xs = Array.from({ length: W }, (_, x) => source(x - pl, pixels.width, mode));
  for (let y = 0; y < H; y += 1) {
    const sy = source(y - pt, pixels.height, mode);
    for (let x = 0; x < W; x += 1) {
      const o = (y * W + x) * 4;
      const sx = xs[x];
      out.data[o + 3] = 255;
      if (sy < 0 || sx < 0) continue; // zero padding is black, the value 0
      const i = (sy * pixels.width + sx) * 4;
      if (gray) {
        const l = Math.round(LUMA[0] * src[i] + LUMA[1] * src[i + 1] + LUMA[2] * src[i + 2]);
        out.data[o] = out.data[o + 1] = out.data[o + 2] = l;
      } else {
        out.data[o] = src[i];
        out.data[o + 1] = src[i + 1];
        out.data[o + 2] = src[i + 2];
      }
    }
  }
  return out;
}

/** Size a picture canvas to `w x h` elements shown at `scale` CSS pixels each, and its overlay. */
export function sizeCanvas(canvas, overlay, w, h, scale) {
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const cssW = Math.max(1, Math.round(w * scale));
  const cssH = Math.max(1, Math.round(h * scale));
  canvas.style.width = `${cssW}px`;
  canvas.style.height = `${cssH}px`;
  const dpr = window.devicePixelRatio || 1;
  overlay.width = Math.round(cssW * dpr);
  overlay.height = Math.round(cssH * dpr);
  overlay.style.width = `${cssW}px`;
  overlay.style.height = `${cssH}px`;
}

function overlayContext(overlay, scale) {
  const ctx = overlay.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  ctx.setTransform(dpr * scale, 0, 0, dpr * scale, 0, 0);
  return ctx;
}

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#e69f00";
}

/**
 * Input overlay: the border of the real image inside the padding frame, and the taps of the
 * selected output cells (coordinates in the padded input). `taps`: [{y, x}], `box`: {y0,x0,y1,x1}.
 */
export function drawInputOverlay(overlay, scale, { pads, width, height, taps = [], boxes = [] }) {
  const ctx = overlayContext(overlay, scale);
  const px = 1 / scale; // one CSS pixel in element units
  const [[pt], [pl]] = pads;
  if (pt || pl || pads[0][1] || pads[1][1]) {
    ctx.setLineDash([4 * px, 3 * px]);
    ctx.strokeStyle = "rgba(255,255,255,.9)";
    ctx.lineWidth = 1.5 * px;
    ctx.strokeRect(pl, pt, width, height);
    ctx.strokeStyle = "rgba(0,0,0,.6)";
    ctx.lineDashOffset = 3.5 * px;
    ctx.strokeRect(pl, pt, width, height);
    ctx.setLineDash([]);
  }
  const hi = css("--highlight");
  for (const b of boxes) {
    ctx.fillStyle = "rgba(0,0,0,.18)";
    ctx.fillRect(b.x0, b.y0, b.x1 - b.x0 + 1, b.y1 - b.y0 + 1);
  }
  ctx.fillStyle = hi;
  ctx.globalAlpha = 0.45;
  for (const tp of taps) ctx.fillRect(tp.x, tp.y, 1, 1);
  ctx.globalAlpha = 1;
  ctx.lineWidth = Math.max(2 * px, 0.08);
  for (const b of boxes) {
    ctx.strokeStyle = "#000";
    ctx.strokeRect(b.x0 - px, b.y0 - px, b.x1 - b.x0 + 1 + 2 * px, b.y1 - b.y0 + 1 + 2 * px);
    ctx.strokeStyle = hi;
    ctx.strokeRect(b.x0, b.y0, b.x1 - b.x0 + 1, b.y1 - b.y0 + 1);
  }
  if (boxes.length) {
    const x0 = Math.min(...boxes.map((b) => b.x0));
    const y0 = Math.min(...boxes.map((b) => b.y0));
    const x1 = Math.max(...boxes.map((b) => b.x1)) + 1;
    const y1 = Math.max(...boxes.map((b) => b.y1)) + 1;
    ring(ctx, px, (x0 + x1) / 2, (y0 + y1) / 2, Math.max(x1 - x0, y1 - y0));
  }
}

/** A ring around a spot too small to find on a big screen (a few screen pixels wide). */
function ring(ctx, px, cx, cy, size) {
  if (size / px >= 16) return;
  const r = 14 * px;
  ctx.lineWidth = 3 * px;
  ctx.strokeStyle = "rgba(0,0,0,.55)";
  ctx.beginPath();
  ctx.arc(cx, cy, r + 1.5 * px, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.lineWidth = 2 * px;
  ctx.strokeStyle = css("--highlight");
  ctx.beginPath();
  ctx.arc(cx, cy, r, 0, 2 * Math.PI);
  ctx.stroke();
}

/** Output overlay: outline the cell under the cursor (and the pooled window if any). */
export function drawOutputOverlay(overlay, scale, cell) {
  const ctx = overlayContext(overlay, scale);
  if (!cell) return;
  const px = 1 / scale;
  const [r, c] = cell;
  ctx.lineWidth = Math.max(2 * px, 0.08);
  ctx.strokeStyle = "#000";
  ctx.strokeRect(c - px, r - px, 1 + 2 * px, 1 + 2 * px);
  ctx.strokeStyle = css("--highlight");
  ctx.strokeRect(c, r, 1, 1);
  ring(ctx, px, c + 0.5, r + 0.5, 1);
}

/** Draw a decoded bitmap into a canvas of the same size (pixels stay readable for tests). */
export function paintBitmap(canvas, bitmap) {
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(bitmap, 0, 0);
}

/** The cell (row, col) of a canvas under a pointer event, or null outside. */
export function cellAt(canvas, event, rows, cols) {
  const rect = canvas.getBoundingClientRect();
  const x = (event.clientX - rect.left) / rect.width;
  const y = (event.clientY - rect.top) / rect.height;
  if (x < 0 || y < 0 || x >= 1 || y >= 1) return null;
  return [Math.floor(y * rows), Math.floor(x * cols)];
}

// Pure shape arithmetic shared by every view; mirrors server/core/shapes.py (DESIGN §2).
// No DOM, no fetch: numbers in, numbers (and formula text) out.

/** An int or a list of `ndim` ints -> array of `ndim` ints. */
export function asTuple(value, ndim) {
  if (Array.isArray(value)) return value.map(Number);
  return Array(ndim).fill(Number(value));
}

/**
 * One [before, after] pair per spatial axis, for any padding form:
 * int | int per axis | [before, after] per axis | "valid" | "same" | "full".
 * "same" follows TensorFlow/Keras: out = ceil(n/s), the odd pixel goes after.
 */
export function resolvePadding(padding, { spatial, kernel, stride = 1, dilation = 1 }) {
  const nd = spatial.length;
  const s = asTuple(stride, nd);
  const d = asTuple(dilation, nd);
  if (typeof padding === "string") {
    const word = padding.toLowerCase();
    if (word === "valid") return spatial.map(() => [0, 0]);
    if (word === "full") return kernel.map((k, i) => [d[i] * (k - 1), d[i] * (k - 1)]);
    if (word === "same") {
      return spatial.map((n, i) => {
        const out = Math.ceil(n / s[i]);
        const total = Math.max((out - 1) * s[i] + d[i] * (kernel[i] - 1) + 1 - n, 0);
        return [Math.floor(total / 2), total - Math.floor(total / 2)];
      });
    }
    throw new Error(`unknown padding ${padding}`);
  }
  if (Array.isArray(padding)) {
    return padding.map((p) => (Array.isArray(p) ? [Number(p[0]), Number(p[1])] : [Number(p), Number(p)]));
  }
  return spatial.map(() => [Number(padding), Number(padding)]);
}

/** Output length along one axis (may be < 1: callers show the formula, which explains it). */
export function axisSize({ n, before = 0, after = 0, k, s = 1, d = 1, ceilMode = false }) {
  const span = n + before + after - d * (k - 1) - 1;
  if (!ceilMode) return Math.floor(span / s) + 1;
  let out = Math.ceil(span / s) + 1;
  if (span >= 0 && (out - 1) * s >= n + before) out -= 1; // PyTorch: last window starts inside
  return out;
}

/** The per-axis formula with numbers: "⌊(n + before + after − d·(k−1) − 1) / s⌋ + 1 = out" (⌈⌉ in ceil mode). */
export function axisFormula({ n, before = 0, after = 0, k, s = 1, d = 1, ceilMode = false }) {
  const size = axisSize({ n, before, after, k, s, d, ceilMode });
  const [open, close] = ceilMode ? ["⌈", "⌉"] : ["⌊", "⌋"];
  return {
    size,
    text: `${open}(${n} + ${before} + ${after} − ${d}·(${k}−1) − 1) / ${s}${close} + 1 = ${size}`,
  };
}

/**
 * Everything about one convolution or pooling geometry, per axis:
 * [{n, k, s, d, before, after, size, text, window}], where window = d*(k-1)+1 is the span of the taps.
 */
export function describe({ spatial, kernel, stride = 1, padding = 0, dilation = 1, ceilMode = false }) {
  const nd = spatial.length;
  const s = asTuple(stride, nd);
  const d = asTuple(dilation, nd);
  const pads = resolvePadding(padding, { spatial, kernel, stride: s, dilation: d });
  return spatial.map((n, i) => {
    const axis = { n, k: kernel[i], s: s[i], d: d[i], before: pads[i][0], after: pads[i][1], ceilMode };
    const { size, text } = axisFormula(axis);
    return { ...axis, size, text, window: d[i] * (kernel[i] - 1) + 1 };
  });
}

/** Spatial output shape (entries may be < 1 for an invalid setting). */
export function outputShape(opts) {
  return describe(opts).map((a) => a.size);
}

/** True when every axis of the output has at least one element. */
export function isValid(opts) {
  return describe(opts).every((a) => a.size >= 1);
}

/**
 * Index map: the input coordinates read by output cell `out` (one coordinate per axis).
 * Returns per-axis tap lists [{tap, padded, input, inside}] where `padded` is the coordinate in
 * the padded input (origin = out*stride) and `input` = padded - before (outside 0..n-1 = padding).
 */
export function tapsPerAxis(out, axes) {
  return axes.map((a, i) => {
    const origin = out[i] * a.s;
    return Array.from({ length: a.k }, (_, tap) => {
      const padded = origin + tap * a.d;
      const input = padded - a.before;
      return { tap, padded, input, inside: input >= 0 && input < a.n };
    });
  });
}

/** 2-D convenience: every tap of output (row, col) as {kr, kc, y, x, inside}. */
export function taps2d(row, col, axes) {
  const [rows, cols] = tapsPerAxis([row, col], axes);
  const list = [];
  for (const r of rows) {
    for (const c of cols) list.push({ kr: r.tap, kc: c.tap, y: r.input, x: c.input, inside: r.inside && c.inside });
  }
  return list;
}

/** Bounding box in input coordinates of the taps of output (row, col): {y0, x0, y1, x1} inclusive. */
export function receptiveBox(row, col, axes) {
  const [ar, ac] = axes;
  const y0 = row * ar.s - ar.before;
  const x0 = col * ac.s - ac.before;
  return { y0, x0, y1: y0 + ar.window - 1, x1: x0 + ac.window - 1 };
}

/**
 * The conv-output cells read by pooled cell (row, col): pooling has its own geometry
 * (kernel_size, stride default = kernel_size, padding). Out-of-range cells are dropped.
 */
export function poolWindow(row, col, poolAxes) {
  const [rows, cols] = tapsPerAxis([row, col], poolAxes);
  const cells = [];
  for (const r of rows) {
    for (const c of cols) if (r.inside && c.inside) cells.push([r.input, c.input]);
  }
  return cells;
}

/**
 * The nearest settings that give a non-empty output, tried in the order a student expects:
 * smaller dilation, then padding. Returns a patch like {dilation: 3} or {padding: 2}, or null.
 */
export function nearestValid({ spatial, kernel, stride = 1, padding = 0, dilation = 1 }) {
  const ok = (p) => isValid({ spatial, kernel, stride, padding, dilation, ...p });
  if (ok({})) return null;
  const d = Math.max(...asTuple(dilation, spatial.length));
  for (let dd = d - 1; dd >= 1; dd -= 1) if (ok({ dilation: dd })) return { dilation: dd };
  if (ok({ padding: "same" })) return { padding: "same" };
  for (let p = 1; p <= 64; p += 1) if (ok({ padding: p })) return { padding: p };
  return null;
}

/** Sum of a 2-D array. */
export function sum2d(grid) {
  return grid.reduce((acc, row) => acc + row.reduce((a, v) => a + v, 0), 0);
}

/** Kernel turned by 180 degrees (what flip=true applies). */
export function flip2d(grid) {
  return grid.slice().reverse().map((row) => row.slice().reverse());
}

/** Resize a 2-D kernel to rows x cols, keeping it centred and filling new cells with 0. */
export function resize2d(grid, rows, cols) {
  const r0 = grid.length;
  const c0 = r0 ? grid[0].length : 0;
  const dr = Math.floor((rows - r0) / 2);
  const dc = Math.floor((cols - c0) / 2);
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) => {
      const sr = r - dr;
      const sc = c - dc;
      return sr >= 0 && sr < r0 && sc >= 0 && sc < c0 ? grid[sr][sc] : 0;
    }));
}

// ---- any number of spatial axes (1 to 3), and how the step views draw them ----
// A 1-D signal is drawn as one row of cells, a 2-D map as itself, a 3-D volume as its depth
// slices side by side; every view asks these helpers instead of assuming two axes.

/** Number of elements of an array of `shape`. */
export function sizeOf(shape) {
  return shape.reduce((a, n) => a * n, 1);
}

/** Shape of a nested array (the first element of every level). */
export function shapeOf(array) {
  const shape = [];
  for (let a = array; Array.isArray(a); a = a[0]) shape.push(a.length);
  return shape;
}

/** Every coordinate of `shape`, row-major (the server's order of frames and of patch values). */
export function indices(shape) {
  const out = [];
  const walk = (prefix, axis) => {
    if (axis === shape.length) { out.push(prefix); return; }
    for (let i = 0; i < shape[axis]; i++) walk([...prefix, i], axis + 1);
  };
  walk([], 0);
  return out;
}

/** Row-major position of `coords` in `shape`. */
export function ravel(coords, shape) {
  return coords.reduce((acc, c, i) => acc * shape[i] + c, 0);
}

/** The value at `coords` of a nested array (undefined outside it). */
export function valueAt(array, coords) {
  let a = array;
  for (const c of coords) {
    if (!Array.isArray(a)) return undefined;
    a = a[c];
  }
  return a;
}

/** A nested array of `shape` filled with `fill`. */
export function filled(shape, fill = null) {
  if (!shape.length) return fill;
  return Array.from({ length: shape[0] }, () => filled(shape.slice(1), fill));
}

/** Where a coordinate is drawn: {slice, row, col}. 1-D: row 0; 3-D: the first axis is the slice. */
export function planeOf(coords) {
  if (coords.length === 1) return { slice: 0, row: 0, col: coords[0] };
  if (coords.length === 2) return { slice: 0, row: coords[0], col: coords[1] };
  return { slice: coords[0], row: coords[1], col: coords[2] };
}

/** The grids an array of `shape` is drawn as: {slices, rows, cols} (inverse of planeOf). */
export function planeShape(shape) {
  const { slice, row, col } = planeOf(shape.map((n) => n - 1));
  return { slices: slice + 1, rows: row + 1, cols: col + 1 };
}

/** The coordinate drawn at (slice, row, col) for `ndim` axes. */
export function fromPlane(slice, row, col, ndim) {
  if (ndim === 1) return [col];
  if (ndim === 2) return [row, col];
  return [slice, row, col];
}

/**
 * The taps of one window: [{tap, at}] in row-major kernel order, `tap` the kernel coordinate and
 * `at` = origin + tap*dilation the coordinate in the padded input (origin = position*stride).
 */
export function windowTaps(origin, kernel, dilation) {
  const d = asTuple(dilation, kernel.length);
  return indices(kernel).map((tap) => ({ tap, at: tap.map((k, i) => origin[i] + k * d[i]) }));
}

/**
 * Every padded-input coordinate that the weight at kernel coordinate `tap` multiplies: the same
 * tap of every window. `axes` as returned by describe().
 */
export function weightReach(tap, axes) {
  return indices(axes.map((a) => a.size)).map((out) => out.map((o, i) => o * axes[i].s + tap[i] * axes[i].d));
}

/** The receptive field of output `out`: the input coordinates (padding excluded) it reads. */
export function receptiveField(out, axes) {
  const per = tapsPerAxis(out, axes).map((list) => list.filter((t) => t.inside).map((t) => t.input));
  const shape = per.map((list) => list.length);
  return indices(shape).map((idx) => idx.map((j, i) => per[i][j]));
}

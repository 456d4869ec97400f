// The playground's state: defaults, the URL round trip, and the request bodies derived from it.
// Pure functions only; main.js owns the store.

export const DEFAULTS = Object.freeze({
  sample: "chelsea",       // a bundled photo by name, or null when `image` is an upload
  image: null,             // uploaded image id
  res: 256,                // working size: the longer side the server downscales to
  color: "rgb",            // "rgb" | "gray"
  kmode: "shared",         // "shared" | "per" | "depthwise" (groups = 3, colour kept)
  preset: "sobel_x",
  edited: false,           // true once a cell was changed: the kernel is "custom"
  kernels: null,           // three 2-D kernels (one per channel); in "shared" all are equal
  channel: 0,              // which channel's kernel the editor shows
  bias: 0,
  flip: false,
  padding: "valid",        // "valid" | "same" | "full" | "number"
  padAmount: 1,
  paddingMode: "zeros",
  stride: 1,
  dilation: 1,
  activation: "identity",
  slope: 0.01,             // leaky ReLU: slope for negative inputs
  pool: "none",            // "none" | "max" | "avg"
  poolSize: 2,
  poolStride: 2,
  poolPad: 0,              // implicit padding of the pooling window (at most half of it)
  display: "signed",
  selected: null,          // pinned output cell [row, col] of the displayed map
});

const NUMERIC = ["res", "bias", "slope", "poolSize", "poolStride", "poolPad"];
// One number for both axes, or a (rows, cols) pair: "2" or "2,1".
export const PER_AXIS = ["padAmount", "stride", "dilation"];
const URL_KEYS = {
  sample: "sample", image: "img", res: "res", color: "c", kmode: "km", preset: "p", bias: "b",
  flip: "flip", padding: "pad", padAmount: "pn", paddingMode: "pm", stride: "s", dilation: "d",
  activation: "act", slope: "ns", pool: "pool", poolSize: "ps", poolStride: "pst", poolPad: "pp",
  display: "disp",
};

function encodeKernel(k) {
  return k.map((row) => row.map((v) => String(+v.toFixed(6))).join(",")).join(";");
}

function decodeKernel(text) {
  if (!text) return null;
  const rows = text.split(";").map((r) => r.split(",").map(Number));
  const cols = rows[0].length;
  if (!rows.length || rows.length > 7 || cols < 1 || cols > 7) return null;
  if (rows.some((r) => r.length !== cols || r.some((v) => !Number.isFinite(v)))) return null;
  return rows;
}

/** State -> query string (only what differs from the defaults, so links stay short). */
export function toQuery(state) {
  const q = new URLSearchParams();
  for (const [key, name] of Object.entries(URL_KEYS)) {
    const v = state[key];
    // The display always goes in: without it a link would fall back to the preset's own choice.
    if (v === null || v === undefined || (v === DEFAULTS[key] && key !== "display")) continue;
    if (key === "sample" && state.image) continue;
    q.set(name, typeof v === "boolean" ? (v ? "1" : "0") : String(v));
  }
  if (state.image && state.sample === null) q.set("sample", "");
  if (state.edited && state.kernels) {
    q.set("k", encodeKernel(state.kernels[0]));
    if (state.kmode !== "shared") {
      q.set("k1", encodeKernel(state.kernels[1]));
      q.set("k2", encodeKernel(state.kernels[2]));
    }
  }
  if (state.selected) q.set("sel", state.selected.join(","));
  return q.toString();
}

/** Query string -> a partial state (unknown or malformed values are dropped, defaults fill in). */
export function fromQuery(search) {
  const q = new URLSearchParams(search);
  const patch = {};
  for (const [key, name] of Object.entries(URL_KEYS)) {
    if (!q.has(name)) continue;
    const raw = q.get(name);
    if (typeof DEFAULTS[key] === "boolean") patch[key] = raw === "1" || raw === "true";
    else if (PER_AXIS.includes(key)) {
      const v = parseAxes(raw);
      if (v !== undefined) patch[key] = v;
    } else if (NUMERIC.includes(key)) {
      const n = Number(raw);
      if (Number.isFinite(n)) patch[key] = n;
    } else patch[key] = raw === "" ? null : raw;
  }
  if (patch.image) patch.sample = null;
  const k0 = decodeKernel(q.get("k"));
  if (k0) {
    const k1 = decodeKernel(q.get("k1"));
    const k2 = decodeKernel(q.get("k2"));
    const same = (a) => a && a.length === k0.length && a[0].length === k0[0].length;
    patch.kernels = [k0, same(k1) ? k1 : k0, same(k2) ? k2 : k0];
    patch.edited = true;
  }
  if (q.has("sel")) {
    const sel = q.get("sel").split(",").map(Number);
    if (sel.length === 2 && sel.every(Number.isInteger)) patch.selected = sel;
  }
  return patch;
}

/**
 * Text typed into a per-axis field -> a number (both axes) or [rows, cols]; undefined while
 * half-typed ("2," or ""). "2, 1", "2 1", "2x1" and "2×1" all read as [2, 1]; "2, 2" as 2.
 */
export function parseAxes(text) {
  if (typeof text === "number") return Number.isFinite(text) ? text : undefined;
  if (Array.isArray(text)) return text.length === 2 ? parseAxes(text.join(",")) : undefined;
  const parts = String(text).trim().split(/\s*[,;x×*\s]\s*/i);
  if (!parts.length || parts.length > 2 || parts.some((p) => p === "")) return undefined;
  const nums = parts.map(Number);
  if (nums.some((n) => !Number.isFinite(n))) return undefined;
  if (nums.length === 1 || nums[0] === nums[1]) return nums[0];
  return nums;
}

/** A per-axis value as the API takes it: an int for both axes, or [rows, cols]. */
export function axesValue(v) {
  return Array.isArray(v) ? v.map(Number) : Number(v);
}

/** The padding value the API takes: a word, or an int (or one per axis) for "number". */
export function paddingValue(state) {
  return state.padding === "number" ? axesValue(state.padAmount) : state.padding;
}

/** The activation as the API takes it: a name, or {name, negative_slope} for leaky ReLU. */
export function activationValue(state) {
  if (state.activation === "leaky_relu") {
    const slope = Number(state.slope);
    return { name: "leaky_relu", negative_slope: Number.isFinite(slope) ? slope : 0.01 };
  }
  return state.activation;
}

/** The weight array (F, C/groups, kh, kw) and bias for the current channel mode. */
export function filterOf(state) {
  const [k0, k1, k2] = state.kernels;
  const b = Number(state.bias) || 0;
  if (state.color === "gray") return { kernel: [[k0]], bias: [b], groups: 1, filters: 1, channels: 1 };
  if (state.kmode === "depthwise") {
    return { kernel: [[k0], [k1], [k2]], bias: [b, b, b], groups: 3, filters: 3, channels: 1 };
  }
  const slices = state.kmode === "per" ? [k0, k1, k2] : [k0, k0, k0];
  return { kernel: [slices], bias: [b], groups: 1, filters: 1, channels: 3 };
}

function imageRef(state) {
  return { image_id: state.imageId, color: state.color, max_side: Number(state.res) };
}

/** The /api/conv body without pooling (what /api/frames takes too). */
export function convBody(state) {
  const f = filterOf(state);
  const body = {
    ...imageRef(state),
    kernel: f.kernel,
    bias: f.bias,
    stride: axesValue(state.stride),
    padding: paddingValue(state),
    padding_mode: state.paddingMode,
    dilation: axesValue(state.dilation),
    groups: f.groups,
    flip: Boolean(state.flip),
  };
  if (state.activation !== "identity") body.activation = activationValue(state);
  return body;
}

export function poolSpec(state) {
  if (state.pool === "none") return null;
  const spec = { mode: state.pool, kernel_size: Number(state.poolSize), stride: Number(state.poolStride) };
  if (Number(state.poolPad)) spec.padding = Number(state.poolPad);
  return spec;
}

/** Layout and mode for /api/conv/render: depthwise results are drawn as one colour picture. */
export function displaySpec(state) {
  const rgb = state.color === "rgb" && state.kmode === "depthwise";
  // One diverging colour per pixel cannot also carry three channels: show magnitudes instead.
  if (rgb && state.display === "signed") return { mode: "abs", layout: "rgb", filter: 0 };
  return { mode: state.display, layout: rgb ? "rgb" : "single", filter: 0 };
}

/** The /api/conv/render body: convolution, activation, pooling and display. */
export function renderBody(state) {
  const body = { ...convBody(state), display: displaySpec(state) };
  const pool = poolSpec(state);
  if (pool) body.pool = pool;
  return body;
}

/** The per-channel partial maps of one filter, then their sum, drawn with one shared range. */
export function stripBody(state) {
  const body = convBody(state);
  delete body.activation;
  return { ...body, display: { mode: state.display === "clip" ? "stretch" : state.display, layout: "grid", per_channel: true } };
}

/** How a kernel reads best: edge detectors (weights summing to 0) answer with signs. */
export function recommendedDisplay(kernel, state) {
  const total = kernel.flat().reduce((a, v) => a + v, 0);
  const depthwise = state.color === "rgb" && state.kmode === "depthwise";
  if (Math.abs(total) < 1e-9) return depthwise ? "abs" : "signed";
  return "stretch";
}

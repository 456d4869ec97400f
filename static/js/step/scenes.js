// Scenes: the plain description of what the step page animates, the lesson's presets, the
// text forms the editor uses, and the URL form that makes a link reproduce the view.
//
// A scene is {op, input (C, *S), kernel (F, C, *K) | null, bias [F] | null, stride [per axis],
// padding (int | [per axis] | "same" | "valid" | "full"), padding_mode, dilation [per axis],
// activation | null, pool [per axis] | null, ceil_mode, flip, groups}. op is "conv", "max", "avg",
// "act" or "transposed" (a transposed convolution, which also has output_padding [per axis]; its
// kernel is written like a convolution's, kernel[f][c], and sent in PyTorch's (C, F/groups, *K)). flip turns the kernel by 180° (true convolution); groups splits the channels.
// S has 1, 2 or 3 spatial axes; how many is read from the input's nesting (sceneDims), never
// stored beside it, so a link cannot carry a count that disagrees with its numbers.
import { shapeOf } from "../geometry.js";

export const OPS = ["conv", "max", "avg", "act", "transposed"];
export const ACTIVATIONS = ["relu", "leaky_relu", "sigmoid", "tanh"];
export const PADDING_MODES = ["zeros", "reflect", "replicate", "circular"];

const BASE = {
  op: "conv", kernel: null, bias: null, stride: [1, 1], padding: 0, padding_mode: "zeros",
  dilation: [1, 1], activation: null, pool: null, ceil_mode: false, flip: false, groups: 1,
};

const FIVE = [
  [-3, 1, 1, -3, 3],
  [-2, -2, -2, -1, -2],
  [-1, 2, 0, 3, 0],
  [-2, 2, 2, 3, 3],
  [-3, 0, -2, -2, -2],
];
const THREE = [[2, 2, -2], [-1, 2, -2], [1, 0, 3]];
const SEVEN = [
  [1, 0, 2, 3, 1, 0, 2],
  [0, 1, 3, 1, 0, 2, 1],
  [2, 3, 0, 1, 2, 1, 0],
  [1, 2, 1, 0, 3, 1, 2],
  [0, 1, 2, 3, 1, 0, 1],
  [3, 0, 1, 2, 0, 1, 3],
  [1, 2, 0, 1, 2, 3, 0],
];
const RGB = [
  [[1, 0, 2, 1, 0], [0, 2, 1, 0, 1], [2, 1, 0, 2, 2], [1, 0, 1, 1, 0], [0, 2, 2, 0, 1]],
  [[0, 1, 1, 2, 2], [1, 1, 0, 0, 2], [2, 0, 1, 1, 0], [0, 2, 2, 1, 1], [1, 0, 0, 2, 1]],
  [[2, 2, 0, 1, 0], [1, 0, 2, 2, 1], [0, 1, 1, 0, 2], [2, 1, 0, 1, 0], [1, 2, 1, 0, 2]],
];
const RGB_KERNEL = [
  [[1, 0, -1], [0, 1, 0], [-1, 0, 1]],
  [[0, 1, 0], [1, -1, 1], [0, 1, 0]],
  [[-1, 0, 0], [0, 0, 1], [1, 0, -1]],
];
const RGB_KERNEL_2 = [
  [[0, -1, 1], [1, 0, 0], [1, -1, 0]],
  [[1, 1, 0], [0, 0, -1], [-1, 0, 1]],
  [[0, 0, 1], [-1, 1, 0], [0, 1, -1]],
];
const POOL_INPUT = [[1, 3, 2, 1], [4, 6, 5, 0], [3, 2, 1, 7], [1, 8, 2, 4]];
// A 1-D signal: a slow rise, a jump and a fall, so the 3-tap kernel's answers differ visibly.
const SIGNAL = [2, 4, 7, 3, 1, 0, 5, 6, 2];
const TAPS = [1, 2, -1];
// A small volume (depth 3 x 4 x 4) and a 2x2x2 kernel: 2 x 3 x 3 = 18 windows.
const VOLUME = [
  [[1, 0, 2, 1], [0, 3, 1, 0], [2, 1, 0, 2], [1, 0, 1, 3]],
  [[0, 2, 1, 0], [1, 1, 0, 2], [3, 0, 2, 1], [0, 1, 2, 0]],
  [[2, 1, 0, 1], [0, 0, 3, 1], [1, 2, 1, 0], [2, 0, 1, 1]],
];
const CUBE = [[[1, 0], [0, -1]], [[0, 1], [-1, 0]]];

const T_BASE = { ...BASE, op: "transposed", kernel: [[[[1, 0, 2], [2, 1, 0], [0, 1, 1]]]], output_padding: [0, 0] };
const T4 = [[1, 0, 2, 1], [0, 1, 1, 0], [2, 1, 0, 1], [1, 0, 1, 2]];
const T5 = [[2, 1, 0, 1, 3], [0, 3, 1, 2, 0], [1, 0, 2, 1, 1], [3, 1, 0, 0, 2], [0, 2, 1, 3, 1]];
const T6 = [[1, 0, 2, 1, 0, 1], [2, 1, 0, 0, 1, 3], [0, 2, 1, 3, 0, 1], [1, 0, 0, 2, 1, 0], [3, 1, 2, 0, 1, 2], [0, 1, 1, 0, 2, 1]];
const T7 = [[1, 0, 2, 0, 1, 0, 1], [0, 2, 0, 1, 0, 3, 0], [2, 0, 1, 0, 2, 0, 1], [0, 1, 0, 3, 0, 1, 0], [1, 0, 2, 0, 1, 0, 2], [0, 3, 0, 1, 0, 2, 0], [1, 0, 1, 0, 2, 0, 1]];

/** The lesson's figures as one-click scenes (titles live in strings.js as st.scene.<id>). */
export const PRESETS = {
  conv3x3: { ...BASE, input: [[[1, 2, 0], [3, 1, 2], [0, 1, 4]]], kernel: [[[[1, 0], [-1, 2]]]] },
  conv5x5: { ...BASE, input: [FIVE], kernel: [[THREE]] },
  same: { ...BASE, input: [FIVE], kernel: [[THREE]], padding: 1 },
  // The lesson's stride figure turns 5x5 into 2x2: with a 3x3 kernel that needs no padding,
  // floor((5 - 3) / 2) + 1 = 2 (padding 1 would give 3x3).
  stride2: { ...BASE, input: [FIVE], kernel: [[THREE]], stride: [2, 2] },
  dilation: { ...BASE, input: [SEVEN], kernel: [[[[1, 0, -1], [2, 0, -2], [1, 0, -1]]]], dilation: [2, 2] },
  rgb: { ...BASE, input: RGB, kernel: [RGB_KERNEL], bias: [1] },
  filters: { ...BASE, input: RGB, kernel: [RGB_KERNEL, RGB_KERNEL_2], bias: [1, 0], padding: 1, stride: [2, 2] },
  relu: { ...BASE, input: [FIVE], kernel: [[THREE]], bias: [-2], activation: "relu" },
  maxpool: { ...BASE, op: "max", input: [POOL_INPUT], pool: [2, 2], stride: [2, 2] },
  avgpool: { ...BASE, op: "avg", input: [POOL_INPUT], pool: [2, 2], stride: [2, 2] },
  signal1d: { ...BASE, input: [SIGNAL], kernel: [[TAPS]], stride: [1], dilation: [1] },
  stride1d: { ...BASE, input: [SIGNAL], kernel: [[TAPS]], stride: [2], dilation: [1] },
  same1d: { ...BASE, input: [SIGNAL], kernel: [[TAPS]], stride: [1], dilation: [1], padding: "same" },
  volume3d: { ...BASE, input: [VOLUME], kernel: [[CUBE]], stride: [1, 1, 1], dilation: [1, 1, 1] },
  // conv_arithmetic's transposed relationships (Dumoulin & Visin, §4): each transposes the
  // forward convolution named in strings.js (st.scene.<id>.forward), which forwardScene builds.
  t_nopad: { ...T_BASE, input: [[[2, 1], [0, 3]]] },
  t_pad: { ...T_BASE, input: [T6], kernel: [[T4]], padding: 2 },
  t_half: { ...T_BASE, input: [T5], padding: 1 },
  t_full: { ...T_BASE, input: [T7], padding: 2 },
  t_stride: { ...T_BASE, input: [[[2, 1], [0, 3]]], stride: [2, 2] },
  t_stride_pad: { ...T_BASE, input: [[[2, 1, 0], [1, 3, 2], [0, 2, 1]]], stride: [2, 2], padding: 1 },
  t_odd: {
    ...T_BASE, input: [[[2, 1, 0], [1, 3, 2], [0, 2, 1]]], stride: [2, 2], padding: 1, output_padding: [1, 1],
  },
};

/** The presets that are transposed convolutions (the page lists them apart). */
export const TRANSPOSED_PRESETS = Object.keys(PRESETS).filter((name) => PRESETS[name].op === "transposed");

/**
 * The forward convolution a transposed scene transposes: input of the transposed output's size,
 * the same kernel (kernel[c][f]: the roles of channels and filters swap), stride, padding and
 * dilation. Its output has the transposed scene's input size. The input values are a fixed
 * small pattern: only the shapes correspond.
 */
export function forwardScene(scene, outShape) {
  const nd = sceneDims(scene);
  const filters = scene.kernel.length;
  const value = (coords) => coords.reduce((acc, v, i) => acc + v * (i + 2), 0) % 4;
  const fill = (shape, prefix = []) => (shape.length
    ? Array.from({ length: shape[0] }, (_, i) => fill(shape.slice(1), [...prefix, i]))
    : value(prefix));
  const input = Array.from({ length: filters }, (_, f) => fill(outShape, [f]));
  const channels = scene.input.length;
  const kernel = Array.from({ length: channels }, (_, c) => Array.from({ length: filters },
    (_, f) => structuredClone(scene.kernel[f][c % scene.kernel[f].length])));
  return normalize({
    ...BASE, op: "conv", input, kernel, stride: scene.stride, dilation: scene.dilation,
    padding: typeof scene.padding === "number" ? scene.padding : perAxis(scene.padding, nd, 0),
  });
}
export const DEFAULT_PRESET = "conv5x5";

export function presetScene(name) {
  return structuredClone(PRESETS[name] || PRESETS[DEFAULT_PRESET]);
}

/** The preset a scene equals, or null (so a link can stay short). */
export function matchPreset(scene) {
  const key = JSON.stringify(normalize(scene));
  for (const [name, preset] of Object.entries(PRESETS)) {
    if (JSON.stringify(normalize(preset)) === key) return name;
  }
  return null;
}

/** Spatial axes of a scene (1, 2 or 3): the input is (C, *S). */
export function sceneDims(scene) {
  const nd = Array.isArray(scene?.input) ? shapeOf(scene.input).length - 1 : 2;
  return Math.max(1, Math.min(3, nd));
}

/** One value per axis: an int is repeated; a list of another length repeats its first entry. */
export function perAxis(v, nd, dflt) {
  if (Array.isArray(v) && v.length === nd) return v.map(Number);
  const one = Array.isArray(v) ? v[0] : v;
  return Array(nd).fill(Number(one ?? dflt));
}

/** Fill defaults and fix the shape of every field, so equal scenes serialise equally. */
export function normalize(scene) {
  const s = { ...BASE, ...scene };
  const nd = sceneDims(s);
  s.stride = perAxis(s.stride, nd, s.op === "max" || s.op === "avg" ? (s.pool ? [s.pool].flat()[0] : 2) : 1);
  s.dilation = perAxis(s.dilation, nd, 1);
  if (Array.isArray(s.padding) && s.padding.length !== nd) s.padding = 0;
  if (s.op === "max" || s.op === "avg") {
    s.pool = perAxis(s.pool || 2, nd, 2);
    s.kernel = null;
    s.bias = null;
    s.activation = null;
  } else if (s.op === "act") {
    s.pool = null;
    s.kernel = null;
    s.bias = null;
    s.activation = s.activation || "relu";
    s.padding = 0;
  } else {
    s.pool = null;
  }
  if (s.op === "transposed") {
    // PyTorch's transposed convolution: padding is whole numbers per axis, zeros, no activation
    if (typeof s.padding === "string" || (Array.isArray(s.padding) && s.padding.some(Array.isArray))) s.padding = 0;
    s.padding_mode = "zeros";
    s.activation = null;
    s.ceil_mode = false;
  }
  const groups = Math.round(Number(s.groups));
  s.groups = (s.op === "conv" || s.op === "transposed") && Number.isFinite(groups) && groups >= 1 ? groups : 1;
  s.flip = s.op === "conv" && Boolean(s.flip);
  if (s.bias !== null && !Array.isArray(s.bias)) s.bias = [Number(s.bias)];
  const out = {
    op: s.op, input: s.input, kernel: s.kernel, bias: s.bias, stride: s.stride,
    padding: s.padding, padding_mode: s.padding_mode, dilation: s.dilation,
    activation: s.activation, pool: s.pool, ceil_mode: Boolean(s.ceil_mode), flip: s.flip,
    groups: s.groups,
  };
  if (s.op === "transposed") out.output_padding = perAxis(s.output_padding ?? 0, nd, 0);
  return out;
}

// ---- URL form ----

function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0)));
}

/** Query string (without "?") for a scene and a frame: short for presets, compact JSON otherwise. */
export function sceneToQuery(scene, { frame = 0, filter = null } = {}) {
  const params = new URLSearchParams();
  const preset = matchPreset(scene);
  if (preset) params.set("scene", preset);
  else params.set("s", toBase64Url(JSON.stringify(normalize(scene))));
  if (frame) params.set("frame", String(frame));
  if (filter) params.set("filter", String(filter));
  return params.toString();
}

/** {scene, frame} from a query string; unknown or broken values fall back to the default scene. */
export function sceneFromQuery(search) {
  const params = new URLSearchParams(search);
  let scene = null;
  if (params.has("s")) {
    try {
      scene = normalize(JSON.parse(fromBase64Url(params.get("s"))));
      if (!Array.isArray(scene.input)) scene = null;
    } catch {
      scene = null;
    }
  }
  if (!scene) scene = normalize(presetScene(params.get("scene")));
  const frame = Math.max(0, parseInt(params.get("frame") || "0", 10) || 0);
  return { scene, frame };
}

// ---- text forms for the editor ----

/** A parse error that the editor words in the user's language (`key` in strings.js). */
function parseError(key, params = {}, english = key) {
  const err = new Error(english);
  err.key = key;
  err.params = params;
  return err;
}

const num = (v) => String(Number.isInteger(v) ? v : Math.round(v * 1000) / 1000);

export function matrixToText(channels) {
  return channels.map((m) => m.map((row) => row.map(num).join(" ")).join("\n")).join("\n\n");
}

/**
 * Text of an input (C, *S): 1-D one line per channel; 2-D one row per line, an empty line between
 * channels; 3-D the same per depth slice, with a line of === between channels.
 */
export function arrayToText(channels, nd = 2) {
  if (nd === 1) return channels.map((line) => line.map(num).join(" ")).join("\n");
  if (nd === 3) return channels.map((volume) => matrixToText(volume)).join("\n===\n");
  return matrixToText(channels);
}

export function kernelToText(kernel, nd = 2) {
  return (kernel || []).map((filter) => arrayToText(filter, nd)).join("\n---\n");
}

/** Parse "1 2\n3 4\n\n5 6\n7 8" into channels of equal-sized rows; throws Error with a reason. */
export function textToMatrix(text) {
  const blocks = text.trim().split(/\n\s*\n/).filter((b) => b.trim());
  if (!blocks.length) throw parseError("st.parse.empty", {}, "empty");
  const channels = blocks.map((block) => block.trim().split("\n").map(numbersOf));
  const h = channels[0].length;
  const w = channels[0][0].length;
  for (const ch of channels) {
    if (ch.length !== h || ch.some((row) => row.length !== w)) {
      throw parseError("st.parse.ragged", { w, h }, `every row must have ${w} numbers and every channel ${h} rows`);
    }
  }
  return channels;
}

function numbersOf(line) {
  const cells = line.trim().split(/[\s,;]+/).filter(Boolean).map((v) => Number(v.replace("−", "-")));
  if (cells.some((v) => !Number.isFinite(v))) {
    throw parseError("st.parse.nan_in", { line: line.trim() }, `not a number in "${line.trim()}"`);
  }
  return cells;
}

/** Parse the text of an input with `nd` spatial axes (see arrayToText) into (C, *S). */
export function textToArray(text, nd = 2) {
  if (nd === 2) return textToMatrix(text);
  if (nd === 1) {
    const lines = text.split("\n").filter((line) => line.trim());
    if (!lines.length) throw parseError("st.parse.empty", {}, "empty");
    const channels = lines.map(numbersOf);
    const w = channels[0].length;
    if (channels.some((line) => line.length !== w)) {
      throw parseError("st.parse.ragged.1d", { w }, `every line must have ${w} numbers`);
    }
    return channels;
  }
  const blocks = text.split(/\n\s*={3,}\s*(?:\n|$)/).filter((b) => b.trim());
  if (!blocks.length) throw parseError("st.parse.empty", {}, "empty");
  const channels = blocks.map(textToMatrix);
  const key = JSON.stringify(shapeOf(channels[0]));
  if (channels.some((v) => JSON.stringify(shapeOf(v)) !== key)) {
    const [d, h, w] = shapeOf(channels[0]);
    throw parseError("st.parse.ragged.3d", { d, h, w }, `every channel must be ${d} slices of ${h}×${w}`);
  }
  return channels;
}

export function textToKernel(text, nd = 2) {
  return text.split(/\n\s*-{3,}\s*\n/).filter((b) => b.trim()).map((block) => textToArray(block, nd));
}

export function textToBias(text) {
  const parts = text.trim().split(/[\s,;]+/).filter(Boolean);
  if (!parts.length) return null;
  const values = parts.map((v) => Number(v.replace("−", "-")));
  if (values.some((v) => !Number.isFinite(v))) throw parseError("st.parse.nan", {}, "not a number");
  return values;
}

/** The message key of a per-axis field for `nd` axes: 2-D keeps the original wording. */
const axesKey = (base, nd) => (nd === 2 ? base : `${base}.${nd}d`);

/** "1", "2, 1", "same" -> what the API accepts, for `nd` spatial axes. */
export function textToPadding(text, nd = 2) {
  const word = text.trim().toLowerCase();
  if (["same", "valid", "full"].includes(word)) return word;
  const parts = word.split(/[\s,;x×]+/).filter(Boolean).map(Number);
  const ok = parts.length === 1 || parts.length === nd || (nd === 2 && parts.length > 2);
  if (!parts.length || !ok || parts.some((v) => !Number.isInteger(v) || v < 0)) {
    throw parseError(axesKey("st.parse.padding", nd), {}, "use a whole number ≥ 0, one per axis, same, valid or full");
  }
  return parts.length === 1 ? parts[0] : parts.slice(0, nd);
}

/** "2" or "2 1" (one per axis) -> a list of `nd` whole numbers ≥ 1. */
export function textToAxes(text, nd = 2) {
  const parts = text.trim().split(/[\s,;x×]+/).filter(Boolean).map(Number);
  const ok = parts.length === 1 || parts.length === nd || (nd === 2 && parts.length > 2);
  if (!parts.length || !ok || parts.some((v) => !Number.isInteger(v) || v < 1)) {
    throw parseError(axesKey("st.parse.pair", nd), {}, "use a whole number ≥ 1, or one per axis");
  }
  return parts.length === 1 ? Array(nd).fill(parts[0]) : parts.slice(0, nd);
}

export function textToPair(text) {
  return textToAxes(text, 2);
}

/** "12", "5 7" or "3 4 4": the shape of a random input, one number per axis (1 to 3 axes). */
export function textToSize(text) {
  const parts = text.trim().split(/[\s,;x×]+/).filter(Boolean).map(Number);
  if (!parts.length || parts.length > 3 || parts.some((v) => !Number.isInteger(v) || v < 1)) {
    throw parseError("st.parse.size", {}, "use one to three whole numbers ≥ 1");
  }
  return parts;
}

/** Text of a per-axis value: one number when every axis agrees. */
export function axesToText(values) {
  return values.every((v) => v === values[0]) ? String(values[0]) : values.join(" ");
}

export function paddingToText(padding) {
  return Array.isArray(padding) ? padding.map((p) => (Array.isArray(p) ? p.join(" ") : p)).join(", ") : String(padding);
}

/** Random integers in [lo, hi], shape (C, *shape). */
export function randomInput(c, shape, lo = 0, hi = 9) {
  const pick = () => lo + Math.floor(Math.random() * (hi - lo + 1));
  const fill = (axes) => (axes.length ? Array.from({ length: axes[0] }, () => fill(axes.slice(1))) : pick());
  return Array.from({ length: c }, () => fill(shape));
}

/** Make the kernel's channel axis match the input: repeat or drop slices. */
export function fitKernel(kernel, channels) {
  if (!kernel) return kernel;
  return kernel.map((filter) => Array.from({ length: channels }, (_, c) => structuredClone(filter[c % filter.length])));
}

/** What a new scene of `nd` axes starts from: an input and a kernel (F = 1, C = 1). */
export const STARTERS = {
  1: { input: [SIGNAL], kernel: [[TAPS]] },
  2: { input: [FIVE], kernel: [[THREE]] },
  3: { input: [VOLUME], kernel: [[CUBE]] },
};

/** The kernel a convolution gets when none is typed: one filter over `channels` channels. */
export function defaultKernel(nd, channels = 1) {
  const first = { 1: [1, 0, -1], 2: [[1, 0, -1], [1, 0, -1], [1, 0, -1]], 3: CUBE }[nd];
  return fitKernel([[first]], channels);
}

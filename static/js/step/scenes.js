// Scenes: the plain description of what the step page animates, the lesson's presets, the
// text forms the editor uses, and the URL form that makes a link reproduce the view.
//
// A scene is {op, input (C,H,W), kernel (F,C,kh,kw) | null, bias [F] | null, stride [sy,sx],
// padding (int | [rows, cols] | "same" | "valid" | "full"), padding_mode, dilation [dy,dx],
// activation | null, pool [kh,kw] | null, ceil_mode, flip, groups}. op is "conv", "max", "avg"
// or "act". flip turns the kernel by 180° (true convolution); groups splits the channels.

export const OPS = ["conv", "max", "avg", "act"];
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
};
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

/** Fill defaults and fix the shape of every field, so equal scenes serialise equally. */
export function normalize(scene) {
  const s = { ...BASE, ...scene };
  const pair = (v, dflt) => (Array.isArray(v) ? [Number(v[0]), Number(v[v.length > 1 ? 1 : 0])] : [Number(v ?? dflt), Number(v ?? dflt)]);
  s.stride = pair(s.stride, s.op === "max" || s.op === "avg" ? (s.pool ? s.pool[0] : 2) : 1);
  s.dilation = pair(s.dilation, 1);
  if (s.op === "max" || s.op === "avg") {
    s.pool = pair(s.pool || 2, 2);
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
  const groups = Math.round(Number(s.groups));
  s.groups = s.op === "conv" && Number.isFinite(groups) && groups >= 1 ? groups : 1;
  s.flip = s.op === "conv" && Boolean(s.flip);
  if (s.bias !== null && !Array.isArray(s.bias)) s.bias = [Number(s.bias)];
  return {
    op: s.op, input: s.input, kernel: s.kernel, bias: s.bias, stride: s.stride,
    padding: s.padding, padding_mode: s.padding_mode, dilation: s.dilation,
    activation: s.activation, pool: s.pool, ceil_mode: Boolean(s.ceil_mode), flip: s.flip,
    groups: s.groups,
  };
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

export function kernelToText(kernel) {
  return (kernel || []).map(matrixToText).join("\n---\n");
}

/** Parse "1 2\n3 4\n\n5 6\n7 8" into channels of equal-sized rows; throws Error with a reason. */
export function textToMatrix(text) {
  const blocks = text.trim().split(/\n\s*\n/).filter((b) => b.trim());
  if (!blocks.length) throw parseError("st.parse.empty", {}, "empty");
  const channels = blocks.map((block) => block.trim().split("\n").map((line) => {
    const cells = line.trim().split(/[\s,;]+/).filter(Boolean).map((v) => Number(v.replace("−", "-")));
    if (cells.some((v) => !Number.isFinite(v))) {
      throw parseError("st.parse.nan_in", { line: line.trim() }, `not a number in "${line.trim()}"`);
    }
    return cells;
  }));
  const h = channels[0].length;
  const w = channels[0][0].length;
  for (const ch of channels) {
    if (ch.length !== h || ch.some((row) => row.length !== w)) {
      throw parseError("st.parse.ragged", { w, h }, `every row must have ${w} numbers and every channel ${h} rows`);
    }
  }
  return channels;
}

export function textToKernel(text) {
  return text.split(/\n\s*-{3,}\s*\n/).filter((b) => b.trim()).map(textToMatrix);
}

export function textToBias(text) {
  const parts = text.trim().split(/[\s,;]+/).filter(Boolean);
  if (!parts.length) return null;
  const values = parts.map((v) => Number(v.replace("−", "-")));
  if (values.some((v) => !Number.isFinite(v))) throw parseError("st.parse.nan", {}, "not a number");
  return values;
}

/** "1", "2, 1", "same" -> what the API accepts. */
export function textToPadding(text) {
  const word = text.trim().toLowerCase();
  if (["same", "valid", "full"].includes(word)) return word;
  const parts = word.split(/[\s,;x×]+/).filter(Boolean).map(Number);
  if (!parts.length || parts.some((v) => !Number.isInteger(v) || v < 0)) {
    throw parseError("st.parse.padding", {}, "use a whole number ≥ 0, two of them, same, valid or full");
  }
  return parts.length === 1 ? parts[0] : [parts[0], parts[1]];
}

export function textToPair(text) {
  const parts = text.trim().split(/[\s,;x×]+/).filter(Boolean).map(Number);
  if (!parts.length || parts.some((v) => !Number.isInteger(v) || v < 1)) {
    throw parseError("st.parse.pair", {}, "use a whole number ≥ 1 or two of them");
  }
  return [parts[0], parts[parts.length > 1 ? 1 : 0]];
}

export function paddingToText(padding) {
  return Array.isArray(padding) ? padding.map((p) => (Array.isArray(p) ? p.join(" ") : p)).join(", ") : String(padding);
}

/** Random integers in [lo, hi], shape (C, H, W). */
export function randomInput(c, h, w, lo = 0, hi = 9) {
  const pick = () => lo + Math.floor(Math.random() * (hi - lo + 1));
  return Array.from({ length: c }, () => Array.from({ length: h }, () => Array.from({ length: w }, pick)));
}

/** Make the kernel's channel axis match the input: repeat or drop slices. */
export function fitKernel(kernel, channels) {
  if (!kernel) return kernel;
  return kernel.map((filter) => Array.from({ length: channels }, (_, c) => structuredClone(filter[c % filter.length])));
}

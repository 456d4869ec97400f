// Keras's layer vocabulary as the page edits it: arguments with their Keras defaults, the
// defaults a new layer starts with, and the preset stacks. Names and defaults mirror
// server/nn/_keras_args.py; the server stays the judge of what is valid.

export const ACTIVATIONS = [
  "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "mish", "sigmoid",
  "hard_sigmoid", "hard_silu", "tanh", "softmax", "log_softmax", "softplus", "softsign",
  "exponential", "linear",
];

// kind: int | ints (an int or one per spatial axis, "3x5") | intsOrNull (pooling strides:
//       empty = pool_size) | zpad (ZeroPadding's int, per axis, or [before, after] pairs)
//       | padding | activation (null allowed) | act (required) | bool | rate
//       | number | numberOrNull
const convSpec = (nd) => [
  { name: "filters", kind: "int", keras: null, max: 8192 },
  { name: "kernel_size", kind: "ints", nd, keras: null },
  { name: "strides", kind: "ints", nd, keras: 1 },
  { name: "padding", kind: "padding", keras: "valid" },
  { name: "dilation_rate", kind: "ints", nd, keras: 1 },
  { name: "groups", kind: "int", keras: 1, max: 8192 },
  { name: "activation", kind: "activation", keras: null },
  { name: "use_bias", kind: "bool", keras: true },
];
const poolSpec = (nd) => [
  { name: "pool_size", kind: "ints", nd, keras: 2 },
  { name: "strides", kind: "intsOrNull", nd, keras: null },
  { name: "padding", kind: "padding", keras: "valid" },
];
const globalSpec = () => [{ name: "keepdims", kind: "bool", keras: false }];
const zeroPadSpec = (nd) => [{ name: "padding", kind: "zpad", nd, keras: 1 }];
const perAxes = (name, spec) => Object.fromEntries([1, 2, 3].map((d) => [name.replace("{d}", d), spec(d)]));

export const SPECS = {
  ...perAxes("Conv{d}D", convSpec),
  ...perAxes("MaxPooling{d}D", poolSpec),
  ...perAxes("AveragePooling{d}D", poolSpec),
  ...perAxes("GlobalMaxPooling{d}D", globalSpec),
  ...perAxes("GlobalAveragePooling{d}D", globalSpec),
  ...perAxes("ZeroPadding{d}D", zeroPadSpec),
  BatchNormalization: [
    { name: "center", kind: "bool", keras: true },
    { name: "scale", kind: "bool", keras: true },
    { name: "epsilon", kind: "number", keras: 0.001, min: 0 },
  ],
  Activation: [{ name: "activation", kind: "act", keras: null }],
  ReLU: [
    { name: "max_value", kind: "numberOrNull", keras: null, min: 0 },
    { name: "negative_slope", kind: "number", keras: 0, min: 0 },
    { name: "threshold", kind: "number", keras: 0 },
  ],
  LeakyReLU: [{ name: "negative_slope", kind: "number", keras: 0.3, min: 0 }],
  Softmax: [],
  Dropout: [{ name: "rate", kind: "rate", keras: null }],
  Flatten: [],
  Dense: [
    { name: "units", kind: "int", keras: null, max: 1048576 },
    { name: "activation", kind: "activation", keras: null },
    { name: "use_bias", kind: "bool", keras: true },
  ],
};

export const TYPES = Object.keys(SPECS);

/** The add-layer buttons in groups (every type exactly once), in the order a stack reads. */
export const GROUPS = [
  ["conv", ["Conv1D", "Conv2D", "Conv3D"]],
  ["pool", ["MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
            "AveragePooling3D"]],
  ["global", ["GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
              "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D"]],
  ["shape", ["ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Flatten"]],
  ["act", ["Activation", "ReLU", "LeakyReLU", "Softmax", "BatchNormalization", "Dropout"]],
  ["dense", ["Dense"]],
];

/** Spatial axes a type slides over (1, 2 or 3; 0 for the others), from its Keras name. */
export function spatialAxes(type) {
  const m = /([123])D$/.exec(type || "");
  return m ? Number(m[1]) : 0;
}

// What a freshly added layer holds: Keras's defaults plus a sensible value for the required ones.
const STARTERS = {
  ...Object.fromEntries([1, 2, 3].map((d) => [`Conv${d}D`, { filters: 8, kernel_size: 3, activation: "relu" }])),
  Activation: { activation: "relu" },
  Dropout: { rate: 0.5 },
  Dense: { units: 10 },
};

/** A new layer of `type`, every argument present (so the editor has a value for each). */
export function newLayer(type, overrides = {}) {
  const layer = { type };
  for (const spec of SPECS[type]) layer[spec.name] = spec.keras;
  return { ...layer, ...(STARTERS[type] || {}), ...overrides };
}

/** Only what differs from Keras's defaults (plus required arguments): for URLs and code. */
export function explicitArgs(layer) {
  const out = [];
  for (const spec of SPECS[layer.type] || []) {
    const value = layer[spec.name];
    if (spec.keras === null && (value === null || value === undefined)) continue;
    if (spec.keras !== null && JSON.stringify(value) === JSON.stringify(spec.keras)) continue;
    out.push([spec.name, value]);
  }
  return out;
}

/** An argument as text, for a control and for the URL: 3, 3x5, or JSON for padding pairs. */
export function formatArg(spec, value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.some(Array.isArray) ? JSON.stringify(value) : value.join("x");
  return String(value);
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const INTS = /^\d+(?:\s*[x×*,]\s*\d+){0,2}$/;

/** Text back into the API's value. Text it cannot read goes as it is, so the server's message
 *  (naming this very field) explains what is wrong. */
export function parseArg(spec, text) {
  const s = String(text).trim();
  switch (spec.kind) {
    case "bool": return s === "true";
    case "activation": return s === "" ? null : s;
    case "padding": case "act": return s;
    case "int": case "rate": case "number":
      if (s === "") return null;
      return NUMBER.test(s) ? Number(s) : s;
    case "numberOrNull":
      if (s === "") return null;
      return NUMBER.test(s) ? Number(s) : s;
    default: break;
  }
  if (s === "" && spec.kind === "intsOrNull") return null;
  if (spec.kind === "zpad" && s.startsWith("[")) {
    try { return JSON.parse(s); } catch { return s; }
  }
  if (!INTS.test(s)) return s;
  const parts = s.split(/\s*[x×*,]\s*/).map(Number);
  return parts.length === 1 ? parts[0] : parts;
}

const conv = (filters, kernel, more = {}) => newLayer("Conv2D", { filters, kernel_size: kernel, ...more });
const dense = (units, activation = null) => newLayer("Dense", { units, activation });

// Preset stacks. "dense28" and "lesson" take the same 28x28 picture to the same 10 classes:
// compare their totals to see what sharing one small kernel across the image saves.
export const PRESETS = {
  lesson: {
    input: [28, 28, 1],
    layers: [
      conv(32, 3), newLayer("MaxPooling2D"), conv(64, 3), newLayer("MaxPooling2D"),
      newLayer("Flatten"), newLayer("Dropout", { rate: 0.5 }), dense(10, "softmax"),
    ],
  },
  lenet5: {
    input: [32, 32, 1],
    layers: [
      conv(6, 5, { activation: "tanh" }), newLayer("AveragePooling2D"),
      conv(16, 5, { activation: "tanh" }), newLayer("AveragePooling2D"), newLayer("Flatten"),
      dense(120, "tanh"), dense(84, "tanh"), dense(10, "softmax"),
    ],
  },
  vgg: {
    input: [32, 32, 3],
    layers: [
      conv(32, 3, { padding: "same" }), conv(32, 3, { padding: "same" }), newLayer("MaxPooling2D"),
      conv(64, 3, { padding: "same" }), conv(64, 3, { padding: "same" }), newLayer("MaxPooling2D"),
      newLayer("Flatten"), dense(10, "softmax"),
    ],
  },
  dense28: {
    input: [28, 28, 1],
    layers: [newLayer("Flatten"), dense(128, "relu"), dense(10, "softmax")],
  },
};

/** Deep copy of a preset, so editing the stack never changes the preset itself. */
export function presetStack(name) {
  return JSON.parse(JSON.stringify(PRESETS[name]));
}

// Keras's defaults of every argument an uploaded model's layers carry (server/nn/_keras_args.py),
// so the code of a model writes only what its author chose.
const CONV_DEFAULTS = { strides: 1, padding: "valid", dilation_rate: 1, groups: 1, activation: null, use_bias: true };
const POOL_DEFAULTS = { pool_size: 2, strides: null, padding: "valid" };
export const KERAS_DEFAULTS = {
  ...perAxes("Conv{d}D", () => CONV_DEFAULTS),
  ...perAxes("MaxPooling{d}D", () => POOL_DEFAULTS),
  ...perAxes("AveragePooling{d}D", () => POOL_DEFAULTS),
  ...perAxes("GlobalMaxPooling{d}D", () => ({ keepdims: false })),
  ...perAxes("GlobalAveragePooling{d}D", () => ({ keepdims: false })),
  ...perAxes("ZeroPadding{d}D", () => ({ padding: 1 })),
  BatchNormalization: { axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true },
  Activation: {}, ReLU: { max_value: null, negative_slope: 0, threshold: 0 },
  LeakyReLU: { negative_slope: 0.3 }, Softmax: { axis: -1 }, Dropout: { seed: null }, Flatten: {},
  Dense: { activation: null, use_bias: true },
};

/** True when `value` says what Keras's `fallback` says ([1, 1] is 1, "linear" is None). */
export function isDefault(value, fallback) {
  const norm = (v) => (v === "linear" ? null : v);
  if (JSON.stringify(norm(value)) === JSON.stringify(norm(fallback))) return true;
  return Array.isArray(value) && fallback !== null && typeof fallback !== "object"
    && value.every((v) => v === fallback);
}

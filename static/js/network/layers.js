// Keras's layer vocabulary as the page edits it: arguments with their Keras defaults, the
// defaults a new layer starts with, and the preset stacks. Names and defaults mirror
// server/core/_keras_args.py; the server stays the judge of what is valid.

export const ACTIVATIONS = [
  "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "mish", "sigmoid",
  "hard_sigmoid", "hard_silu", "tanh", "softmax", "log_softmax", "softplus", "softsign",
  "exponential", "linear",
];

// kind: int | pair (an int or "3x5") | padding | activation (null allowed) | act (required)
//       | bool | rate | pairOrNull (pooling strides: empty = pool_size)
export const SPECS = {
  Conv2D: [
    { name: "filters", kind: "int", keras: null, max: 8192 },
    { name: "kernel_size", kind: "pair", keras: null },
    { name: "strides", kind: "pair", keras: 1 },
    { name: "padding", kind: "padding", keras: "valid" },
    { name: "dilation_rate", kind: "pair", keras: 1 },
    { name: "activation", kind: "activation", keras: null },
    { name: "use_bias", kind: "bool", keras: true },
  ],
  MaxPooling2D: [
    { name: "pool_size", kind: "pair", keras: 2 },
    { name: "strides", kind: "pairOrNull", keras: null },
    { name: "padding", kind: "padding", keras: "valid" },
  ],
  AveragePooling2D: [
    { name: "pool_size", kind: "pair", keras: 2 },
    { name: "strides", kind: "pairOrNull", keras: null },
    { name: "padding", kind: "padding", keras: "valid" },
  ],
  GlobalMaxPooling2D: [],
  GlobalAveragePooling2D: [],
  BatchNormalization: [
    { name: "center", kind: "bool", keras: true },
    { name: "scale", kind: "bool", keras: true },
  ],
  Activation: [{ name: "activation", kind: "act", keras: null }],
  Dropout: [{ name: "rate", kind: "rate", keras: null }],
  Flatten: [],
  Dense: [
    { name: "units", kind: "int", keras: null, max: 1048576 },
    { name: "activation", kind: "activation", keras: null },
    { name: "use_bias", kind: "bool", keras: true },
  ],
};

export const TYPES = Object.keys(SPECS);

// What a freshly added layer holds: Keras's defaults plus a sensible value for the required ones.
const STARTERS = {
  Conv2D: { filters: 8, kernel_size: 3, activation: "relu" },
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

// The arithmetic of one frame as text: "1·3 + 0·(−1) + … + 1 = 7".
// Pure functions of a frame and the model, shared by the stage and the tests' expectations.
import { fmt } from "../i18n.js";

const wrap = (v) => (v < 0 ? `(${fmt(v)})` : fmt(v));
const ACT_NAMES = { relu: "ReLU", leaky_relu: "LeakyReLU", sigmoid: "σ", tanh: "tanh", identity: "id" };

export function activationName(name) {
  return ACT_NAMES[name] || name;
}

/** Products of one channel: "x·w + x·w + …" in row-major tap order. */
function channelTerms(patch, weights) {
  const terms = [];
  patch.forEach((row, i) => row.forEach((x, j) => terms.push(`${wrap(x)}·${wrap(weights[i][j])}`)));
  return terms.join(" + ");
}

/** Full formula of a frame (conv, pooling or activation). */
export function frameFormula(model, frame) {
  if (model.op === "max") {
    const vals = [];
    frame.patch[0].forEach((row) => row.forEach((v) => { if (Number.isFinite(v)) vals.push(fmt(v)); }));
    return `max(${vals.join(", ")}) = ${fmt(frame.output)}`;
  }
  if (model.op === "avg") {
    const vals = [];
    frame.patch[0].forEach((row) => row.forEach((v) => { if (!Number.isNaN(v)) vals.push(wrap(v)); }));
    return `(${vals.join(" + ")}) / ${frame.divisor} = ${fmt(frame.output)}`;
  }
  if (model.op === "act") {
    return `${activationName(model.activation)}(${fmt(frame.value)}) = ${fmt(frame.output)}`;
  }
  const kernel = model.kernelOf(frame.map);
  const parts = frame.patch.map((patch, c) => channelTerms(patch, kernel[c]));
  let text = parts.length > 1 ? parts.map((p) => `(${p})`).join(" + ") : parts[0];
  if (model.bias) text += ` + ${wrap(frame.bias)}`;
  text += ` = ${fmt(frame.value)}`;
  if (model.activation) text += `  →  ${activationName(model.activation)}(${fmt(frame.value)}) = ${fmt(frame.output)}`;
  return text;
}

/** Per-channel lines for multi-channel frames: ["(…) = 4", …]. */
export function channelFormulas(model, frame) {
  if (model.op !== "conv" || frame.patch.length < 2) return [];
  const kernel = model.kernelOf(frame.map);
  return frame.patch.map((patch, c) => `${channelTerms(patch, kernel[c])} = ${fmt(frame.channel_sums[c])}`);
}

// The arithmetic of one frame as text: "1·3 + 0·(−1) + … + 1 = 7".
// Pure functions of a frame and the model, shared by the stage and the tests' expectations.
import { fmt, t } from "../i18n.js";

const wrap = (v) => (v < 0 ? `(${fmt(v)})` : fmt(v));
const ACT_NAMES = { relu: "ReLU", leaky_relu: "LeakyReLU", sigmoid: "σ", tanh: "tanh", identity: "id" };

export function activationName(name) {
  return ACT_NAMES[name] || name;
}

/** Values of a patch or kernel with any number of axes, row-major (the server's tap order). */
const flat = (a) => (Array.isArray(a) ? a.flat(Infinity) : [a]);

/** Products of one channel: "x·w + x·w + …" in row-major tap order. */
function channelTerms(patch, weights) {
  const w = flat(weights);
  return flat(patch).map((x, i) => `${wrap(x)}·${wrap(w[i])}`).join(" + ");
}

/**
 * Words for a coordinate, for 1, 2 or 3 axes: "position 3", "row 1, column 2",
 * "depth 0, row 1, column 2" (keys st.pos.<nd>).
 */
export function positionText(at) {
  const [a, b, c] = at;
  if (at.length === 1) return t("st.pos.1", { i: a });
  if (at.length === 2) return t("st.pos.2", { r: a, c: b });
  return t("st.pos.3", { z: a, r: b, c });
}

/** Full formula of a frame (conv, pooling or activation). */
export function frameFormula(model, frame) {
  if (model.op === "max") {
    const vals = flat(frame.patch[0]).filter((v) => Number.isFinite(v)).map((v) => fmt(v));
    return `max(${vals.join(", ")}) = ${fmt(frame.output)}`;
  }
  if (model.op === "avg") {
    const vals = flat(frame.patch[0]).filter((v) => !Number.isNaN(v)).map(wrap);
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
  if ((model.op !== "conv" && !model.transposed) || frame.patch.length < 2) return [];
  const kernel = model.kernelOf(frame.map);
  return frame.patch.map((patch, c) => `${channelTerms(patch, kernel[c])} = ${fmt(frame.channel_sums[c])}`);
}

// The stack in the URL, readable by people:
//   ?input=28x28x1&layers=Conv2D:filters=32:kernel_size=3,MaxPooling2D,Flatten,Dense:units=10
// Layers are separated by commas, arguments by colons; only what differs from Keras's defaults
// is written, so a link stays short and reads like the Keras call.
import { SPECS, explicitArgs, formatArg, newLayer, parseArg } from "./layers.js";

/** The query string of a stack (without "?"). */
export function stackToQuery({ input, layers }) {
  const parts = layers.map((layer) => [layer.type, ...explicitArgs(layer).map(
    ([name, value]) => `${name}=${encodeURIComponent(formatArg(null, value))}`)].join(":"));
  return `input=${input.join("x")}&layers=${parts.join(",")}`;
}

/** A stack from a query string, or null when there is none or it cannot be read. */
export function stackFromQuery(search) {
  const params = new URLSearchParams(search);
  const inputText = params.get("input");
  if (!inputText) return null;
  const input = inputText.split("x").map(Number);
  if (input.length < 1 || input.length > 4 || input.some((n) => !Number.isInteger(n))) return null;
  const layers = [];
  const text = params.get("layers") || "";
  for (const chunk of text.split(",").filter(Boolean)) {
    const [type, ...args] = chunk.split(":");
    if (!SPECS[type]) return null; // a link from elsewhere: better the default than a guess
    const layer = newLayer(type);
    for (const arg of args) {
      const [name, raw] = arg.split("=");
      const spec = SPECS[type].find((s) => s.name === name);
      if (!spec || raw === undefined) return null;
      const text = decodeURIComponent(raw);
      // an empty value is null only where null is allowed; elsewhere it stays text for the server
      layer[name] = text === "" && !/OrNull$|activation/.test(spec.kind) ? text : parseArg(spec, text);
    }
    layers.push(layer);
  }
  return { input, layers };
}

// The stack in the URL, readable by people:
//   ?input=28x28x1&layers=Conv2D:filters=32:kernel_size=3,MaxPooling2D,Flatten,Dense:units=10
// Layers are separated by commas, arguments by colons; only what differs from Keras's defaults
// is written, so a link stays short and reads like the Keras call.
import { SPECS, explicitArgs, newLayer } from "./layers.js";

function formatValue(value) {
  if (Array.isArray(value)) return value.join("x");
  return String(value);
}

function parseValue(spec, text) {
  if (spec.kind === "bool") return text === "true";
  if (spec.kind === "rate") return Number(text);
  if (spec.kind === "int") return /^\d+$/.test(text) ? Number(text) : text;
  if (spec.kind === "pair" || spec.kind === "pairOrNull") {
    const m = /^(\d+)(?:x(\d+))?$/.exec(text);
    if (!m) return text;
    return m[2] === undefined ? Number(m[1]) : [Number(m[1]), Number(m[2])];
  }
  return text; // padding and activation names
}

/** The query string of a stack (without "?"). */
export function stackToQuery({ input, layers }) {
  const parts = layers.map((layer) => [layer.type, ...explicitArgs(layer).map(
    ([name, value]) => `${name}=${encodeURIComponent(formatValue(value))}`)].join(":"));
  return `input=${input.join("x")}&layers=${parts.join(",")}`;
}

/** A stack from a query string, or null when there is none or it cannot be read. */
export function stackFromQuery(search) {
  const params = new URLSearchParams(search);
  const inputText = params.get("input");
  if (!inputText) return null;
  const input = inputText.split("x").map(Number);
  if (input.length !== 3 || input.some((n) => !Number.isInteger(n))) return null;
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
      layer[name] = parseValue(spec, decodeURIComponent(raw));
    }
    layers.push(layer);
  }
  return { input, layers };
}

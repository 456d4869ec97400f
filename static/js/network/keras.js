// The stack as Keras code a student can paste into a notebook: keras.Sequential with
// keras.Input, only the arguments that differ from Keras's defaults, keyword style.
import { explicitArgs } from "./layers.js";

function py(value) {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (Array.isArray(value)) return `(${value.map(py).join(", ")})`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/** Python source of the stack; `summary()` at the end prints what the page shows. */
export function kerasCode({ input, layers }) {
  const lines = [
    "import keras",
    "from keras import layers",
    "",
    "model = keras.Sequential([",
    `    keras.Input(shape=${py(input)}),`,
  ];
  for (const layer of layers) {
    const args = explicitArgs(layer).map(([name, value]) => `${name}=${py(value)}`);
    lines.push(`    layers.${layer.type}(${args.join(", ")}),`);
  }
  lines.push("])", "model.summary()");
  return lines.join("\n");
}

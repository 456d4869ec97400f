// The stack as Keras code a student can paste into a notebook: keras.Sequential with
// keras.Input, only the arguments that differ from Keras's defaults, keyword style.
import { KERAS_DEFAULTS, explicitArgs, isDefault } from "./layers.js";

export function py(value) {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  // a one-element tuple needs its comma: (3,) is a tuple, (3) is the number 3
  if (Array.isArray(value)) return value.length === 1 ? `(${py(value[0])},)` : `(${value.map(py).join(", ")})`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

function sequential(input, rows) {
  return [
    "import keras",
    "from keras import layers",
    "",
    "model = keras.Sequential([",
    `    keras.Input(shape=${py(input)}),`,
    ...rows.map(([type, args]) => `    layers.${type}(${args.join(", ")}),`),
    "])",
    "model.summary()",
  ];
}

/** Python source of the stack; `summary()` at the end prints what the page shows. */
export function kerasCode({ input, layers }) {
  return sequential(input, layers.map((layer) => [
    layer.type, explicitArgs(layer).map(([name, value]) => `${name}=${py(value)}`)])).join("\n");
}

/** An uploaded model's architecture as the same Sequential, its own names kept; the weights
 *  stay in the file (`load_model` reads both). */
export function modelCode({ input, layers }, fileName) {
  const rows = layers.map((layer) => {
    const defaults = KERAS_DEFAULTS[layer.type] || {};
    const args = Object.entries(layer)
      .filter(([name, value]) => name !== "type" && name !== "name" && !isDefault(value, defaults[name]))
      .map(([name, value]) => `${name}=${py(value)}`);
    return [layer.type, [...args, `name=${py(layer.name)}`]];
  });
  const lines = sequential(input, rows);
  lines.splice(3, 0, `# ${fileName ? `${fileName}: ` : ""}the same layers; keras.saving.load_model() reads them with their weights`);
  return lines.join("\n");
}

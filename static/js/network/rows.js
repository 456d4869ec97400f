// The editable rows of the stack: one <li> per layer with its Keras arguments inline, and the
// empty slots (shape glyph, output, parameters, note, error) that view.js fills from the server.
// Rows are rebuilt only when the stack's structure changes, so typing never loses focus.
import { t } from "../i18n.js";
import { ACTIVATIONS, SPECS, formatArg, parseArg } from "./layers.js";
import { el } from "../dom.js";

// The kind of layer, for its colour: weights (conv, dense), pooling, reshaping, other.
export function familyOf(type) {
  if (/^Conv[123]D$/.test(type)) return "conv";
  if (type === "Dense") return "dense";
  if (/Pooling[123]D$/.test(type)) return "pool";
  if (/^ZeroPadding[123]D$/.test(type) || type === "Flatten") return "reshape";
  if (type === "BatchNormalization") return "norm";
  return "act";
}
export const FAMILY = Object.fromEntries(Object.keys(SPECS).map((type) => [type, familyOf(type)]));

/** The value a control holds, as the API expects it; text it cannot read goes as it is, so
 *  the server's message (naming this very field) explains what is wrong. */
export function readArg(spec, input) {
  if (spec.kind === "bool") return input.checked;
  return parseArg(spec, input.value);
}

function control(spec, value, id) {
  const common = { id, "data-arg": spec.name, "data-testid": `arg-${spec.name}` };
  if (spec.kind === "bool") {
    const box = el("input", { ...common, type: "checkbox" });
    box.checked = Boolean(value);
    return box;
  }
  if (spec.kind === "padding" || spec.kind === "activation" || spec.kind === "act") {
    const names = spec.kind === "padding" ? ["valid", "same"] : ACTIVATIONS;
    const select = el("select", common);
    if (spec.kind === "activation") select.append(el("option", { value: "", text: t("nw.act.none") }));
    for (const name of names) {
      if (spec.kind === "activation" && name === "linear") continue; // "none" is linear
      select.append(el("option", { value: name, text: name }));
    }
    select.value = value ?? "";
    return select;
  }
  if (spec.kind === "int" || spec.kind === "rate") {
    const rate = spec.kind === "rate";
    return el("input", {
      ...common, type: "number", inputmode: rate ? "decimal" : "numeric",
      min: rate ? "0" : "1", max: rate ? "0.95" : String(spec.max), step: rate ? "0.05" : "1",
      value: formatArg(spec, value),
    });
  }
  if (spec.kind === "number" || spec.kind === "numberOrNull") {
    const input = el("input", { ...common, type: "number", inputmode: "decimal", step: "any",
                                value: formatArg(spec, value) });
    if (spec.min !== undefined) input.min = String(spec.min);
    if (spec.kind === "numberOrNull") input.placeholder = t("nm.arg.none");
    return input;
  }
  const zpad = spec.kind === "zpad";
  const input = el("input", {
    ...common, type: "text", inputmode: zpad ? "text" : "numeric", size: "5", spellcheck: "false",
    value: formatArg(spec, value),
    title: t(zpad ? `nm.zpad.hint${spec.nd}` : `nm.ints.hint${spec.nd}`),
  });
  if (spec.kind === "intsOrNull") input.placeholder = t("nw.strides.same");
  if (zpad) input.classList.add("nm-wide");
  return input;
}

function tool(testid, label, symbol, action) {
  return el("button", {
    type: "button", class: "btn btn-small nw-tool", "data-testid": testid, "data-action": action,
    title: label, "aria-label": label,
  }, [symbol]);
}

/** An uploaded model's arguments as read-only text: its weights and structure come from the file. */
function readOnlyArgs(layer) {
  const args = el("dl", { class: "nw-args nm-args", "data-testid": "layer-config" });
  for (const [name, value] of Object.entries(layer)) {
    if (name === "type" || name === "name") continue;
    const text = value === null ? "None" : (Array.isArray(value) ? JSON.stringify(value).replace(/,/g, ", ") : String(value));
    args.append(el("div", { class: "nm-arg", "data-arg": name }, [
      el("dt", {}, [el("code", { text: name })]), el("dd", { text }),
    ]));
  }
  return args;
}

function row(layer, index, count, readOnly = false) {
  const family = familyOf(layer.type);
  const li = el("li", { class: "nw-row", "data-index": String(index), "data-family": family,
                        "data-testid": "layer-row" });
  const head = el("div", { class: "nw-row-head" }, [
    el("span", { class: "nw-index", text: String(index) }), // numbered like layers[i] in errors
    el("span", { class: "nw-type", "data-testid": "layer-type", text: layer.type }),
    el("code", { class: "nw-name", "data-testid": "layer-name" }),
    el("span", { class: "nw-type-hint", text: t(`nw.type.${layer.type}`) }),
  ]);
  const tools = el("span", { class: "nw-tools" }, [
    tool("move-up", t("nw.up"), "↑", "up"), tool("move-down", t("nw.down"), "↓", "down"),
    tool("remove-layer", t("nw.remove"), "✕", "remove"),
  ]);
  tools.children[0].disabled = index === 0;
  tools.children[1].disabled = index === count - 1;
  if (!readOnly) head.append(tools);

  const args = readOnly ? readOnlyArgs(layer) : el("div", { class: "nw-args" });
  for (const spec of readOnly ? [] : SPECS[layer.type]) {
    const id = `nw-${index}-${spec.name}`;
    const input = control(spec, layer[spec.name], id);
    const label = el("label", { for: id }, [el("code", { text: spec.name })]);
    const cls = spec.kind === "bool" ? "nw-arg nw-arg-bool" : "nw-arg";
    args.append(el("div", { class: cls, "data-arg": spec.name }, [label, input]));
  }

  const result = el("div", { class: "nw-result" }, [
    el("div", { class: "nw-glyph", "aria-hidden": "true" }),
    el("div", { class: "nw-numbers" }, [
      el("span", { class: "nw-shape", "data-testid": "layer-shape" }),
      el("span", { class: "nw-params", "data-testid": "layer-params" }),
      el("code", { class: "nw-formula", "data-testid": "layer-formula" }),
      el("span", { class: "nw-bar", "aria-hidden": "true" }, [el("span")]),
    ]),
  ]);
  const note = el("p", { class: "nw-note caption", "data-testid": "layer-note" });
  const explain = el("p", { class: "nw-explain", "data-testid": "layer-explain" });
  const error = el("div", { class: "nw-error error-box", "data-testid": "layer-error",
                            role: "alert", hidden: "" });
  const foot = el("div", { class: "nw-foot" }, [note, explain]);
  li.append(head, el("div", { class: "nw-body" }, [args, result]), foot, error);
  return li;
}

/** Rebuild the list for `layers`; `onEdit(index, name, value)` and `onTool(index, action)`;
 *  `readOnly`: an uploaded model's layers, shown but not editable. */
export function renderRows(list, layers, { onEdit, onTool, readOnly = false }) {
  list.replaceChildren(...layers.map((layer, i) => row(layer, i, layers.length, readOnly)));
  list.classList.toggle("nm-readonly", readOnly);
  list.onclick = (event) => {
    if (readOnly) return;
    const button = event.target.closest("[data-action]");
    if (!button) return;
    onTool(Number(button.closest(".nw-row").dataset.index), button.dataset.action);
  };
  list.oninput = list.onchange = (event) => {
    const input = event.target.closest("[data-arg]");
    const rowEl = event.target.closest(".nw-row");
    if (readOnly || !input || !rowEl || input.classList.contains("nw-arg")) return;
    const index = Number(rowEl.dataset.index);
    const spec = SPECS[layers[index].type].find((s) => s.name === input.dataset.arg);
    onEdit(index, spec.name, readArg(spec, input));
  };
}

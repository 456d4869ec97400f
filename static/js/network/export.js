// Download buttons of the layer-stack page: the stack and its weights as a PyTorch or Keras zip,
// or the weights as .npz (POST /api/network/export). `extra()` adds request fields, e.g. the
// photo a run used (`image_id`), so the scripts print the output for that same input;
// `request()` replaces the stack (e.g. `{model_id}` for an uploaded model) when it answers one.
import "./matrix_strings.js";
import * as api from "../api.js";
import { t } from "../i18n.js";

const FORMATS = [["pytorch", "svertka_pytorch.zip"], ["keras", "svertka_keras.zip"], ["npz", "weights.npz"]];

function save(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function mountExport(panel, store, { extra = () => ({}), request = () => null } = {}) {
  const body = panel.querySelector("[data-export]");
  const lead = Object.assign(document.createElement("p"), { className: "caption" });
  const row = Object.assign(document.createElement("div"), { className: "mx-export-row" });
  const caption = Object.assign(document.createElement("p"), { className: "caption" });
  const error = Object.assign(document.createElement("p"), { className: "error-box", hidden: true });
  error.dataset.testid = "export-error";
  error.setAttribute("role", "alert");
  const buttons = FORMATS.map(([format, filename]) => {
    const b = Object.assign(document.createElement("button"), { type: "button", className: "btn btn-small" });
    Object.assign(b.dataset, { format, filename, testid: `export-${format}` });
    return b;
  });
  row.append(...buttons);
  body.replaceChildren(lead, row, caption, error);

  function label() {
    lead.textContent = t("ex.lead");
    caption.textContent = t("ex.caption");
    for (const b of buttons) b.textContent = t(`ex.${b.dataset.format}`);
  }

  row.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-format]");
    if (!button) return;
    const { input, layers } = store.get();
    button.disabled = true;
    try {
      const base = request() || { input_shape: input, layers, seed: 0 };
      const blob = await api.networkExport({ ...base, ...extra() }, button.dataset.format);
      error.hidden = true;
      save(blob, button.dataset.filename);
    } catch (err) {
      error.textContent = t("ex.error", { message: err.message });
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  document.addEventListener("langchange", label);
  label();
}

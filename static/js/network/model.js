// "Open your model" on the layer-stack page: a Keras file from the picker or dropped anywhere on
// the page goes to POST /api/models; a link's `model=<id>` comes back through GET
// /api/models/{id}. The server's refusal (which layer, why) is shown beside the picker, and the
// banner over the stack says which model is open and leads back to one's own stack.
import "./model_strings.js";
import * as api from "../api.js";
import { t } from "../i18n.js";

const $ = (sel, root = document) => root.querySelector(sel);
const byId = (id) => $(`[data-testid="${id}"]`);
const MODEL_FILE = /\.(keras|h5|hdf5)$/i;

/**
 * Wire the model panel. `onOpen(summary, name)` receives a model's /api/models answer (and its
 * file name when known), `onClose()` the way back. Returns {reopen(id), shown(summary, name)}.
 */
export function mountModel({ onOpen, onClose }) {
  const page = byId("network-page");
  const input = byId("model-input");
  const status = byId("model-status");
  const errorBox = byId("model-error");
  const latest = api.latestOnly();
  let said = null;      // the status line as {key, params}: a language switch rewords it
  let failure = null;   // the error shown as {key, params, message}
  let open = null;      // {summary, name} of the model in the banner

  function say(key, params) {
    said = key ? { key, params } : null;
    status.textContent = key ? t(key, params) : "";
  }

  function fail(key, params, message = "") {
    failure = key ? { key, params, message } : null;
    errorBox.hidden = !key;
    errorBox.replaceChildren();
    if (!key) return;
    const lead = Object.assign(document.createElement("p"), { className: "nm-error-lead", textContent: t(key, params) });
    errorBox.append(lead);
    if (message) errorBox.append(Object.assign(document.createElement("p"), { textContent: message }));
  }

  function banner() {
    const box = byId("model-banner");
    box.hidden = !open;
    if (!open) return;
    const { summary, name } = open;
    byId("model-name").textContent = name || summary.id.slice(0, 12);
    const facts = [t(`nm.banner.format.${summary.format}`)];
    if (summary.keras_version) facts.push(t("nm.banner.version", { v: summary.keras_version }));
    facts.push(t("nm.banner.layers", { n: summary.layers.length, shape: summary.input_shape.join(" × ") }));
    byId("model-facts").textContent = facts.join(" · ");
  }

  async function upload(file) {
    if (!file) return;
    say("nm.uploading", { name: file.name });
    fail(null);
    page.setAttribute("aria-busy", "true");
    try {
      const summary = await latest((signal) => api.uploadModel(file, { signal }));
      say(null);
      onOpen(summary, file.name);
    } catch (err) {
      if (api.isAbort(err)) return;
      say(null);
      fail("nm.refused", { name: file.name }, err.message);
      page.setAttribute("aria-busy", "false");
    }
  }

  async function reopen(id) {
    say("nm.opening");
    fail(null);
    page.setAttribute("aria-busy", "true");
    try {
      const summary = await latest((signal) => api.getModel(id, { signal }));
      say(null);
      onOpen(summary, null);
      return true;
    } catch (err) {
      if (api.isAbort(err)) return false;
      say(null);
      page.setAttribute("aria-busy", "false");
      if (err.status === 404) fail("nm.evicted");
      else fail("nm.refused", { name: id.slice(0, 12) }, err.message);
      return false;
    }
  }

  input.addEventListener("change", () => {
    upload(input.files && input.files[0]);
    input.value = ""; // choosing the same file again still fires "change"
  });

  // Dropping anywhere: a model file opens; the photo box keeps its own drops of photos.
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
  document.addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault(); // else the browser would leave the page to show the file
    page.classList.add("nm-dragging");
  });
  document.addEventListener("dragleave", (e) => {
    if (!e.relatedTarget) page.classList.remove("nm-dragging");
  });
  document.addEventListener("drop", (e) => {
    page.classList.remove("nm-dragging");
    if (!hasFiles(e)) return;
    e.preventDefault();
    const file = e.dataTransfer.files[0];
    if (!file) return;
    const inPhotoBox = e.target instanceof Element && e.target.closest("#dropzone, #views");
    if (MODEL_FILE.test(file.name)) upload(file);
    else if (!inPhotoBox && file.type.startsWith("image/")) fail("nm.not_model", { name: file.name });
    else if (!inPhotoBox) upload(file); // let the server say what it is
  });

  byId("model-close").addEventListener("click", () => {
    fail(null);
    onClose();
  });

  document.addEventListener("langchange", () => {
    if (said) say(said.key, said.params);
    if (failure) fail(failure.key, failure.params, failure.message);
    banner();
  });

  return {
    reopen,
    /** The page shows `summary` (null: one's own stack again): update the banner. */
    shown(summary, name) {
      open = summary ? { summary, name } : null;
      if (summary) fail(null);
      banner();
    },
  };
}

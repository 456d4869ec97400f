// Running the stack on a photo: the photo (a sample or an upload, picked the playground's way),
// how it becomes the input (the stack's shape follows the photo, or the photo is resized to the
// stack's shape), Run or live runs (debounced, latest only), and the answer painted under the
// layer cards. Its own small store, mirrored in the URL next to the stack.
import "./run_strings.js";
import "./model_strings.js";
import * as api from "../api.js";
import { t, fmt } from "../i18n.js";
import { createStore, debounce } from "../state.js";
import { mountImagePicker } from "../playground/image.js";
import { paintMaps, clearMaps } from "./maps.js";
import { createInspector } from "./inspect.js";

export const SIDES = [32, 48, 64, 96, 128, 160, 224];
export const SEED = 0;
const DEFAULTS = {
  sample: "chelsea", image: null, side: 64, color: "gray", fit: "shape", scale: "unit",
  live: false, training: false,
};
const VECTOR_MAX = 4096;  // vectors up to this length come back as numbers (bars)
const MASK_MAX = 65536;   // Dropout masks up to this size are drawn
// thumbnails are 44 CSS px tall (60 on the projector): 96 pixels stay sharp on a 2x screen;
// bigger maps come shrunk by block means, and a map opened large is fetched at full size
export const RENDER = { mode: "stretch", max_maps: 64, max_side: 96 };

const $ = (sel, root = document) => root.querySelector(sel);
const byId = (id) => $(`[data-testid="${id}"]`);
const size = (shape) => shape.reduce((a, n) => a * n, 1);

/** Python's round(): halves go to the even neighbour (the server's scaled_size uses it). */
function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** [height, width] of a width x height photo downscaled to `side` (never enlarged). */
export function scaledSize(width, height, side) {
  if (Math.max(width, height) <= side) return [height, width];
  const scale = side / Math.max(width, height);
  return [Math.max(1, roundHalfEven(height * scale)), Math.max(1, roundHalfEven(width * scale))];
}

/** The run options in a query string: only what differs from the defaults ("" or "&a=b..."). */
export function runToQuery(s) {
  const p = new URLSearchParams();
  if (s.image) p.set("img", s.image);
  else if (s.sample !== DEFAULTS.sample) p.set("photo", s.sample || "");
  if (s.fit !== DEFAULTS.fit) p.set("fit", s.fit);
  if (s.side !== DEFAULTS.side) p.set("side", String(s.side));
  if (s.color !== DEFAULTS.color) p.set("color", s.color);
  if (s.scale !== DEFAULTS.scale) p.set("px", s.scale);
  if (s.live) p.set("live", "1");
  if (s.training) p.set("training", "1");
  const text = p.toString();
  return text ? `&${text}` : "";
}

export function runFromQuery(search) {
  const p = new URLSearchParams(search);
  const side = Number(p.get("side"));
  return {
    ...DEFAULTS,
    sample: p.get("img") ? null : (p.get("photo") ?? DEFAULTS.sample),
    image: p.get("img") || null,
    fit: p.get("fit") === "photo" ? "photo" : "shape",
    side: SIDES.includes(side) ? side : DEFAULTS.side,
    color: p.get("color") === "rgb" ? "rgb" : "gray",
    scale: p.get("px") === "raw" ? "raw" : "unit",
    live: p.get("live") === "1",
    training: p.get("training") === "1",
  };
}

/**
 * Wire the run panel. `stack` is the page's store ({input, layers}); `list` the layer list;
 * `onMirror()` rewrites the URL; `model()` the uploaded model open instead (its /api/models
 * summary) or null. Returns {query(), rows(), stackChanged(meta), modelChanged()}.
 */
export function mountRun({ stack, list, onMirror, model = () => null }) {
  const initial = runFromQuery(location.search);
  const store = createStore({ ...initial, imageId: null, orig: null, selected: null });
  const latest = api.latestOnly();
  const status = byId("run-status");
  const errorBox = byId("run-error");
  let samples = [];
  let last = null;    // {key, answer, layers, training, body}
  let running = false;
  let said = null;    // the status line as {key, params}, so a language switch rewords it

  function say(key, params) {
    said = key ? { key, params } : null;
    status.textContent = key ? t(key, params) : "";
  }

  const inspector = createInspector({ runBody: () => last?.body, answer: () => last?.answer, layers: () => last?.layers,
                                      render: RENDER });

  // ---- the request ----

  function body() {
    const { input, layers } = stack.get();
    const s = store.get();
    const m = model();
    if (m) {
      // the model brings its layers, weights and input shape: the photo is fitted to it
      return { model_id: m.id, image_id: s.imageId, training: s.training, seed: SEED,
               pixel_scale: s.scale === "unit" ? 1 / 255 : 1 };
    }
    const b = { layers, image_id: s.imageId, training: s.training, seed: SEED,
                pixel_scale: s.scale === "unit" ? 1 / 255 : 1 };
    if (s.fit === "photo") Object.assign(b, { color: s.color, max_side: s.side });
    else b.input_shape = input;
    return b;
  }
  const keyOf = (b) => JSON.stringify(b);

  /** The layers drawn as thumbnails: maps (1-D or 2-D with channels), except Dropout's in
   * training (its mask is shown instead). */
  function drawnLayers(summary) {
    const { training } = store.get();
    return summary.layers.filter((row) => [2, 3].includes(row.output_shape.length)
      && !(training && row.type === "Dropout")).map((row) => row.name);
  }

  /** Which layers' numbers to ask for: short vectors (bars) and, in training, Dropout masks. */
  function wanted(summary) {
    const { training } = store.get();
    return summary.layers.filter((row, i) => {
      const n = size(row.output_shape);
      if (row.output_shape.length === 1 && n <= VECTOR_MAX) return true;
      return training && stack.get("layers")[i].type === "Dropout" && n <= MASK_MAX;
    }).map((row) => row.name);
  }

  async function run() {
    const s = store.get();
    if (!s.imageId) {
      say("nr.need_photo");
      return;
    }
    const b = body();
    const layers = stack.get("layers");
    running = true;
    byId("run-network").disabled = true;
    say("nr.running");
    errorBox.hidden = true;
    try {
      const answer = await latest(async (signal) => {
        const shape = b.input_shape || shapeFromPhoto();
        const summary = b.model_id ? model() : await api.network({ input_shape: shape, layers }, { signal });
        return api.networkRun({ ...b, outputs: wanted(summary), render: { ...RENDER, layers: drawnLayers(summary) } }, { signal });
      });
      last = { key: keyOf(b), answer, layers, training: b.training, body: b };
      if (!b.model_id && s.fit === "photo" && JSON.stringify(answer.input_shape) !== JSON.stringify(stack.get("input"))) {
        stack.set({ input: answer.input_shape }, { fromRun: true });
      }
      await paint();
      say("nr.done", { n: answer.layers.length, ms: fmt(answer.elapsed_ms, 0) });
      showSource(answer);
      byId("network-page").classList.remove("nr-stale");
    } catch (err) {
      if (api.isAbort(err)) return;
      say(null);
      errorBox.replaceChildren(Object.assign(document.createElement("p"), {
        textContent: `${t("nr.error.run")}: ${err.message}`,
      }));
      errorBox.hidden = false;
    } finally {
      running = false;
      byId("run-network").disabled = false;
    }
  }
  const runSoon = debounce(run, 300);

  async function paint() {
    if (!last) return;
    await paintMaps(list, last.answer, { layers: last.layers, training: last.training, onOpen: (o) => inspector.open(o) });
    list.dataset.ran = last.key;
  }

  function showSource(answer, fromModel = Boolean(last?.body.model_id)) {
    const src = answer.input_source || {};
    const [h, w] = src.size || answer.input_shape;
    const [oh, ow] = src.original || [h, w];
    const grey = fromModel && src.grey ? "nm.source.grey" : "nr.source.grey";
    const color = t(src.color === "rgb" ? "nr.source.rgb" : grey);
    let key = src.resized ? "nr.source.resized" : (oh === h && ow === w ? "nr.source.same" : "nr.source.photo");
    if (fromModel) key = src.resized ? "nm.source" : "nm.source.same";
    const where = byId("input-source");
    Object.assign(where.dataset, { resized: String(Boolean(src.resized)), color: src.color || "", grey: String(Boolean(src.grey)) });
    let text = t(key, { oh, ow, h, w, color });
    if (src.pixel_scale) text += ` ${t("nr.source.scale", { s: src.pixel_scale === 1 / 255 ? "1/255" : fmt(src.pixel_scale, 4) })}`;
    where.textContent = text;
  }

  // ---- the photo and the input shape ----

  function shapeFromPhoto() {
    const s = store.get();
    if (!s.orig) return stack.get("input");
    const [h, w] = scaledSize(s.orig[0], s.orig[1], s.side);
    return [h, w, s.color === "rgb" ? 3 : 1];
  }

  function followPhoto() {
    if (model()) return; // a model's input shape is its own
    if (store.get("fit") !== "photo" || !store.get("orig")) return;
    stack.set({ input: shapeFromPhoto() }, { fromRun: true });
  }

  function paintPanel() {
    const s = store.get();
    document.querySelectorAll("[data-fit]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.fit === s.fit)));
    document.querySelectorAll("[data-scale]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.scale === s.scale)));
    document.querySelectorAll("#nr-side, [data-testid='run-color'] .seg").forEach((c) => { c.disabled = s.fit !== "photo"; });
    byId("run-panel").querySelectorAll("[data-photo-only]").forEach((n) => n.classList.toggle("nr-off", s.fit !== "photo"));
    document.querySelectorAll("[data-testid='run-color'] [data-color]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.color === s.color)));
    byId("run-side").value = String(s.side);
    byId("training-toggle").checked = s.training;
    byId("live-toggle").checked = s.live;
    const m = model();
    const fit = byId("model-fit");
    fit.hidden = !m;
    fit.textContent = m ? t("nm.fit", { shape: m.input_shape.join(" × ") }) : "";
    const photo = byId("run-photo");
    photo.hidden = !s.imageId;
    if (s.imageId) photo.src = api.previewUrl(s.imageId, 192);
    paintInputPhoto();
  }

  /** The photo as the network receives it, beside the input row's glyph. */
  function paintInputPhoto() {
    const s = store.get();
    const row = byId("input-row");
    let img = row.querySelector('[data-testid="input-photo"]');
    // a photo feeds an image input only; a signal or a volume shows no photo
    if (!s.imageId || stack.get("input").length !== 3) { img?.remove(); return; }
    if (!img) {
      img = Object.assign(document.createElement("img"), { alt: "", className: "nr-input-photo" });
      img.dataset.testid = "input-photo";
      row.querySelector(".nw-result").prepend(img);
    }
    const [h, w, c] = stack.get("input");
    img.title = t("nr.input.photo");
    img.src = api.previewUrl(s.imageId, Math.max(h || 1, w || 1));
    img.style.aspectRatio = `${w || 1} / ${h || 1}`;
    img.classList.toggle("nr-grey", c === 1);
  }

  // ---- reacting ----

  /** An open model that a photo can feed ([height, width, 1 or 3]): it runs as soon as it opens. */
  function imageModel() {
    const m = model();
    return Boolean(m) && m.input_shape.length === 3 && [1, 3].includes(m.input_shape[2]);
  }

  function changed() {
    onMirror();
    paintPanel();
    const key = keyOf(body());
    const stale = Boolean(last) && key !== last.key;
    byId("network-page").classList.toggle("nr-stale", stale);
    if (store.get("live") && store.get("imageId") && (!last || stale)) runSoon();
    else if (stale && !running) say("nr.stale");
  }

  store.on("change", ({ keys }) => {
    if (keys.includes("orig") || keys.includes("side") || keys.includes("color") || keys.includes("fit")) followPhoto();
    changed();
    // the training toggle is asked for on a shown result: show the other mode at once
    if (keys.includes("training") && last && !store.get("live")) run();
  });

  byId("run-network").addEventListener("click", () => { runSoon.cancel(); run(); });
  byId("run-fit").addEventListener("click", (e) => {
    const b = e.target.closest("[data-fit]");
    if (b) store.set({ fit: b.dataset.fit });
  });
  byId("run-color").addEventListener("click", (e) => {
    const b = e.target.closest("[data-color]");
    if (b && !b.disabled) store.set({ color: b.dataset.color });
  });
  byId("run-scale").addEventListener("click", (e) => {
    const b = e.target.closest("[data-scale]");
    if (b) store.set({ scale: b.dataset.scale });
  });
  byId("run-side").addEventListener("change", (e) => store.set({ side: Number(e.target.value) }));
  byId("training-toggle").addEventListener("change", (e) => store.set({ training: e.target.checked }));
  byId("live-toggle").addEventListener("change", (e) => store.set({ live: e.target.checked }));
  document.addEventListener("themechange", () => { paint(); });
  document.addEventListener("langchange", () => {
    paint();
    if (last) showSource(last.answer);
    if (said) say(said.key, said.params);
    paintPanel();
  });

  async function start() {
    try {
      samples = await api.listSamples();
    } catch {
      samples = [];
    }
    mountImagePicker(store, samples, { onError: (err, text) => {
      errorBox.replaceChildren(Object.assign(document.createElement("p"), { textContent: `${text}: ${err.message}` }));
      errorBox.hidden = false;
    } });
    const s = store.get();
    if (s.image) {
      try {
        const meta = await api.imageMeta(s.image);
        store.set({ imageId: s.image, orig: [meta.width, meta.height] });
      } catch {
        store.set({ image: null, sample: DEFAULTS.sample });
      }
    }
    if (!store.get("imageId")) {
      const sample = samples.find((x) => x.name === store.get("sample")) || samples[0];
      if (sample) store.set({ sample: sample.name, imageId: sample.id, orig: [sample.width, sample.height] });
    }
    paintPanel();
    if (store.get("live") || (imageModel() && !last)) run();
    else say(store.get("imageId") ? null : "nr.need_photo");
  }
  paintPanel();
  start();

  return {
    query: () => runToQuery(store.get()),
    /** The rows were rebuilt: put the strips back if they still belong to this stack. */
    rows() {
      if (last && last.key === keyOf(body())) paint();
      else clearMaps(list);
    },
    /** The stack changed (`keys`, `meta` of the change): typing an input shape means keeping it. */
    stackChanged(keys, meta) {
      if (keys.includes("input") && meta.edit && store.get("fit") === "photo") store.set({ fit: "shape" });
      changed();
    },
    /** A model was opened or closed: the old maps go, and an image model runs at once. */
    modelChanged() {
      this.rows();
      byId("input-source").textContent = "";
      if (imageModel() && store.get("imageId")) {
        onMirror();
        paintPanel();
        runSoon.cancel();
        run();
      } else {
        changed();
      }
    },
  };
}

// Editing the scene: the typed form (a 1-D signal, a 2-D matrix or a 3-D volume), random inputs,
// and a crop of a photo downscaled to at most 16x16 cells. Everything ends in setScene(scene);
// the page reloads the frames from there.
import * as api from "../api.js";
import { t, getLang } from "../i18n.js";
import {
  STARTERS, arrayToText, axesToText, defaultKernel, fitKernel, kernelToText, paddingToText,
  randomInput, sceneDims, textToArray, textToAxes, textToBias, textToKernel, textToPadding,
  textToSize,
} from "./scenes.js";

const MAX_SIDE = 16;
// Longest side of a random input per number of axes: every step stays on the page.
const RANDOM_SIDE = { 1: 32, 2: MAX_SIDE, 3: 6 };

/** Labels and hints that depend on the number of axes: 2-D keeps the original keys. */
const DIMS_TEXT = {
  "st-input-label": "st.setup.input",
  "st-input-hint": "st.setup.input.hint",
  "st-kernel-hint": "st.setup.kernel.hint",
};

function setDimsText(form, nd) {
  const suffix = nd === 2 ? "" : `.${nd}d`;
  for (const [cls, key] of Object.entries(DIMS_TEXT)) {
    const node = form.querySelector(`.${cls}`);
    node.dataset.i18n = key + suffix;
    node.textContent = t(key + suffix);
  }
  // A signal is a line per channel: smaller boxes keep the form short; a volume needs room.
  form.input.rows = { 1: 3, 2: 6, 3: 9 }[nd];
  form.kernel.rows = { 1: 2, 2: 4, 3: 5 }[nd];
  form.padding.dataset.i18nTitle = `st.setup.padding.hint${suffix}`;
  form.padding.title = t(`st.setup.padding.hint${suffix}`);
}

function showFields(form, op) {
  const group = op === "max" || op === "avg" ? "pool" : op;
  form.querySelectorAll("[data-for]").forEach((label) => {
    const groups = label.dataset.for.split(" ");
    label.hidden = !(groups.includes(group) || groups.includes(op));
  });
}

function fillForm(form, scene) {
  const nd = sceneDims(scene);
  form.op.value = scene.op;
  form.dims.value = String(nd);
  form.input.value = arrayToText(scene.input, nd);
  if (scene.kernel) form.kernel.value = kernelToText(scene.kernel, nd);
  form.bias.value = scene.bias ? scene.bias.join(" ") : "";
  form.stride.value = axesToText(scene.stride);
  form.dilation.value = axesToText(scene.dilation);
  form.padding.value = paddingToText(scene.padding);
  form.padding_mode.value = scene.padding_mode;
  form.activation.value = scene.activation || "";
  if (scene.pool) form.pool.value = axesToText(scene.pool);
  setDimsText(form, nd);
  form.ceil_mode.checked = scene.ceil_mode;
  form.flip.checked = Boolean(scene.flip);
  form.groups.value = String(scene.groups || 1);
  form.output_padding.value = axesToText(scene.output_padding || [0]);
  showFields(form, scene.op);
}

function readForm(form, previous) {
  const field = (name, parse, label) => {
    try {
      return parse(form[name].value);
    } catch (err) {
      const detail = err.key ? t(err.key, err.params) : err.message;
      throw new Error(t("st.error.parse", { field: label, detail }));
    }
  };
  const op = form.op.value;
  const nd = Number(form.dims.value);
  const axes = (v) => textToAxes(v, nd);
  const inputLabel = form.querySelector(".st-input-label").textContent;
  const input = field("input", (v) => textToArray(v, nd), inputLabel);
  const scene = { ...previous, op, input };
  scene.stride = field("stride", axes, t("st.setup.stride"));
  scene.padding = field("padding", (v) => textToPadding(v, nd), t("st.setup.padding"));
  scene.dilation = field("dilation", axes, t("st.setup.dilation"));
  scene.padding_mode = form.padding_mode.value;
  scene.activation = form.activation.value || null;
  scene.ceil_mode = form.ceil_mode.checked;
  if (op === "conv") {
    const text = form.kernel.value.trim();
    scene.kernel = text ? field("kernel", (v) => textToKernel(v, nd), t("st.setup.kernel")) : defaultKernel(nd, input.length);
    scene.bias = field("bias", textToBias, t("st.setup.bias"));
    scene.flip = form.flip.checked;
    scene.groups = field("groups", (v) => textToAxes(v, 1)[0], t("st.setup.groups"));
  } else if (op === "transposed") {
    const text = form.kernel.value.trim();
    scene.kernel = text ? field("kernel", (v) => textToKernel(v, nd), t("st.setup.kernel")) : defaultKernel(nd, input.length);
    scene.bias = field("bias", textToBias, t("st.setup.bias"));
    scene.groups = field("groups", (v) => textToAxes(v, 1)[0], t("st.setup.groups"));
    scene.output_padding = field("output_padding", (v) => textToCounts(v, nd), t("st.setup.output_padding"));
    scene.activation = null;
  } else if (op === "max" || op === "avg") {
    scene.pool = field("pool", axes, t("st.setup.pool"));
  }
  return scene;
}

/** "0" or "1 0": whole numbers ≥ 0, one per axis (output_padding). */
function textToCounts(text, nd) {
  const parts = text.trim().split(/[\s,;x×]+/).filter(Boolean).map(Number);
  if (!parts.length || (parts.length !== 1 && parts.length !== nd) || parts.some((v) => !Number.isInteger(v) || v < 0)) {
    const err = new Error("use whole numbers ≥ 0");
    err.key = "st.parse.counts";
    throw err;
  }
  return parts.length === 1 ? Array(nd).fill(parts[0]) : parts;
}

/**
 * A new input keeps the rest of the scene; a convolution gets a kernel with matching channels,
 * and one with as many axes as the input (the default kernel when the axes changed).
 */
function withInput(scene, input) {
  const nd = sceneDims({ input });
  const next = { ...scene, input };
  const keep = next.kernel && sceneDims(scene) === nd ? next.kernel : defaultKernel(nd);
  if (next.padding_mode !== "zeros") next.padding_mode = "zeros";
  // Groups must divide the channels; a new input that breaks that starts from one group.
  if (input.length % (next.groups || 1)) next.groups = 1;
  if (next.op === "conv" || next.op === "transposed") next.kernel = fitKernel(keep, input.length / (next.groups || 1));
  return next;
}

/**
 * Switching the number of axes: text the user has not edited since the form was filled gets a
 * starter example of the new shape; per-axis fields with the wrong count go back to one number.
 */
function switchDims(form, nd, untouched) {
  setDimsText(form, nd);
  // A starter stays "untouched" (replaceable on the next switch); typed text is never replaced.
  if (form.input.value === untouched.input || !form.input.value.trim()) {
    form.input.value = arrayToText(STARTERS[nd].input, nd);
    untouched.input = form.input.value;
  }
  if (form.kernel.value === untouched.kernel || !form.kernel.value.trim()) {
    form.kernel.value = kernelToText(STARTERS[nd].kernel, nd);
    untouched.kernel = form.kernel.value;
  }
  for (const name of ["stride", "dilation", "pool", "padding"]) {
    const parts = form[name].value.trim().split(/[\s,;x×]+/).filter(Boolean);
    if (parts.length > 1 && parts.length !== nd) form[name].value = parts[0];
  }
}

export function initEditor({ store, setScene, showError }) {
  const form = document.querySelector('[data-testid="scene-form"]');
  const untouched = { input: "", kernel: "" };
  const refill = (scene) => {
    fillForm(form, scene);
    untouched.input = form.input.value;
    untouched.kernel = form.kernel.value;
  };
  refill(store.get("scene"));
  store.on("change:scene", ({ value }) => refill(value));
  form.op.addEventListener("change", () => showFields(form, form.op.value));
  form.dims.addEventListener("change", () => switchDims(form, Number(form.dims.value), untouched));
  // Hints name the axes in the page's language: re-word them when it changes.
  document.addEventListener("langchange", () => setDimsText(form, Number(form.dims.value)));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    try {
      setScene(readForm(form, store.get("scene")));
    } catch (err) {
      showError(err.message);
    }
  });

  const random = document.querySelector('[data-testid="random-form"]');
  random.addEventListener("submit", (e) => {
    e.preventDefault();
    try {
      const asked = textToSize(random.size.value);
      const shape = asked.map((v) => Math.min(v, RANDOM_SIDE[asked.length]));
      const c = Math.max(1, Math.min(4, Number(random.channels.value) || 1));
      let lo = Number(random.lo.value);
      let hi = Number(random.hi.value);
      if (!Number.isFinite(lo)) lo = 0;
      if (!Number.isFinite(hi)) hi = 9;
      if (hi < lo) [lo, hi] = [hi, lo];
      setScene(withInput(store.get("scene"), randomInput(c, shape, Math.round(lo), Math.round(hi))));
    } catch (err) {
      showError(t("st.error.parse", { field: t("st.random.size"), detail: err.key ? t(err.key, err.params) : err.message }));
    }
  });

  initPhoto({ store, setScene, showError });
}

// ---- photo crop ----

function initPhoto({ store, setScene, showError }) {
  const box = document.querySelector('[data-testid="photo-form"]');
  const q = (name) => box.querySelector(`[name="${name}"]`);
  const preview = box.querySelector('[data-testid="photo-preview"]');
  const useButton = box.querySelector('[data-testid="photo-use"]');
  let image = null;

  const crop = () => {
    const side = Math.max(1, Math.round(Math.min(image.naturalWidth, image.naturalHeight) * Number(q("zoom").value) / 100));
    const x = Math.round((image.naturalWidth - side) * Number(q("x").value) / 100);
    const y = Math.round((image.naturalHeight - side) * Number(q("y").value) / 100);
    return { x, y, side };
  };

  const drawPreview = () => {
    const ctx = preview.getContext("2d");
    ctx.clearRect(0, 0, preview.width, preview.height);
    if (!image) return;
    const scale = Math.min(preview.width / image.naturalWidth, preview.height / image.naturalHeight);
    const w = image.naturalWidth * scale;
    const h = image.naturalHeight * scale;
    ctx.drawImage(image, 0, 0, w, h);
    const c = crop();
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#e69f00";
    ctx.strokeRect(c.x * scale, c.y * scale, c.side * scale, c.side * scale);
  };

  const open = (src) => {
    const img = new Image();
    img.onload = () => { image = img; useButton.disabled = false; drawPreview(); };
    img.onerror = () => showError(t("pg.error.upload"));
    img.src = src;
  };

  q("file").addEventListener("change", () => {
    const file = q("file").files[0];
    if (file) open(URL.createObjectURL(file));
  });
  q("sample").addEventListener("change", () => {
    const id = q("sample").value;
    if (id) open(api.previewUrl(id, 512));
  });
  for (const name of ["zoom", "x", "y"]) q(name).addEventListener("input", drawPreview);

  useButton.addEventListener("click", () => {
    if (!image) return;
    const n = Math.max(2, Math.min(MAX_SIDE, Math.round(Number(q("cells").value) || 8)));
    const c = crop();
    // Draw the crop at a moderate size, then average boxes of pixels: a fair downscale.
    const big = Math.min(c.side, n * 16);
    const canvas = document.createElement("canvas");
    canvas.width = big;
    canvas.height = big;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(image, c.x, c.y, c.side, c.side, 0, 0, big, big);
    const data = ctx.getImageData(0, 0, big, big).data;
    const color = q("color").checked;
    const channels = color ? 3 : 1;
    const out = Array.from({ length: channels }, () => Array.from({ length: n }, () => new Array(n).fill(0)));
    for (let r = 0; r < n; r++) {
      for (let col = 0; col < n; col++) {
        const y0 = Math.floor((r * big) / n);
        const y1 = Math.max(y0 + 1, Math.floor(((r + 1) * big) / n));
        const x0 = Math.floor((col * big) / n);
        const x1 = Math.max(x0 + 1, Math.floor(((col + 1) * big) / n));
        const sum = [0, 0, 0];
        let count = 0;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            const i = (y * big + x) * 4;
            sum[0] += data[i]; sum[1] += data[i + 1]; sum[2] += data[i + 2];
            count++;
          }
        }
        const [rr, gg, bb] = sum.map((s) => s / count);
        if (color) {
          out[0][r][col] = Math.round(rr);
          out[1][r][col] = Math.round(gg);
          out[2][r][col] = Math.round(bb);
        } else {
          // ITU-R 601 luma, the weights Pillow's convert("L") uses.
          out[0][r][col] = Math.round((rr * 299 + gg * 587 + bb * 114) / 1000);
        }
      }
    }
    setScene(withInput(store.get("scene"), out));
  });

  api.listSamples().then((samples) => {
    const select = q("sample");
    const lang = getLang();
    for (const s of samples) {
      const o = document.createElement("option");
      o.value = s.id;
      o.textContent = (lang === "ru" ? s.title_ru : s.title_en) || s.name;
      select.append(o);
    }
  }).catch(() => { /* samples are optional here: the file input still works */ });
}

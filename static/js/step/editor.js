// Editing the scene: the typed form, random inputs, and a crop of a photo downscaled to at most
// 16x16 cells. Everything ends in setScene(scene); the page reloads the frames from there.
import * as api from "../api.js";
import { t, getLang } from "../i18n.js";
import {
  fitKernel, kernelToText, matrixToText, paddingToText, randomInput, textToBias, textToKernel,
  textToMatrix, textToPadding, textToPair,
} from "./scenes.js";

const MAX_SIDE = 16;
const DEFAULT_KERNEL = [[[[1, 0, -1], [1, 0, -1], [1, 0, -1]]]];

function showFields(form, op) {
  const group = op === "max" || op === "avg" ? "pool" : op;
  form.querySelectorAll("[data-for]").forEach((label) => {
    const groups = label.dataset.for.split(" ");
    label.hidden = !(groups.includes(group) || groups.includes(op));
  });
}

function fillForm(form, scene) {
  form.op.value = scene.op;
  form.input.value = matrixToText(scene.input);
  if (scene.kernel) form.kernel.value = kernelToText(scene.kernel);
  form.bias.value = scene.bias ? scene.bias.join(" ") : "";
  form.stride.value = scene.stride[0] === scene.stride[1] ? String(scene.stride[0]) : scene.stride.join(" ");
  form.dilation.value = scene.dilation[0] === scene.dilation[1] ? String(scene.dilation[0]) : scene.dilation.join(" ");
  form.padding.value = paddingToText(scene.padding);
  form.padding_mode.value = scene.padding_mode;
  form.activation.value = scene.activation || "";
  if (scene.pool) form.pool.value = scene.pool[0] === scene.pool[1] ? String(scene.pool[0]) : scene.pool.join(" ");
  form.ceil_mode.checked = scene.ceil_mode;
  form.flip.checked = Boolean(scene.flip);
  form.groups.value = String(scene.groups || 1);
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
  const input = field("input", textToMatrix, t("st.setup.input"));
  const scene = { ...previous, op, input };
  scene.stride = field("stride", textToPair, t("st.setup.stride"));
  scene.padding = field("padding", textToPadding, t("st.setup.padding"));
  scene.dilation = field("dilation", textToPair, t("st.setup.dilation"));
  scene.padding_mode = form.padding_mode.value;
  scene.activation = form.activation.value || null;
  scene.ceil_mode = form.ceil_mode.checked;
  if (op === "conv") {
    const text = form.kernel.value.trim();
    scene.kernel = text ? field("kernel", textToKernel, t("st.setup.kernel")) : fitKernel(DEFAULT_KERNEL, input.length);
    scene.bias = field("bias", textToBias, t("st.setup.bias"));
    scene.flip = form.flip.checked;
    scene.groups = field("groups", (v) => textToPair(v)[0], t("st.setup.groups"));
  } else if (op === "max" || op === "avg") {
    scene.pool = field("pool", textToPair, t("st.setup.pool"));
  }
  return scene;
}

/** A new input keeps the rest of the scene; a convolution gets a kernel with matching channels. */
function withInput(scene, input) {
  const next = { ...scene, input };
  if (next.op === "conv") next.kernel = fitKernel(next.kernel || DEFAULT_KERNEL, input.length);
  if (next.padding_mode !== "zeros") next.padding_mode = "zeros";
  // Groups must divide the channels; a new input that breaks that starts from one group.
  if (input.length % (next.groups || 1)) next.groups = 1;
  if (next.op === "conv") next.kernel = fitKernel(next.kernel || DEFAULT_KERNEL, input.length / (next.groups || 1));
  return next;
}

export function initEditor({ store, setScene, showError }) {
  const form = document.querySelector('[data-testid="scene-form"]');
  fillForm(form, store.get("scene"));
  store.on("change:scene", ({ value }) => fillForm(form, value));
  form.op.addEventListener("change", () => showFields(form, form.op.value));
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
      const [h, w] = textToPair(random.size.value).map((v) => Math.min(v, MAX_SIDE));
      const c = Math.max(1, Math.min(4, Number(random.channels.value) || 1));
      let lo = Number(random.lo.value);
      let hi = Number(random.hi.value);
      if (!Number.isFinite(lo)) lo = 0;
      if (!Number.isFinite(hi)) hi = 9;
      if (hi < lo) [lo, hi] = [hi, lo];
      setScene(withInput(store.get("scene"), randomInput(c, h, w, Math.round(lo), Math.round(hi))));
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

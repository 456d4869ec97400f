// The image panel: sample thumbnails, upload by file picker, drag-and-drop and paste, and the
// decoding of the working-size preview into pixels the input view can pad and draw.

import * as api from "../api.js";
import { getLang, t } from "../i18n.js";

/** Decode the server's preview into {width, height, rgba} (the array the server convolves). */
export async function loadPixels(imageId, maxSide, signal) {
  const blob = await api.fetchPreview(imageId, maxSide, { signal });
  const bitmap = await createImageBitmap(blob);
  const c = document.createElement("canvas");
  c.width = bitmap.width;
  c.height = bitmap.height;
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close?.();
  return { width: c.width, height: c.height, rgba: ctx.getImageData(0, 0, c.width, c.height).data };
}

function imageFile(list) {
  for (const item of list || []) {
    const file = item.getAsFile ? (item.kind === "file" ? item.getAsFile() : null) : item;
    if (file && (!file.type || file.type.startsWith("image/"))) return file;
  }
  return null;
}

export function mountImagePicker(store, samples, { onError }) {
  const box = document.getElementById("samples");
  const input = document.getElementById("image-input");
  const dropzone = document.getElementById("dropzone");
  const views = document.getElementById("views");
  const sizeEl = document.getElementById("image-size");

  function renderSamples() {
    const ru = getLang() === "ru";
    box.replaceChildren();
    for (const s of samples) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "sample";
      b.dataset.sample = s.name;
      b.setAttribute("data-testid", `sample-${s.name}`);
      const title = (ru ? s.title_ru : s.title_en) || s.name;
      b.title = `${title} (${s.width}×${s.height}, ${s.license}; ${s.credit})`;
      b.setAttribute("aria-label", title);
      const img = document.createElement("img");
      img.alt = "";
      img.loading = "lazy";
      img.src = api.previewUrl(s.id, 96);
      b.append(img);
      b.addEventListener("click", () => {
        store.set({ sample: s.name, image: null, imageId: s.id, orig: [s.width, s.height], selected: null });
      });
      box.append(b);
    }
    sync();
  }

  function sync() {
    const s = store.get();
    for (const b of box.children) b.setAttribute("aria-pressed", String(!s.image && b.dataset.sample === s.sample));
    sizeEl.textContent = s.orig ? t("pg.original", { w: s.orig[0], h: s.orig[1] }) : "";
  }

  async function use(file) {
    if (!file) return;
    sizeEl.textContent = t("pg.upload.busy");
    try {
      const info = await api.uploadImage(file);
      store.set({ image: info.id, sample: null, imageId: info.id, orig: [info.width, info.height], selected: null });
    } catch (err) {
      sync();
      onError(err, t("pg.error.upload"));
    }
  }

  input.addEventListener("change", () => {
    use(input.files && input.files[0]);
    input.value = ""; // choosing the same file again still fires "change"
  });

  // Drop onto the picker or onto the pictures themselves.
  for (const zone of [dropzone, views]) {
    zone.addEventListener("dragover", (e) => {
      if (![...(e.dataTransfer?.types || [])].includes("Files")) return;
      e.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("dragging");
      use(imageFile(e.dataTransfer?.files));
    });
  }

  document.addEventListener("paste", (e) => {
    // Pasting a number into the kernel grid must stay a paste.
    if (e.target instanceof HTMLInputElement && e.target.type !== "file") return;
    const file = imageFile(e.clipboardData?.items) || imageFile(e.clipboardData?.files);
    if (file) { e.preventDefault(); use(file); }
  });

  store.on("change", ({ keys }) => { if (keys.some((k) => ["sample", "image", "orig"].includes(k))) sync(); });
  document.addEventListener("langchange", renderSamples);
  renderSamples();
}

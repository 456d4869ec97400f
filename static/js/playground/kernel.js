// The kernel panel: preset picker with its description, the editable grid (1x1..7x7, non-square),
// per-channel tabs, normalise / reset / copy, and the sum of the weights.

import { fmt, getLang, t } from "../i18n.js";
import { resize2d, sum2d } from "../geometry.js";
import { recommendedDisplay } from "./model.js";

const MAX = 7;
const clone = (k) => k.map((row) => row.slice());

/** A weight as short as it can be and still be typed back: 0.111 -> ".111", -0.004 -> "-.004". */
function cellText(v) {
  const s = String(+v.toFixed(3));
  return s.replace(/^(-?)0\./, "$1.");
}

export function presetKernel(presets, name) {
  const p = presets.find((x) => x.name === name);
  return p ? clone(p.kernel) : [[0, 0, 0], [0, 1, 0], [0, 0, 0]];
}

/** A kernel from the API may come as (kh, kw) or wrapped; keep the 2-D part. */
export function as2d(k) {
  let a = k;
  while (Array.isArray(a) && Array.isArray(a[0]) && Array.isArray(a[0][0])) a = a[0];
  return a.map((row) => row.map(Number));
}

export function mountKernel(store, presets) {
  const select = document.getElementById("kernel-preset");
  const desc = document.getElementById("kernel-desc");
  const grid = document.getElementById("kernel-grid");
  const rows = document.getElementById("k-rows");
  const cols = document.getElementById("k-cols");
  const tabs = document.getElementById("kernel-tabs");
  const badge = document.getElementById("custom-badge");
  const sumEl = document.getElementById("kernel-sum");
  const normalise = document.getElementById("normalise");
  const reset = document.getElementById("reset");
  const copyAll = document.getElementById("copy-all");

  for (const s of [rows, cols]) {
    for (let i = 1; i <= MAX; i += 1) s.append(new Option(String(i), String(i)));
  }

  function fillPresets() {
    const ru = getLang() === "ru";
    select.replaceChildren();
    for (const p of presets) {
      const title = (ru ? p.title_ru : p.title) || p.title || p.name;
      select.append(new Option(title, p.name));
    }
  }

  const editable = () => {
    const s = store.get();
    return s.color === "rgb" && s.kmode !== "shared";
  };

  /** Write the edited kernel back: in shared mode every channel gets it. */
  function commit(kernel, extra = {}) {
    const s = store.get();
    const kernels = editable()
      ? s.kernels.map((k, i) => (i === s.channel ? kernel : k))
      : [kernel, clone(kernel), clone(kernel)];
    store.set({ kernels, ...extra });
  }

  function setSize(r, c) {
    const s = store.get();
    store.set({ kernels: s.kernels.map((k) => resize2d(k, r, c)), edited: true });
  }

  function renderGrid() {
    const s = store.get();
    const k = s.kernels[editable() ? s.channel : 0];
    const kr = k.length;
    const kc = k[0].length;
    grid.style.setProperty("--cols", String(kc));
    // Rebuild only when the size changed, so typing keeps its focus and caret.
    if (grid.children.length !== kr * kc) {
      grid.replaceChildren();
      for (let r = 0; r < kr; r += 1) {
        for (let c = 0; c < kc; c += 1) {
          const input = document.createElement("input");
          input.type = "number";
          input.step = "any";
          input.dataset.r = String(r);
          input.dataset.c = String(c);
          input.setAttribute("data-testid", `kernel-cell-${r}-${c}`);
          input.setAttribute("aria-label", `${r + 1}, ${c + 1}`);
          grid.append(input);
        }
      }
    }
    for (const input of grid.children) {
      const v = k[+input.dataset.r][+input.dataset.c];
      // The cell being typed in keeps what the user typed ("0." is not yet a number).
      if (document.activeElement !== input) input.value = cellText(v);
      input.classList.toggle("pos", v > 0);
      input.classList.toggle("neg", v < 0);
      input.classList.toggle("center", +input.dataset.r === (kr - 1) / 2 && +input.dataset.c === (kc - 1) / 2);
    }
    rows.value = String(kr);
    cols.value = String(kc);
    const total = sum2d(k);
    sumEl.textContent = t("pg.kernel.sum", { sum: fmt(total, 3) });
    normalise.disabled = Math.abs(total) < 1e-12;
    normalise.title = normalise.disabled ? t("pg.normalise.zero") : t("pg.normalise.hint");
  }

  function renderHead() {
    const s = store.get();
    // Option values stay exactly the preset names; an edited kernel is marked beside the picker.
    select.value = s.preset;
    select.classList.toggle("edited", s.edited);
    badge.hidden = !s.edited;
    const p = presets.find((x) => x.name === s.preset);
    const ru = getLang() === "ru";
    const text = p ? (ru ? p.description_ru || p.description : p.description) : "";
    desc.textContent = s.edited ? t("pg.based_on", { desc: text }) : text;
    tabs.hidden = !editable();
    copyAll.hidden = !editable();
    for (const b of tabs.querySelectorAll("[data-channel]")) {
      b.setAttribute("aria-pressed", String(+b.dataset.channel === s.channel));
      b.title = t(`pg.channel.${"RGB"[+b.dataset.channel]}`);
    }
    document.querySelectorAll('#kmode input[name="kmode"]').forEach((r) => {
      r.checked = r.value === s.kmode;
      r.disabled = s.color === "gray";
    });
    document.getElementById("kmode").hidden = s.color === "gray";
    document.getElementById("channels-caption").hidden = s.color === "gray";
    document.getElementById("kmode-caption").textContent =
      s.color === "rgb" ? t(`pg.kmode.${s.kmode}.caption`) : "";
  }

  select.addEventListener("change", () => {
    const k = presetKernel(presets, select.value);
    const display = recommendedDisplay(k, store.get());
    store.set({ preset: select.value, edited: false, kernels: [k, clone(k), clone(k)], display });
  });

  grid.addEventListener("input", (e) => {
    const input = e.target;
    if (!(input instanceof HTMLInputElement)) return;
    const v = Number(input.value);
    if (input.value.trim() === "" || !Number.isFinite(v)) return; // half-typed "-" or "1e": wait
    const s = store.get();
    const k = clone(s.kernels[editable() ? s.channel : 0]);
    k[+input.dataset.r][+input.dataset.c] = v;
    commit(k, { edited: true });
  });
  grid.addEventListener("focusout", () => renderGrid());
  grid.addEventListener("keydown", (e) => {
    // Arrow keys walk the grid like a spreadsheet instead of nudging the number.
    const input = e.target;
    if (!(input instanceof HTMLInputElement)) return;
    const d = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
    if (!d) return;
    const r = +input.dataset.r + d[0];
    const c = +input.dataset.c + d[1];
    const next = grid.querySelector(`[data-r="${r}"][data-c="${c}"]`);
    if (next) { e.preventDefault(); next.focus(); next.select(); }
  });

  rows.addEventListener("change", () => setSize(+rows.value, +cols.value));
  cols.addEventListener("change", () => setSize(+rows.value, +cols.value));

  normalise.addEventListener("click", () => {
    const s = store.get();
    const k = s.kernels[editable() ? s.channel : 0];
    const total = sum2d(k);
    if (Math.abs(total) < 1e-12) return;
    commit(k.map((row) => row.map((v) => v / total)), { edited: true });
  });

  reset.addEventListener("click", () => {
    const s = store.get();
    const k = presetKernel(presets, s.preset);
    store.set({ kernels: [k, clone(k), clone(k)], edited: false });
  });

  copyAll.addEventListener("click", () => {
    const s = store.get();
    const k = s.kernels[s.channel];
    store.set({ kernels: [clone(k), clone(k), clone(k)], edited: true });
  });

  tabs.addEventListener("click", (e) => {
    const b = e.target.closest("[data-channel]");
    if (b) store.set({ channel: +b.dataset.channel });
  });

  document.querySelectorAll('#kmode input[name="kmode"]').forEach((r) => {
    r.addEventListener("change", () => {
      const s = store.get();
      const patch = { kmode: r.value, channel: 0 };
      if (r.value === "shared") {
        // One kernel again: every channel takes the one on screen.
        const k = s.kernels[s.channel];
        patch.kernels = [clone(k), clone(k), clone(k)];
      }
      if (r.value === "depthwise" && s.display === "signed") patch.display = "abs";
      store.set(patch);
    });
  });

  fillPresets();
  const refresh = () => { renderHead(); renderGrid(); };
  store.on("change", ({ keys }) => {
    if (keys.some((k) => ["kernels", "edited", "preset", "channel", "kmode", "color"].includes(k))) refresh();
  });
  document.addEventListener("langchange", () => { fillPresets(); refresh(); });
  refresh();
}

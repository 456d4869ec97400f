// Every layer's output as grids of numbers: one map per channel (8×8, 4×4, 2×2), the flattened
// line in rows of 16, the ten outputs of the last layer. A dumb painter: build() lays out the
// articles once per model, paint() only rewrites numbers, tints and the selection marks.
import { fmt, t } from "../i18n.js";
import { el } from "../dom.js";
import { paintGrid } from "./grids.js";

const VECTOR_COLS = 8; // 64 values read as 8 rows of 8, as in the dense arithmetic
const count = (n) => n.toLocaleString(document.documentElement.lang === "ru" ? "ru-RU" : "en-US");
const pair = (v) => (Array.isArray(v) ? v[0] : v);

/** One sentence on what the layer does, from its Keras spec and the shape it receives. */
function what(spec, before) {
  if (!spec) return t("dg.layer.input.what");
  const act = spec.activation || "linear";
  switch (spec.type) {
    case "Conv2D":
      return t("dg.layer.conv", { filters: spec.filters, k: pair(spec.kernel_size), cin: before[2],
                                  padding: spec.padding || "valid", act });
    case "MaxPooling2D": return t("dg.layer.pool", { k: pair(spec.pool_size ?? 2) });
    case "Flatten": return t("dg.layer.flatten", { h: before[0], w: before[1], c: before[2] });
    case "Dense": return t("dg.layer.dense", { units: spec.units, cin: before[0], act });
    default: return spec.type;
  }
}

/** The grids of one output: [{ch, values}] per channel, or one vector wrapped into rows. */
function maps(output, shape) {
  if (shape.length === 3) {
    return Array.from({ length: shape[2] }, (_, ch) => ({ ch, values: output.map((row) => row.map((px) => px[ch])) }));
  }
  const cols = shape[0] <= 10 ? shape[0] : VECTOR_COLS;
  const values = [];
  for (let i = 0; i < output.length; i += cols) values.push(output.slice(i, i + cols));
  return [{ ch: null, values, cols }];
}

/** Coordinates of a cell in a layer's output (Keras order) from where it is drawn. */
export function coordsOf(map, r, c) {
  if (map.dataset.ch !== undefined && map.dataset.ch !== "") return [r, c, Number(map.dataset.ch)];
  return [r * Number(map.dataset.cols) + c];
}

/** Where a coordinate is drawn: {ch, r, c}. */
function placeOf(coords, cols) {
  if (coords.length === 3) return { ch: coords[2], r: coords[0], c: coords[1] };
  return { ch: null, r: Math.floor(coords[0] / cols), c: coords[0] % cols };
}

export class LayerView {
  constructor(root, { onPick }) {
    this.root = root;
    this.onPick = onPick;
    this.key = null;
    root.addEventListener("click", (event) => {
      const cell = event.target.closest(".dg-cell");
      const map = cell?.closest(".dg-map-grid");
      if (!cell || !map) return;
      this.onPick(map.dataset.layer, coordsOf(map, Number(cell.dataset.r), Number(cell.dataset.c)));
    });
    root.addEventListener("keydown", (event) => this.key_(event));
  }

  /** Lay out one article per layer; `layers` = [{name, spec, shape}], the input first. */
  build(layers) {
    const key = layers.map((l) => `${l.name}:${l.shape.join("x")}`).join(",");
    if (key === this.key) return;
    this.key = key;
    this.root.replaceChildren(...layers.map((layer) => {
      const box = el("div", { class: "dg-maps", "data-testid": "layer-maps", "data-layer": layer.name });
      const probe = maps(layer.shape.length === 3 ? zeros(layer.shape) : Array(layer.shape[0]).fill(0), layer.shape);
      for (const m of probe) {
        const label = m.ch === null ? (layer.spec?.type === "Dense" ? t("dg.map.digit") : t("dg.map.line", { last: layer.shape[0] - 1, cols: m.cols }))
          : t("dg.map.channel", { ch: m.ch });
        const g = el("div", {
          class: "dg-grid dg-map-grid", tabindex: "0", "data-layer": layer.name,
          "data-ch": m.ch === null ? "" : m.ch, "data-cols": m.cols ?? layer.shape[1],
          role: "group", "aria-label": `${layer.name === "input" ? t("dg.layer.input") : layer.name}, ${label}`,
        });
        const fig = el("figure", { class: `dg-map${m.ch === null ? " dg-map-vector" : ""}` });
        if (layer.spec?.type === "Dense") {
          const heads = el("div", { class: "dg-grid dg-digit-heads", "aria-hidden": "true", style: `--cols: ${layer.shape[0]}` },
            Array.from({ length: layer.shape[0] }, (_, d) => el("span", { class: "dg-cell", text: String(d) })));
          fig.append(heads);
        }
        fig.append(g, el("figcaption", { class: "caption", text: label }));
        box.append(fig);
      }
      const article = el("article", { class: "dg-layer", "data-layer": layer.name }, [
        el("header", { class: "dg-layer-head" }, [
          el("h3", { class: "dg-layer-name", text: layer.name === "input" ? t("dg.layer.input") : layer.name }),
          el("span", { class: "dg-layer-what", text: what(layer.spec, layer.before) }),
          el("span", { class: "dg-layer-meta", "data-testid": "layer-meta" })]),
        box]);
      return article;
    }));
  }

  /** Write the numbers. `layers` = [{name, shape, output, params, macs, range}]. */
  paint(layers) {
    for (const layer of layers) {
      const article = this.root.querySelector(`.dg-layer[data-layer="${layer.name}"]`);
      if (!article) continue;
      const meta = [layer.shape.join(" × ")];
      if (layer.params !== undefined) meta.push(t("dg.layer.params", { n: count(layer.params) }));
      if (layer.macs) meta.push(t("dg.layer.macs", { n: count(layer.macs) }));
      if (layer.range) meta.push(t("dg.layer.range", { min: fmt(layer.range[0], 3), max: fmt(layer.range[1], 3) }));
      article.querySelector(".dg-layer-meta").textContent = meta.join(" · ");
      const max = layer.range ? Math.max(Math.abs(layer.range[0]), Math.abs(layer.range[1])) : 1;
      const grids = article.querySelectorAll(".dg-map-grid");
      maps(layer.output, layer.shape).forEach((m, i) => paintGrid(grids[i], m.values, { max }));
    }
  }

  /** Mark the chosen cell and the cells of the layer before that it reads. */
  mark(selected, sources) {
    this.root.querySelectorAll(".dg-cell.sel, .dg-cell.src").forEach((n) => n.classList.remove("sel", "src"));
    if (!selected) return;
    const find = (name, coords) => {
      const grids = [...this.root.querySelectorAll(`.dg-map-grid[data-layer="${name}"]`)];
      if (!grids.length) return null;
      const cols = Number(grids[0].dataset.cols);
      const p = placeOf(coords, cols);
      const g = p.ch === null ? grids[0] : grids.find((n) => n.dataset.ch === String(p.ch));
      return g?.querySelector(`.dg-cell[data-r="${p.r}"][data-c="${p.c}"]`) || null;
    };
    find(selected.name, selected.coords)?.classList.add("sel");
    for (const s of sources) find(s.name, s.coords)?.classList.add("src");
  }

  /** The article of a layer (the arithmetic panel goes right after it). */
  article(name) {
    return this.root.querySelector(`.dg-layer[data-layer="${name}"]`);
  }

  key_(event) {
    const map = event.target.closest?.(".dg-map-grid");
    if (!map) return;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (!(event.key in moves) && event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    const rows = Math.ceil(map.children.length / Number(map.style.getPropertyValue("--cols")));
    const cols = Number(map.style.getPropertyValue("--cols"));
    const sel = map.querySelector(".dg-cell.sel");
    let r = sel ? Number(sel.dataset.r) : 0;
    let c = sel ? Number(sel.dataset.c) : 0;
    if (sel && event.key in moves) {
      r = Math.min(Math.max(r + moves[event.key][0], 0), rows - 1);
      c = Math.min(Math.max(c + moves[event.key][1], 0), cols - 1);
      if (!map.querySelector(`.dg-cell[data-r="${r}"][data-c="${c}"]`)) return;
    }
    this.onPick(map.dataset.layer, coordsOf(map, r, c), { keep: true });
  }
}

function zeros([h, w, c]) {
  return Array.from({ length: h }, () => Array.from({ length: w }, () => Array(c).fill(0)));
}

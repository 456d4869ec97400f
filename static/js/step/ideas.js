// Two ideas of the lesson that the stage alone does not show, drawn for the current scene:
// "why convolution" (a dense layer's weights against the convolution's few shared ones, with
// the connections of one output) and dropout (POST /api/dropout on the scene's output map).
import * as api from "../api.js";
import { fmt, t } from "../i18n.js";
import {
  indices, planeOf, planeShape, receptiveField, shapeOf, sizeOf, tapsPerAxis, valueAt,
} from "../geometry.js";
import { positionText } from "./formula.js";

const byId = (id) => document.querySelector(`[data-testid="${id}"]`);
const SVG = "http://www.w3.org/2000/svg";
const SUB = "₀₁₂₃₄₅₆₇₈₉";
const sub = (k) => String(k).split("").map((d) => SUB[Number(d)]).join("");

function cellGrid(rows, cols, { cls, button = false } = {}) {
  const box = document.createElement("div");
  box.className = `ideas-grid ${cls || ""}`;
  box.style.gridTemplateColumns = `repeat(${cols}, var(--ideas-cell))`;
  const cells = [];
  for (let r = 0; r < rows; r++) {
    const line = [];
    for (let c = 0; c < cols; c++) {
      const cell = document.createElement(button ? "button" : "span");
      if (button) cell.type = "button";
      cell.className = "ideas-cell";
      cell.dataset.r = String(r);
      cell.dataset.c = String(c);
      box.append(cell);
      line.push(cell);
    }
    cells.push(line);
  }
  return { box, cells };
}

/**
 * Cells of an array of `shape` (1 to 3 axes) drawn like the stage does: one grid, a 1-D array as
 * one row of it, a 3-D one as its depth slices side by side. at(coords) finds a cell.
 */
function planeGrids(shape, opts = {}) {
  const { slices, rows, cols } = planeShape(shape);
  const grids = Array.from({ length: slices }, () => cellGrid(rows, cols, opts));
  if (slices === 1) return { box: grids[0].box, at: (coords) => { const p = planeOf(coords); return grids[0].cells[p.row]?.[p.col]; } };
  const box = document.createElement("div");
  box.className = "ideas-volume";
  box.append(...grids.map((g) => g.box));
  return { box, at: (coords) => { const p = planeOf(coords); return grids[p.slice]?.cells[p.row]?.[p.col]; } };
}

/** Everything the weight comparison needs, from the model of the scene (conv only). */
export function weightCounts(model) {
  const F = model.maps;
  const cg = model.channelsOf(0).length;
  const inputs = model.C * sizeOf(model.spatial);
  const outputs = F * model.P;
  const taps = cg * sizeOf(model.kshape);
  return {
    inputs, outputs, taps, F,
    dense: inputs * outputs,
    connections: outputs * taps,
    shared: F * taps,
  };
}

export function mountIdeas() {
  const why = byId("why-conv");
  const drop = byId("dropout-demo");
  let model = null;
  let mode = "conv";   // which layer the connection picture shows: "dense" | "conv"
  let focus = [0, 0];  // output coordinates whose connections are drawn
  let seed = 0;
  let grids = null;
  const latest = api.latestOnly();

  // ---- why convolution ----
  function paintWhy() {
    const body = why.querySelector(".ideas-body");
    body.replaceChildren();
    if (!model || model.op !== "conv") {
      const p = document.createElement("p");
      p.className = "ideas-note";
      p.textContent = t("ideas.why.no_weights");
      body.append(p);
      grids = null;
      return;
    }
    const n = weightCounts(model);
    const bars = document.createElement("div");
    bars.className = "ideas-bars";
    const rows = [
      ["dense", t("ideas.why.dense"), `${n.inputs} × ${n.outputs} = ${n.dense}`, n.dense],
      ["links", t("ideas.why.links"), `${n.outputs} × ${n.taps} = ${n.connections}`, n.connections],
      ["shared", t("ideas.why.shared"), n.F > 1 ? `${n.F} × ${n.taps} = ${n.shared}` : `${n.shared}`, n.shared],
    ];
    for (const [key, label, formula, value] of rows) {
      const row = document.createElement("div");
      row.className = `ideas-bar ideas-bar-${key}`;
      row.setAttribute("data-testid", `count-${key}`);
      const name = Object.assign(document.createElement("span"), { className: "ideas-bar-label", textContent: label });
      const track = document.createElement("span");
      track.className = "ideas-bar-track";
      const fill = document.createElement("span");
      fill.className = "ideas-bar-fill";
      fill.style.width = `${Math.max(1.5, (100 * value) / n.dense)}%`;
      track.append(fill);
      const num = Object.assign(document.createElement("span"), { className: "ideas-bar-num", textContent: formula });
      row.append(name, track, num);
      bars.append(row);
    }
    const note = document.createElement("p");
    note.className = "ideas-note";
    note.textContent = t("ideas.why.note", { dense: n.dense, shared: n.shared, ratio: fmt(n.dense / n.shared, 1) });

    // The connections of one output: all inputs (dense) or its window (convolution).
    const pics = document.createElement("div");
    pics.className = "ideas-pics";
    const input = planeGrids(model.spatial, { cls: "ideas-in" });
    const output = planeGrids(model.oshape, { cls: "ideas-out", button: true });
    for (const at of indices(model.oshape)) {
      const cell = output.at(at);
      cell.setAttribute("aria-label", t("ideas.why.cell", { pos: positionText(at) }));
      const pick = () => { focus = at; paintLinks(); };
      cell.addEventListener("mouseenter", pick);
      cell.addEventListener("focus", pick);
      cell.addEventListener("click", pick); // a tap: a touch screen may not focus a button
    }
    const switcher = document.createElement("div");
    switcher.className = "seg-group";
    switcher.setAttribute("role", "group");
    for (const m of ["dense", "conv"]) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "seg";
      b.dataset.mode = m;
      b.setAttribute("data-testid", `why-mode-${m}`);
      b.textContent = t(`ideas.why.mode.${m}`);
      b.addEventListener("click", () => { mode = m; paintLinks(); });
      switcher.append(b);
    }
    const fig = (caption, node) => {
      const f = document.createElement("figure");
      f.className = "ideas-fig";
      const cap = document.createElement("figcaption");
      cap.textContent = caption;
      f.append(cap, node);
      return f;
    };
    const linkNote = document.createElement("p");
    linkNote.className = "ideas-note";
    linkNote.setAttribute("data-testid", "why-links");
    const shapeText = (shape) => shape.join("×");
    const inputsCaption = model.C > 1
      ? t("ideas.why.inputs_c", { c: model.C, shape: shapeText(model.spatial) })
      : t("ideas.why.inputs", { shape: shapeText(model.spatial) });
    const outputsFig = fig(t("ideas.why.outputs", { shape: shapeText(model.oshape) }), output.box);
    let links = null;
    let legend = null;
    if (model.nd === 1) {
      // A signal shows the links themselves: inputs above, outputs below, one line per link,
      // coloured by the weight it carries, so shared weights are lines of one colour.
      pics.classList.add("ideas-pics-1d");
      links = document.createElementNS(SVG, "svg");
      links.setAttribute("class", "ideas-links");
      links.setAttribute("data-testid", "why-links-1d");
      links.setAttribute("aria-hidden", "true");
      legend = document.createElement("p");
      legend.className = "ideas-note ideas-legend";
      legend.setAttribute("data-testid", "why-legend");
      pics.append(fig(inputsCaption, input.box), links, outputsFig);
    } else {
      pics.append(fig(inputsCaption, input.box),
        Object.assign(document.createElement("span"), { className: "ideas-arrow", textContent: "→" }),
        outputsFig);
    }
    body.append(bars, note, switcher, pics, ...(legend ? [legend] : []), linkNote);
    grids = { input, output, switcher, linkNote, links, legend };
    if (focus.length !== model.nd || focus.some((v, i) => v >= model.oshape[i])) focus = model.oshape.map(() => 0);
    paintLinks();
  }

  function paintLinks() {
    if (!grids || !model) return;
    const { input, output, switcher, linkNote } = grids;
    switcher.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.mode === mode)));
    const reads = mode === "dense" ? indices(model.spatial) : receptiveField(focus, model.axes);
    const lit = new Set(reads.map((at) => at.join(",")));
    for (const at of indices(model.spatial)) input.at(at).classList.toggle("lit", lit.has(at.join(",")));
    const key = focus.join(",");
    for (const at of indices(model.oshape)) output.at(at).classList.toggle("lit", at.join(",") === key);
    const per = model.channelsOf(0).length;
    const where = focus.join(", ");
    linkNote.textContent = mode === "dense"
      ? t("ideas.why.links_dense", { n: lit.size * model.C, at: where })
      : t("ideas.why.links_conv", { n: lit.size * per, at: where });
    if (grids.links) drawLinks();
  }

  /** The 1-D picture: every link as a line from an input cell down to an output cell. */
  function drawLinks() {
    const { links, legend, input, output } = grids;
    const n = model.spatial[0];
    const outs = model.oshape[0];
    const width = Math.max(input.box.offsetWidth, output.box.offsetWidth);
    const cell = input.at([0]).offsetWidth || 22;
    const height = Math.round(cell * 2.6);
    links.setAttribute("width", String(width));
    links.setAttribute("height", String(height));
    links.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const left = links.getBoundingClientRect().left;
    const centre = (node) => { const r = node.getBoundingClientRect(); return r.left + r.width / 2 - left; };
    const xIn = Array.from({ length: n }, (_, i) => centre(input.at([i])));
    const xOut = Array.from({ length: outs }, (_, o) => centre(output.at([o])));
    const lines = [];
    for (let o = 0; o < outs; o++) {
      const focused = o === focus[0];
      const ends = mode === "dense"
        ? xIn.map((_, i) => ({ i, k: null }))
        : tapsPerAxis([o], model.axes)[0].filter((tp) => tp.inside).map((tp) => ({ i: tp.input, k: tp.tap }));
      for (const { i, k } of ends) {
        const line = document.createElementNS(SVG, "line");
        line.setAttribute("x1", String(xIn[i]));
        line.setAttribute("y1", "0");
        line.setAttribute("x2", String(xOut[o]));
        line.setAttribute("y2", String(height));
        line.setAttribute("class", `ideas-link${focused ? " focus" : ""}${k === null ? " dense" : ""}`);
        line.dataset.o = String(o);
        line.dataset.i = String(i);
        if (k !== null) line.dataset.k = String(k % 7);
        lines.push(line);
      }
    }
    // The focused output's lines on top of the others.
    lines.sort((a, b) => a.classList.contains("focus") - b.classList.contains("focus"));
    links.replaceChildren(...lines);
    if (mode === "dense") {
      legend.textContent = t("ideas.why.legend.dense", { n: lines.length });
      return;
    }
    const weights = [model.kernelOf(0)[0]].flat(Infinity);
    legend.replaceChildren(t("ideas.why.legend.conv"), ...weights.flatMap((w, k) => {
      const swatch = document.createElement("span");
      swatch.className = "ideas-swatch";
      swatch.dataset.k = String(k % 7);
      return [" ", swatch, `w${sub(k)} = ${fmt(w)}`];
    }));
  }

  // ---- dropout ----
  const pInput = drop.querySelector('[data-testid="dropout-p"]');
  const pOut = drop.querySelector('[data-testid="dropout-p-value"]');
  const training = drop.querySelector('[data-testid="dropout-training"]');
  const gridHost = drop.querySelector('[data-testid="dropout-grid"]');
  const summary = drop.querySelector('[data-testid="dropout-summary"]');

  function sourceMap() {
    if (!model || !model.outputs) return null;
    const map = model.outputs[0];
    if (!map || [map].flat(Infinity).some((v) => v === null || !Number.isFinite(v))) return null;
    return map;
  }

  async function paintDropout() {
    const p = Number(pInput.value);
    pOut.textContent = fmt(p, 2);
    const x = sourceMap();
    if (!x) {
      gridHost.replaceChildren();
      summary.textContent = t("ideas.drop.no_map");
      return;
    }
    try {
      const answer = await latest((signal) => api.dropout({ input: x, p, seed, training: training.checked }, { signal }));
      const shape = shapeOf(x);
      const n = sizeOf(shape);
      // Wide maps (a 16x16 photo crop, a long signal) get smaller cells so both grids fit side by side.
      const drawn = planeShape(shape);
      const cls = drawn.cols * drawn.slices > 5 ? "ideas-drop ideas-drop-small" : "ideas-drop";
      const src = planeGrids(shape, { cls });
      const g = planeGrids(shape, { cls });
      g.box.setAttribute("data-testid", "dropout-after");
      let before = 0;
      let after = 0;
      for (const at of indices(shape)) {
        const v = valueAt(x, at);
        const out = valueAt(answer.output, at);
        const kept = valueAt(answer.mask, at);
        src.at(at).textContent = fmt(v, 2);
        const cell = g.at(at);
        // A dropped cell shows what was lost, struck through; a kept one its scaled value.
        cell.textContent = fmt(kept ? out + 0 : v, 2);
        cell.classList.toggle("dropped", !kept);
        cell.title = kept ? `${fmt(v, 3)} → ${fmt(out, 3)}` : t("ideas.drop.dropped", { v: fmt(v, 3) });
        before += v;
        after += out;
      }
      const fig = (caption, node) => {
        const f = document.createElement("figure");
        f.className = "ideas-fig";
        f.append(Object.assign(document.createElement("figcaption"), { textContent: caption }), node);
        return f;
      };
      gridHost.replaceChildren(fig(t("ideas.drop.before"), src.box),
        Object.assign(document.createElement("span"), { className: "ideas-arrow", textContent: "→" }),
        fig(answer.training ? t("ideas.drop.after", { p: fmt(p, 2) }) : t("ideas.drop.after_eval"), g.box));
      summary.textContent = answer.training
        ? t("ideas.drop.summary", {
          kept: answer.kept, n, scale: fmt(1 / (1 - p), 3), before: fmt(before, 2), after: fmt(after, 2),
        })
        : t("ideas.drop.eval");
    } catch (err) {
      if (api.isAbort(err)) return;
      summary.textContent = err.message;
    }
  }

  // The 1-D links are drawn from the cells' positions, which the projector theme changes.
  document.addEventListener("themechange", () => { if (grids && grids.links) drawLinks(); });

  pInput.addEventListener("input", paintDropout);
  training.addEventListener("change", paintDropout);
  drop.querySelector('[data-testid="dropout-reseed"]').addEventListener("click", () => { seed += 1; paintDropout(); });

  return {
    update(next) {
      model = next;
      paintWhy();
      paintDropout();
    },
    relabel() {
      paintWhy();
      paintDropout();
    },
  };
}

// Two ideas of the lesson that the stage alone does not show, drawn for the current scene:
// "why convolution" (a dense layer's weights against the convolution's few shared ones, with
// the connections of one output) and dropout (POST /api/dropout on the scene's output map).
import * as api from "../api.js";
import { fmt, t } from "../i18n.js";
import { tapsPerAxis } from "../geometry.js";

const byId = (id) => document.querySelector(`[data-testid="${id}"]`);

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

/** Everything the weight comparison needs, from the model of the scene (conv only). */
export function weightCounts(model) {
  const F = model.maps;
  const cg = model.channelsOf(0).length;
  const inputs = model.C * model.H * model.W;
  const outputs = F * model.oh * model.ow;
  const taps = cg * model.kh * model.kw;
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
  let focus = [0, 0];  // output cell whose connections are drawn
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
    const input = cellGrid(model.H, model.W, { cls: "ideas-in" });
    const output = cellGrid(model.oh, model.ow, { cls: "ideas-out", button: true });
    output.cells.forEach((line, r) => line.forEach((cell, c) => {
      cell.setAttribute("aria-label", t("ideas.why.cell", { r, c }));
      const pick = () => { focus = [r, c]; paintLinks(); };
      cell.addEventListener("mouseenter", pick);
      cell.addEventListener("focus", pick);
    }));
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
    const inputsCaption = model.C > 1
      ? t("ideas.why.inputs_c", { c: model.C, h: model.H, w: model.W })
      : t("ideas.why.inputs", { h: model.H, w: model.W });
    pics.append(fig(inputsCaption, input.box),
      Object.assign(document.createElement("span"), { className: "ideas-arrow", textContent: "→" }),
      fig(t("ideas.why.outputs", { h: model.oh, w: model.ow }), output.box));
    body.append(bars, note, switcher, pics, linkNote);
    grids = { input, output, switcher, linkNote };
    if (focus[0] >= model.oh || focus[1] >= model.ow) focus = [0, 0];
    paintLinks();
  }

  function paintLinks() {
    if (!grids || !model) return;
    const { input, output, switcher, linkNote } = grids;
    switcher.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.mode === mode)));
    const lit = new Set();
    if (mode === "dense") {
      for (let r = 0; r < model.H; r++) for (let c = 0; c < model.W; c++) lit.add(`${r},${c}`);
    } else {
      const [rows, cols] = tapsPerAxis(focus, model.axes);
      for (const a of rows) for (const b of cols) if (a.inside && b.inside) lit.add(`${a.input},${b.input}`);
    }
    input.cells.forEach((line, r) => line.forEach((cell, c) => cell.classList.toggle("lit", lit.has(`${r},${c}`))));
    output.cells.forEach((line, r) => line.forEach((cell, c) => {
      cell.classList.toggle("lit", r === focus[0] && c === focus[1]);
    }));
    const per = model.channelsOf(0).length;
    linkNote.textContent = mode === "dense"
      ? t("ideas.why.links_dense", { n: lit.size * model.C, r: focus[0], c: focus[1] })
      : t("ideas.why.links_conv", { n: lit.size * per, k: model.kh * model.kw * per, r: focus[0], c: focus[1] });
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
    if (!map || map.some((row) => row.some((v) => v === null || !Number.isFinite(v)))) return null;
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
      const rows = x.length;
      const cols = x[0].length;
      // Wide maps (a 16x16 photo crop) get smaller cells so both grids fit side by side.
      const cls = cols > 6 ? "ideas-drop ideas-drop-small" : "ideas-drop";
      const src = cellGrid(rows, cols, { cls });
      const g = cellGrid(rows, cols, { cls });
      g.box.setAttribute("data-testid", "dropout-after");
      let before = 0;
      let after = 0;
      src.cells.forEach((line, r) => line.forEach((cell, c) => { cell.textContent = fmt(x[r][c], 2); }));
      g.cells.forEach((line, r) => line.forEach((cell, c) => {
        const kept = answer.mask[r][c];
        // A dropped cell shows what was lost, struck through; a kept one its scaled value.
        cell.textContent = fmt(kept ? answer.output[r][c] + 0 : x[r][c], 2);
        cell.classList.toggle("dropped", !kept);
        cell.title = kept ? `${fmt(x[r][c], 3)} → ${fmt(answer.output[r][c], 3)}` : t("ideas.drop.dropped", { v: fmt(x[r][c], 3) });
        before += x[r][c];
        after += answer.output[r][c];
      }));
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
          kept: answer.kept, n: rows * cols, scale: fmt(1 / (1 - p), 3), before: fmt(before, 2), after: fmt(after, 2),
        })
        : t("ideas.drop.eval");
    } catch (err) {
      if (api.isAbort(err)) return;
      summary.textContent = err.message;
    }
  }

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

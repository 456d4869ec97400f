// The stage: padded input slices with the window, kernel slices, partial sums, bias, the output
// map filling in, and (for several maps) the 3D stack. Inputs with 1, 2 or 3 spatial axes share
// it: a signal is one row of cells, a volume its depth slices side by side (geometry.planeOf). A dumb painter: build() lays out the DOM
// once per model, update(view) only toggles classes and texts, so hover and playback stay cheap.
import { el } from "../dom.js";
import { fmt, t } from "../i18n.js";
import { activationName } from "./formula.js";
import {
  indices, planeOf, planeShape, ravel, shapeOf, valueAt, weightReach, windowTaps,
} from "../geometry.js";

const CHANNEL_NAMES = { 3: ["R", "G", "B"] };

function grid(rows, cols, kind, testid, slice = null) {
  const box = el("div", {
    class: `st-grid st-${kind}`, "data-testid": testid,
    style: `grid-template-columns: repeat(${cols}, var(--st-cell)); grid-template-rows: repeat(${rows}, var(--st-cell));`,
    role: "group",
  });
  const cells = [];
  for (let r = 0; r < rows; r++) {
    const line = [];
    for (let q = 0; q < cols; q++) {
      const cell = el("div", { class: "st-cell", "data-z": slice, "data-r": r, "data-c": q });
      box.append(cell);
      line.push(cell);
    }
    cells.push(line);
  }
  return { box, cells };
}

/**
 * The cells of an array of `shape` with 1 to 3 axes: one grid (a 1-D array is one row of it), or
 * for three axes one grid per depth slice, side by side. at(coords) finds the cell of a coordinate.
 */
function volume(shape, kind, testid) {
  const { slices, rows, cols } = planeShape(shape);
  if (shape.length < 3) {
    const g = grid(rows, cols, kind, testid);
    return { box: g.box, grids: [g], at: (coords) => { const p = planeOf(coords); return g.cells[p.row]?.[p.col]; } };
  }
  const box = el("div", { class: `st-volume st-volume-${kind}`, "data-testid": testid });
  const grids = [];
  for (let z = 0; z < slices; z++) {
    const g = grid(rows, cols, kind, null, z);
    g.box.dataset.slice = String(z);
    box.append(el("figure", { class: "st-slice" }, [el("figcaption", { text: t("st.depth", { z }) }), g.box]));
    grids.push(g);
  }
  return { box, grids, at: ([z, r, q]) => grids[z]?.cells[r]?.[q] };
}

/** Every cell of a volume with its coordinate, row-major. */
function eachCell(vol, shape, fn) {
  for (const coords of indices(shape)) {
    const cell = vol.at(coords);
    if (cell) fn(cell, coords);
  }
}

const same = (a, b) => Boolean(a && b) && a.length === b.length && a.every((v, i) => v === b[i]);

/** Cell text; long numbers get a smaller type (data-w) so they stay inside the cell. */
function setText(cell, text) {
  if (cell.textContent !== text) cell.textContent = text;
  const w = text.length >= 5 ? "5" : text.length === 4 ? "4" : null;
  if (w) cell.dataset.w = w;
  else delete cell.dataset.w;
}

function figure(caption, body, extra = "") {
  return el("figure", { class: `st-fig ${extra}` }, [el("figcaption", { text: caption }), body]);
}

export function channelLabel(model, c) {
  const names = CHANNEL_NAMES[model.C];
  return names ? `${c} (${names[c]})` : String(c);
}

/**
 * Lay out the stage for `model` inside `root`. `on` receives user gestures:
 * on.hoverCell([f, r, q] | null), on.clickCell([f, r, q]), on.hoverWeight({c, tap} | null),
 * on.tapWeight({c, tap}) (a finger), on.pickMap(f).
 */
export function buildStage(root, model, on) {
  root.replaceChildren();
  const channelsBlock = el("div", { class: "st-channels" });
  const resultBlock = el("div", { class: "st-result" });
  const stage = el("div", { class: `st-stage st-op-${model.op} st-nd${model.nd}${model.C > 1 ? " st-multi" : ""}` }, [channelsBlock, resultBlock]);
  root.append(stage);

  const nd = model.nd;
  const paddedShape = shapeOf(model.padded[0]).slice(0, nd);
  const rows = [];
  const pooling = model.op === "max" || model.op === "avg";
  const conv = model.op === "conv" || Boolean(model.transposed);
  const showPartials = conv && model.C > 1;
  const inside = (coords) => coords.every((p, i) => p >= model.pads[i][0] && p < model.pads[i][0] + model.spatial[i]);

  for (let c = 0; c < model.C; c++) {
    const input = volume(paddedShape, "input", `input-grid-${c}`);
    // One window outline per drawn grid: a 3-D window shows on every depth slice it covers.
    const windowBoxes = input.grids.map((g) => {
      const box = el("div", { class: "st-window", "aria-hidden": "true" });
      g.box.append(box);
      return box;
    });
    eachCell(input, paddedShape, (cell, coords) => {
      const v = valueAt(model.padded[c], coords);
      setText(cell, Number.isFinite(v) ? fmt(v) : "");
      if (model.isReal ? !model.isReal(c, coords) : !inside(coords)) cell.classList.add("pad");
      cell.dataset.base = cell.className;
    });
    let caption = model.C > 1 ? `${t("st.input")} · ${t("st.channel", { c: channelLabel(model, c) })}` : (model.pads.some(([b, a]) => b || a) ? t("st.input.padded") : t("st.input"));
    if (model.transposed) caption = `${caption} · ${t("st.t.gather.input")}`;
    const row = el("div", { class: "st-row", "data-channel": c });
    row.append(figure(caption, input.box));
    let kernel = null;
    if (model.op === "conv" || model.transposed) {
      row.append(el("span", { class: "st-sym st-sym-mul", "aria-hidden": "true" }, ["⊙",
        showPartials ? el("span", { class: "st-down", text: " ↓" }) : null]));
      kernel = volume(model.kshape, "kernel", `kernel-grid-${c}`);
      eachCell(kernel, model.kshape, (cell, tap) => {
        cell.addEventListener("pointerenter", (e) => { if (e.pointerType === "mouse") on.hoverWeight({ c, tap }); });
        cell.addEventListener("pointerleave", (e) => { if (e.pointerType === "mouse") on.hoverWeight(null); });
        // a finger has no hover: a tap shows what the weight multiplies, a second tap hides it
        cell.addEventListener("pointerup", (e) => { if (e.pointerType !== "mouse") on.tapWeight({ c, tap }); });
      });
      const kcap = model.C > 1 ? t("st.kernel.slice", { c: channelLabel(model, c) }) : t("st.kernel");
      const turnedCap = model.flip || model.transposed ? `${kcap} · ${t("st.kernel.flipped")}` : kcap;
      row.append(figure(turnedCap, kernel.box, "st-kernel-fig"));
    } else {
      const label = pooling
        ? t("st.pool.window", { mode: model.op === "max" ? "max" : "avg", k: model.kshape.join("×") })
        : t("st.act.window", { act: activationName(model.activation) });
      row.append(el("span", { class: "st-sym st-sym-op", text: label }));
    }
    let partial = null;
    if (showPartials) {
      row.append(el("span", { class: "st-sym", text: "↓", "aria-hidden": "true" }));
      partial = volume(model.oshape, "partial", `partial-grid-${c}`);
      row.append(figure(t("st.partial", { c: channelLabel(model, c) }), partial.box));
    }
    channelsBlock.append(row);
    rows.push({ row, input, windowBoxes, kernel, partial });
  }

  // Result column: (Σ + bias) → [pre-activation] → output, then the stack of maps.
  const sumLine = el("div", { class: "st-sumline", "data-testid": "sum-line" });
  resultBlock.append(sumLine);
  let pre = null;
  if (model.op === "conv" && model.activation) {
    pre = volume(model.oshape, "pre", "pre-grid");
    const preFig = figure(t("st.pre"), pre.box);
    resultBlock.append(preFig);
    resultBlock.append(el("div", { class: "st-sym st-sym-op", text: `↓ ${activationName(model.activation)}` }));
    if (nd === 1) alignToWindows(preFig, pre.box, model.axes[0]);
  }
  const output = volume(model.oshape, "output", "output-grid");
  const outputFig = figure(t("st.output"), output.box, "st-output-fig");
  resultBlock.append(outputFig);
  if (nd === 1) alignToWindows(outputFig, output.box, model.axes[0]);
  // Every map of outputs (partial sums, before and after activation) answers hover and click.
  for (const g of [output, pre, ...rows.map((r) => r.partial)]) {
    if (!g) continue;
    eachCell(g, model.oshape, (cell, at) => {
      // Only a mouse hovers: a tap would leave a hover behind that outlives the pin it made.
      cell.addEventListener("pointerenter", (e) => { if (e.pointerType === "mouse") on.hoverCell([current.map, ...at]); });
      cell.addEventListener("pointerleave", (e) => { if (e.pointerType === "mouse") on.hoverCell(null); });
      cell.addEventListener("click", () => on.clickCell([current.map, ...at]));
    });
  }

  // The stack of maps is drawn for flat maps; 3-D maps are picked with the map selector.
  let stack = null;
  if (model.maps > 1 && nd < 3) {
    stack = buildStack(model, on);
    resultBlock.append(stack.box);
  }

  let current = { map: 0 };
  let lastMap = -1;

  function paintKernels(map) {
    const kernel = model.kernelOf(map);
    const channels = model.channelsOf(map);
    rows.forEach((r, c) => {
      const idx = channels.indexOf(c);
      r.row.hidden = idx < 0;
      if (r.kernel && idx >= 0) {
        eachCell(r.kernel, model.kshape, (cell, tap) => { setText(cell, fmt(valueAt(kernel[idx], tap))); });
      }
    });
    outputFig.querySelector("figcaption").textContent = model.maps > 1 ? t("st.output.map", { f: map }) : t("st.output");
  }

  // Where the window's outline goes on the drawn grids: its first tap, its span in rows and
  // columns, and (3-D) the depth slices its taps fall on.
  const spanRows = nd >= 2 ? model.axes[nd - 2].window : 1;
  const spanCols = model.axes[nd - 1].window;

  /**
   * view = {frame (shown), progress (last computed frame index), weight ({c, tap}|null),
   *         hover ([f, ...at]|null), pinned ([f, ...at]|null)}
   */
  function update(view) {
    const frame = view.frame;
    current = frame;
    if (frame.map !== lastMap) {
      paintKernels(frame.map);
      lastMap = frame.map;
    }
    const channels = model.channelsOf(frame.map);
    const taps = windowTaps(frame.origin, model.kshape, model.dilation);
    const corner = planeOf(frame.origin);
    const slicesHit = new Set(taps.map(({ at }) => planeOf(at).slice));
    const w = view.weight;
    const reach = w ? weightReach(w.tap, model.axes) : [];
    rows.forEach((r, c) => {
      const reads = channels.includes(c);
      const k = channels.indexOf(c);
      for (const g of r.input.grids) for (const line of g.cells) for (const cell of line) cell.className = cell.dataset.base;
      r.windowBoxes.forEach((box) => { box.hidden = true; });
      if (!reads) return;
      for (const { tap, at } of taps) {
        const cell = r.input.at(at);
        if (!cell) continue;
        cell.classList.add("tap");
        // gather view: the window's cells that hold an input are the stamps reaching the cell
        if (model.isReal && model.isReal(c, at)) cell.classList.add("stamp");
        if (same(frame.winner, tap)) cell.classList.add("winner");
        if (w && w.c === c && same(w.tap, tap)) cell.classList.add("tap-hot");
      }
      r.windowBoxes.forEach((box, z) => {
        box.hidden = !slicesHit.has(z);
        box.style.cssText = `top: calc(var(--st-cell) * ${corner.row}); left: calc(var(--st-cell) * ${corner.col});`
          + ` height: calc(var(--st-cell) * ${spanRows}); width: calc(var(--st-cell) * ${spanCols});`;
      });
      if (w && w.c === c) {
        // Every input this weight multiplies: the same tap of every window.
        for (const at of reach) r.input.at(at)?.classList.add("mult");
      }
      if (r.kernel) {
        eachCell(r.kernel, model.kshape, (cell, tap) => {
          cell.classList.toggle("hot", Boolean(w && w.c === c && same(w.tap, tap)));
        });
      }
      if (r.partial) paintMap(r.partial, model.partials[frame.map][k], frame, view);
    });
    paintMap(output, model.outputs[frame.map], frame, view);
    if (pre) paintMap(pre, model.values[frame.map], frame, view);
    if (stack) stack.update(frame, view);
    sumLine.replaceChildren(...sumParts(model, frame));
  }

  function paintMap(g, values, frame, view) {
    const base = frame.map * model.P;
    const pinned = view.pinned && view.pinned[0] === frame.map ? view.pinned.slice(1) : null;
    eachCell(g, model.oshape, (cell, at) => {
      const idx = base + ravel(at, model.oshape);
      const done = idx <= view.progress;
      const isCurrent = same(at, frame.position);
      cell.className = "st-cell";
      if (done) cell.classList.add("done");
      if (isCurrent) cell.classList.add("current");
      if (same(pinned, at)) cell.classList.add("pinned");
      const v = valueAt(values, at);
      setText(cell, (done || isCurrent) && v !== null ? fmt(v) : "");
    });
  }

  return { update, root: stage };
}

/**
 * A signal's outputs stand under the middle of their windows: output o below padded input
 * o*stride + (window − 1)/2, so the picture shows which few inputs each output reads.
 */
function alignToWindows(fig, grid, axis) {
  fig.style.marginLeft = `calc(var(--st-cell) * ${(axis.window - 1) / 2})`;
  if (axis.s > 1) {
    grid.classList.add("st-spaced");
    grid.style.columnGap = `calc(var(--st-cell) * ${axis.s - 1})`;
  }
}

function sumParts(model, frame) {
  // One channel without a bias: the formula below already says it all.
  if ((model.op !== "conv" && !model.transposed) || (!model.bias && model.C === 1)) return [];
  const parts = [];
  if (frame.channel_sums && frame.channel_sums.length > 1) {
    parts.push(el("span", { text: frame.channel_sums.map((s) => fmt(s)).join(" + ") }));
  } else {
    parts.push(el("span", { text: "Σ = " + fmt(frame.channel_sums ? frame.channel_sums[0] : frame.value) }));
  }
  if (model.bias) {
    parts.push(el("span", { class: "st-bias", text: ` + ${t("st.bias")} ${fmt(frame.bias)}` }));
  }
  parts.push(el("strong", { text: ` = ${fmt(frame.value)}` }));
  return parts;
}

function buildStack(model, on) {
  const { rows, cols } = planeShape(model.oshape);
  const box = el("div", { class: "st-stack", "data-testid": "output-stack" });
  box.append(el("div", { class: "st-stack-caption", text: t("st.stack", { n: model.maps, shape: model.oshape.join(" × ") }) }));
  const layers = el("div", {
    class: "st-stack-layers",
    style: `--st-layers: ${model.maps}; --st-rows: ${rows}; --st-cols: ${cols};`,
  });
  box.append(layers);
  const maps = [];
  for (let f = 0; f < model.maps; f++) {
    const g = volume(model.oshape, "mini", `stack-map-${f}`);
    const layer = el("button", {
      type: "button", class: "st-layer", style: `--st-i: ${f}`,
      title: `${t("st.map")} ${f}`, "aria-label": `${t("st.map")} ${f}`,
    }, [g.box, el("span", { class: "st-layer-label", text: `#${f}` })]);
    layer.addEventListener("click", () => on.pickMap(f));
    layers.append(layer);
    maps.push({ layer, g });
  }
  function update(frame, view) {
    maps.forEach(({ layer, g }, f) => {
      layer.classList.toggle("active", f === frame.map);
      eachCell(g, model.oshape, (cell, at) => {
        const idx = f * model.P + ravel(at, model.oshape);
        const v = valueAt(model.outputs[f], at);
        setText(cell, idx <= view.progress && v !== null ? fmt(v, 1) : "");
        cell.classList.toggle("done", idx <= view.progress);
      });
    });
  }
  return { box, update };
}

// The scatter view of a transposed convolution (scatter.js) draws with the same pieces.
export { eachCell, figure, same, setText, volume };

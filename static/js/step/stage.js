// The stage: padded input slices with the window, kernel slices, partial sums, bias, the output
// map filling in, and (for several maps) the 3D stack. A dumb painter: build() lays out the DOM
// once per model, update(view) only toggles classes and texts, so hover and playback stay cheap.
import { fmt, t } from "../i18n.js";
import { activationName } from "./formula.js";

const CHANNEL_NAMES = { 3: ["R", "G", "B"] };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "style") node.style.cssText = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function grid(rows, cols, kind, testid) {
  const box = el("div", {
    class: `st-grid st-${kind}`, "data-testid": testid,
    style: `grid-template-columns: repeat(${cols}, var(--st-cell)); grid-template-rows: repeat(${rows}, var(--st-cell));`,
    role: "grid",
  });
  const cells = [];
  for (let r = 0; r < rows; r++) {
    const line = [];
    for (let q = 0; q < cols; q++) {
      const cell = el("div", { class: "st-cell", "data-r": r, "data-c": q, role: "gridcell" });
      box.append(cell);
      line.push(cell);
    }
    cells.push(line);
  }
  return { box, cells };
}

/** Cell text; long numbers get a smaller type (data-w) so they stay inside the cell. */
function setText(cell, text) {
  if (cell.textContent !== text) cell.textContent = text;
  const w = text.length >= 5 ? "5" : text.length === 4 ? "4" : null;
  if (w) cell.dataset.w = w;
  else delete cell.dataset.w;
}

function figure(caption, body, extra = "") {
  return el("figure", { class: `st-fig ${extra}` }, el("figcaption", { text: caption }), body);
}

export function channelLabel(model, c) {
  const names = CHANNEL_NAMES[model.C];
  return names ? `${c} (${names[c]})` : String(c);
}

/**
 * Lay out the stage for `model` inside `root`. `on` receives user gestures:
 * on.hoverCell([f, r, q] | null), on.clickCell([f, r, q]), on.hoverWeight({c, i, j} | null),
 * on.pickMap(f).
 */
export function buildStage(root, model, on) {
  root.replaceChildren();
  const channelsBlock = el("div", { class: "st-channels" });
  const resultBlock = el("div", { class: "st-result" });
  const stage = el("div", { class: `st-stage st-op-${model.op}${model.C > 1 ? " st-multi" : ""}` }, channelsBlock, resultBlock);
  root.append(stage);

  const Hp = model.padded[0].length;
  const Wp = model.padded[0][0].length;
  const [[pt], [pl]] = model.pads;
  const rows = [];
  const pooling = model.op === "max" || model.op === "avg";
  const showPartials = model.op === "conv" && model.C > 1;

  for (let c = 0; c < model.C; c++) {
    const input = grid(Hp, Wp, "input", `input-grid-${c}`);
    const windowBox = el("div", { class: "st-window", "aria-hidden": "true" });
    input.box.append(windowBox);
    for (let r = 0; r < Hp; r++) {
      for (let q = 0; q < Wp; q++) {
        const inside = r >= pt && r < pt + model.H && q >= pl && q < pl + model.W;
        const cell = input.cells[r][q];
        const v = model.padded[c][r][q];
        setText(cell, Number.isFinite(v) ? fmt(v) : "");
        if (!inside) cell.classList.add("pad");
        cell.dataset.base = cell.className;
      }
    }
    const caption = model.C > 1 ? `${t("st.input")} · ${t("st.channel", { c: channelLabel(model, c) })}` : (model.pads.some(([b, a]) => b || a) ? t("st.input.padded") : t("st.input"));
    const row = el("div", { class: "st-row", "data-channel": c });
    row.append(figure(caption, input.box));
    let kernel = null;
    if (model.op === "conv") {
      row.append(el("span", { class: "st-sym st-sym-mul", "aria-hidden": "true" }, "⊙",
        showPartials ? el("span", { class: "st-down", text: " ↓" }) : null));
      kernel = grid(model.kh, model.kw, "kernel", `kernel-grid-${c}`);
      kernel.cells.forEach((line, i) => line.forEach((cell, j) => {
        cell.addEventListener("mouseenter", () => on.hoverWeight({ c, i, j }));
        cell.addEventListener("mouseleave", () => on.hoverWeight(null));
      }));
      const kcap = model.C > 1 ? t("st.kernel.slice", { c: channelLabel(model, c) }) : t("st.kernel");
      row.append(figure(model.flip ? `${kcap} · ${t("st.kernel.flipped")}` : kcap, kernel.box, "st-kernel-fig"));
    } else {
      const label = pooling
        ? t("st.pool.window", { mode: model.op === "max" ? "max" : "avg", k: `${model.kh}×${model.kw}` })
        : t("st.act.window", { act: activationName(model.activation) });
      row.append(el("span", { class: "st-sym st-sym-op", text: label }));
    }
    let partial = null;
    if (showPartials) {
      row.append(el("span", { class: "st-sym", text: "↓", "aria-hidden": "true" }));
      partial = grid(model.oh, model.ow, "partial", `partial-grid-${c}`);
      row.append(figure(t("st.partial", { c: channelLabel(model, c) }), partial.box));
    }
    channelsBlock.append(row);
    rows.push({ row, input, windowBox, kernel, partial });
  }

  // Result column: (Σ + bias) → [pre-activation] → output, then the stack of maps.
  const sumLine = el("div", { class: "st-sumline", "data-testid": "sum-line" });
  resultBlock.append(sumLine);
  let pre = null;
  if (model.op === "conv" && model.activation) {
    pre = grid(model.oh, model.ow, "pre", "pre-grid");
    resultBlock.append(figure(t("st.pre"), pre.box));
    resultBlock.append(el("div", { class: "st-sym st-sym-op", text: `↓ ${activationName(model.activation)}` }));
  }
  const output = grid(model.oh, model.ow, "output", "output-grid");
  const outputFig = figure(t("st.output"), output.box, "st-output-fig");
  resultBlock.append(outputFig);
  // Every map of outputs (partial sums, before and after activation) answers hover and click.
  for (const g of [output, pre, ...rows.map((r) => r.partial)]) {
    if (!g) continue;
    g.cells.forEach((line, r) => line.forEach((cell, q) => {
      cell.addEventListener("mouseenter", () => on.hoverCell([current.map, r, q]));
      cell.addEventListener("mouseleave", () => on.hoverCell(null));
      cell.addEventListener("click", () => on.clickCell([current.map, r, q]));
    }));
  }

  let stack = null;
  if (model.maps > 1) {
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
        r.kernel.cells.forEach((line, i) => line.forEach((cell, j) => { setText(cell, fmt(kernel[idx][i][j])); }));
      }
    });
    outputFig.querySelector("figcaption").textContent = model.maps > 1 ? t("st.output.map", { f: map }) : t("st.output");
  }

  /**
   * view = {frame (shown), progress (last computed frame index), weight ({c,i,j}|null),
   *         hover ([f,r,q]|null), pinned ([f,r,q]|null)}
   */
  function update(view) {
    const frame = view.frame;
    current = frame;
    if (frame.map !== lastMap) {
      paintKernels(frame.map);
      lastMap = frame.map;
    }
    const [dy, dx] = model.dilation;
    const channels = model.channelsOf(frame.map);
    const [oy, ox] = frame.origin;
    const w = view.weight;
    rows.forEach((r, c) => {
      const reads = channels.includes(c);
      const k = channels.indexOf(c);
      for (const line of r.input.cells) for (const cell of line) cell.className = cell.dataset.base;
      if (!reads) return;
      for (let i = 0; i < model.kh; i++) {
        for (let j = 0; j < model.kw; j++) {
          const cell = r.input.cells[oy + i * dy]?.[ox + j * dx];
          if (!cell) continue;
          cell.classList.add("tap");
          if (frame.winner && frame.winner[0] === i && frame.winner[1] === j) cell.classList.add("winner");
          if (w && w.c === c && w.i === i && w.j === j) cell.classList.add("tap-hot");
        }
      }
      r.windowBox.style.cssText = `top: calc(var(--st-cell) * ${oy}); left: calc(var(--st-cell) * ${ox});`
        + ` height: calc(var(--st-cell) * ${(model.kh - 1) * dy + 1}); width: calc(var(--st-cell) * ${(model.kw - 1) * dx + 1});`;
      if (w && w.c === c) {
        // Every input this weight multiplies: the same tap of every window.
        for (let pr = 0; pr < model.oh; pr++) {
          for (let pq = 0; pq < model.ow; pq++) {
            const cell = r.input.cells[pr * model.stride[0] + w.i * dy]?.[pq * model.stride[1] + w.j * dx];
            if (cell) cell.classList.add("mult");
          }
        }
      }
      if (r.kernel) {
        r.kernel.cells.forEach((line, i) => line.forEach((cell, j) => {
          cell.classList.toggle("hot", Boolean(w && w.c === c && w.i === i && w.j === j));
        }));
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
    g.cells.forEach((line, r) => line.forEach((cell, q) => {
      const idx = base + r * model.ow + q;
      const done = idx <= view.progress;
      const isCurrent = r === frame.position[0] && q === frame.position[1];
      cell.className = "st-cell";
      if (done) cell.classList.add("done");
      if (isCurrent) cell.classList.add("current");
      if (view.pinned && view.pinned[0] === frame.map && view.pinned[1] === r && view.pinned[2] === q) cell.classList.add("pinned");
      const show = done || isCurrent;
      setText(cell, show && values[r][q] !== null ? fmt(values[r][q]) : "");
    }));
  }

  return { update, root: stage };
}

function sumParts(model, frame) {
  // One channel without a bias: the formula below already says it all.
  if (model.op !== "conv" || (!model.bias && model.C === 1)) return [];
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
  const box = el("div", { class: "st-stack", "data-testid": "output-stack" });
  box.append(el("div", { class: "st-stack-caption", text: t("st.stack", { n: model.maps, h: model.oh, w: model.ow }) }));
  const layers = el("div", {
    class: "st-stack-layers",
    style: `--st-layers: ${model.maps}; --st-rows: ${model.oh}; --st-cols: ${model.ow};`,
  });
  box.append(layers);
  const maps = [];
  for (let f = 0; f < model.maps; f++) {
    const g = grid(model.oh, model.ow, "mini", `stack-map-${f}`);
    const layer = el("button", {
      type: "button", class: "st-layer", style: `--st-i: ${f}`,
      title: `${t("st.map")} ${f}`, "aria-label": `${t("st.map")} ${f}`,
    }, g.box, el("span", { class: "st-layer-label", text: `#${f}` }));
    layer.addEventListener("click", () => on.pickMap(f));
    layers.append(layer);
    maps.push({ layer, g });
  }
  function update(frame, view) {
    maps.forEach(({ layer, g }, f) => {
      layer.classList.toggle("active", f === frame.map);
      g.cells.forEach((line, r) => line.forEach((cell, q) => {
        const idx = f * model.P + r * model.ow + q;
        const v = model.outputs[f][r][q];
        setText(cell, idx <= view.progress && v !== null ? fmt(v, 1) : "");
        cell.classList.toggle("done", idx <= view.progress);
      }));
    });
  }
  return { box, update };
}

// The scatter view of a transposed convolution: each input cell stamps the kernel, scaled by its
// value, onto the output, and overlapping stamps add up. The output is drawn uncut: the cells
// that padding cuts off (and output_padding adds) are dashed. A dumb painter like stage.js:
// build once per model, update(view) toggles classes and texts.
import { el } from "../dom.js";
import { fmt, t } from "../i18n.js";
import { channelLabel, eachCell, figure, same, setText, volume } from "./stage.js";

/**
 * Lay out the scatter view of `model` (transposed.js, views.scatter) in `root`. `on` as for
 * buildStage: hoverCell([f, ...out] | null), clickCell([f, ...out]).
 */
export function buildScatter(root, model, on) {
  root.replaceChildren();
  const channelsBlock = el("div", { class: "st-channels" });
  const resultBlock = el("div", { class: "st-result" });
  const stage = el("div", { class: `st-stage st-op-transposed st-scatter st-nd${model.nd}${model.C > 1 ? " st-multi" : ""}` },
    [channelsBlock, resultBlock]);
  root.append(stage);
  const rows = [];
  for (let c = 0; c < model.C; c++) {
    const input = volume(model.spatial, "input", `input-grid-${c}`);
    eachCell(input, model.spatial, (cell, at) => {
      let v = model.input[c];
      for (const i of at) v = v[i];
      setText(cell, fmt(v));
    });
    const row = el("div", { class: "st-row", "data-channel": c });
    const caption = model.C > 1 ? `${t("st.input")} · ${t("st.channel", { c: channelLabel(model, c) })}` : t("st.input");
    row.append(figure(caption, input.box));
    row.append(el("span", { class: "st-sym st-sym-mul", "aria-hidden": "true", text: "×" }));
    const kernel = volume(model.kshape, "kernel", `kernel-grid-${c}`);
    const kcap = model.C > 1 ? t("st.kernel.slice", { c: channelLabel(model, c) }) : t("st.kernel");
    row.append(figure(kcap, kernel.box, "st-kernel-fig"));
    channelsBlock.append(row);
    rows.push({ row, input, kernel });
  }
  const sumLine = el("div", { class: "st-sumline", "data-testid": "sum-line" });
  resultBlock.append(sumLine);
  const output = volume(model.fullShape, "output", "scatter-output");
  const cut = model.crop.some((p) => p > 0) || model.axesT.some((a) => a.op > 0);
  const outputFig = figure(cut ? t("st.t.scatter.output.cut") : t("st.t.scatter.output"), output.box, "st-output-fig");
  resultBlock.append(outputFig);
  const toOut = (at) => at.map((v, i) => v - model.crop[i]);
  eachCell(output, model.fullShape, (cell, at) => {
    if (!model.kept(at)) {
      cell.dataset.base = "st-cell pad";
      return;
    }
    cell.dataset.base = "st-cell";
    cell.addEventListener("pointerenter", (e) => { if (e.pointerType === "mouse") on.hoverCell([current.map, ...toOut(at)]); });
    cell.addEventListener("pointerleave", (e) => { if (e.pointerType === "mouse") on.hoverCell(null); });
    cell.addEventListener("click", () => on.clickCell([current.map, ...toOut(at)]));
  });

  let current = { map: 0 };
  let lastMap = -1;

  function paintKernels(map) {
    const kernel = model.kernelOf(map);
    const channels = model.channelsOf(map);
    rows.forEach((r, c) => {
      const idx = channels.indexOf(c);
      r.row.hidden = idx < 0;
      if (idx < 0) return;
      eachCell(r.kernel, model.kshape, (cell, tap) => {
        let v = kernel[idx];
        for (const i of tap) v = v[i];
        setText(cell, fmt(v));
      });
    });
  }

  /** view = {frame (a scatter step), hover ([f, ...out] | null), pinned ([f, ...out] | null)} */
  function update(view) {
    const step = view.frame;
    current = step;
    if (step.map !== lastMap) {
      paintKernels(step.map);
      lastMap = step.map;
    }
    const cell = view.pinned || view.hover;
    const lit = cell && cell[0] === step.map ? model.frameOf(cell[0], cell.slice(1)) : null;
    const stamped = new Set();
    const reaching = new Set();
    if (lit) {
      for (const tp of lit.taps) {
        reaching.add(`${tp.channel}|${tp.input}`);
        // the footprint of that input cell's stamp, on the uncut output
        for (const c of model.frames[model.stepOf(lit.filter, tp.channel, tp.input)].cells) stamped.add(String(c.at));
      }
    }
    const now = new Set(step.cells.map((c) => String(c.at)));
    rows.forEach((r, c) => {
      eachCell(r.input, model.spatial, (node, at) => {
        node.className = "st-cell";
        if (c === step.channel && same(at, step.input)) node.classList.add("tap", "current");
        if (reaching.has(`${c}|${at}`)) node.classList.add("mult");
      });
    });
    const litAt = lit ? lit.position.map((v, i) => v + model.crop[i]) : null;
    eachCell(output, model.fullShape, (node, at) => {
      node.className = node.dataset.base;
      const key = String(at);
      if (now.has(key) && !lit) node.classList.add("tap");
      if (stamped.has(key)) node.classList.add("stamp");
      if (same(litAt, at)) node.classList.add("current");
      if (view.pinned && same(litAt, at)) node.classList.add("pinned");
      setText(node, fmt(model.runningAt(step.map, at, step.index)));
    });
    sumLine.replaceChildren();
  }

  return { update, root: stage };
}

// One feature map opened large (data-testid "map-dialog"), every cell of it: the thumbnail shows
// at once, and when it was shrunk (`grid.factor` > 1) the channel is fetched at full size (the
// same run asked to draw only this layer's channel, on its grid's scale). Then the arithmetic
// under the cursor for a Conv2D channel: the window on the layer's input, the kernel slice per input channel,
// the products and per-channel sums, the bias, the activation and the result, as the
// playground shows them. The numbers: one more run asking for the previous layer's output and
// this layer's weights (seeded weights are known only to the server), then /api/frames on the
// window's crop, so every number shown is the server's. A link opens the same convolution
// (a crop around the window) on the step page.
import * as api from "../api.js";
import { t, fmt } from "../i18n.js";
import { asTuple, describe } from "../geometry.js";
import { sceneToQuery } from "../step/scenes.js";
import { decodeGrid, drawTile, mapAspect } from "./maps.js";
import { el } from "../dom.js";

const FRAME_ACTIVATIONS = { relu: "relu", sigmoid: "sigmoid", tanh: "tanh" };
const STEP_REACH = 2;     // output cells on each side of the hovered one in the /step crop
const FULL_KEEP = 16;     // full-size maps kept for reopening
const maxAbs = (values) => values.flat(Infinity).reduce((a, v) => Math.max(a, Math.abs(v)), 0);

function tint(v, max) {
  if (!max || !v) return "";
  const a = Math.min(Math.abs(v) / max, 1) * 0.55;
  return v > 0 ? `rgba(224,130,20,${a})` : `rgba(128,115,172,${a})`;
}

function grid(values, style) {
  const g = el("div", { class: "mgrid" });
  g.style.setProperty("--cols", String(values[0].length));
  values.forEach((row, r) => row.forEach((v, c) => {
    const s = style(v, r, c);
    const cell = el("span", { class: s.cls || "", text: s.text ?? fmt(v, s.digits ?? 2) });
    cell.dataset.value = String(v);
    if (s.bg) cell.style.background = s.bg;
    if (s.fg) cell.style.color = s.fg;
    if (s.title) cell.title = s.title;
    g.append(cell);
  }));
  return g;
}

const block = (label, content) => el("div", { class: "math-block" }, [el("span", { class: "label", text: label }), content]);

/**
 * The conv geometry of layer `layer` on an input of [H, W, C]: per axis {n, k, s, d, before,
 * after, size, window}, plus the filters' channel groups.
 */
export function convGeometry(layer, inputShape) {
  const [h, w, cin] = inputShape;
  const kernel = asTuple(layer.kernel_size, 2);
  const axes = describe({ spatial: [h, w], kernel, stride: asTuple(layer.strides ?? 1, 2),
                          padding: layer.padding || "valid", dilation: asTuple(layer.dilation_rate ?? 1, 2) });
  const groups = layer.groups || 1;
  return { axes, kernel, cin, groups, perGroup: cin / groups, filters: layer.filters };
}

/** Output rows/cols [first, last] on each axis, and the input crop they read with its padding. */
export function cropFor(geo, first, last) {
  return geo.axes.map((a, i) => {
    const start = first[i] * a.s - a.before;
    const end = last[i] * a.s - a.before + a.window - 1;
    const lo = Math.max(0, start);
    const hi = Math.min(a.n - 1, end);
    return { lo, hi, pad: [lo - start, end - hi] };
  });
}

/** Channel-first crop (C_group, h, w) of `x` ([H][W][C], Keras's order). */
function cropChannels(x, crop, channels) {
  const [ry, rx] = crop;
  return channels.map((ch) => {
    const rows = [];
    for (let y = ry.lo; y <= ry.hi; y += 1) {
      const row = [];
      for (let xx = rx.lo; xx <= rx.hi; xx += 1) row.push(x[y][xx][ch]);
      rows.push(row);
    }
    return rows;
  });
}

/** Filter `f`'s kernel slices (C_group, kh, kw) from a Keras kernel [kh][kw][C_group][F]. */
function kernelSlices(kernel, f) {
  const cg = kernel[0][0].length;
  return Array.from({ length: cg }, (_, c) => kernel.map((row) => row.map((taps) => taps[c][f])));
}

export function createInspector({ runBody, answer, layers, render }) {
  const latest = api.latestOnly();
  const cache = new Map();  // run key + layer -> {x, kernel, bias} (the layer's input and weights)
  const full = new Map();   // run key + layer + channel -> Promise of the full-size map (an image)
  let dialog = null;
  let state = null;         // {layerIndex, channel, layer, row, prev, details, cell, pinned}

  function build() {
    dialog = el("dialog", { class: "nr-dialog", "data-testid": "map-dialog", "aria-labelledby": "nr-dialog-title" });
    const close = el("button", { type: "button", class: "btn btn-small", "data-testid": "map-close", text: t("nr.inspect.close") });
    close.addEventListener("click", () => dialog.close());
    const stage = el("div", { class: "nr-large", "data-testid": "map-large", tabindex: "0" }, [
      el("canvas"), el("div", { class: "nr-cursor", hidden: "" }),
    ]);
    dialog.append(
      el("div", { class: "nr-dialog-head" }, [el("h2", { id: "nr-dialog-title" }), close]),
      el("p", { class: "caption nr-dialog-hint" }),
      el("div", { class: "nr-dialog-body" }, [
        el("div", { class: "nr-dialog-map" }, [
          stage, el("p", { class: "nr-cell", "data-testid": "map-cell" }),
          el("p", { class: "caption nr-res", "data-testid": "map-resolution", "aria-live": "polite" }),
        ]),
        el("div", { class: "nr-math", "data-testid": "map-math" }),
      ]),
      el("a", { class: "btn btn-small nr-step-link", "data-testid": "open-step", target: "_blank", rel: "noopener", hidden: "" }),
    );
    document.body.append(dialog);
    stage.addEventListener("mousemove", (e) => { if (!state?.pinned) hover(cellAt(e)); });
    stage.addEventListener("click", (e) => {
      state.pinned = !state.pinned;
      hover(cellAt(e));
    });
    stage.addEventListener("keydown", (e) => {
      const step = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
      if (!step || !state?.cell) return;
      e.preventDefault();
      state.pinned = true;
      const [h, w] = state.row.output_shape;
      hover([Math.max(0, Math.min(h - 1, state.cell[0] + step[0])), Math.max(0, Math.min(w - 1, state.cell[1] + step[1]))]);
    });
    document.addEventListener("langchange", () => { if (dialog.open) { labels(); hover(state.cell); } });
  }

  function cellAt(e) {
    const canvas = dialog.querySelector(".nr-large canvas");
    const rect = canvas.getBoundingClientRect();
    const [h, w] = state.row.output_shape;
    const r = Math.floor(((e.clientY - rect.top) / rect.height) * h);
    const c = Math.floor(((e.clientX - rect.left) / rect.width) * w);
    return [Math.max(0, Math.min(h - 1, r)), Math.max(0, Math.min(w - 1, c))];
  }

  function labels() {
    dialog.querySelector("#nr-dialog-title").textContent = t("nr.inspect.title", { name: state.row.name, c: state.channel });
    dialog.querySelector(".nr-dialog-hint").textContent = t("nr.inspect.hint");
    dialog.querySelector(".nr-dialog-head .btn").textContent = t("nr.inspect.close");
    const link = dialog.querySelector('[data-testid="open-step"]');
    link.textContent = t("nr.inspect.step");
    link.title = t("nr.inspect.step_hint");
    paintResolution();
  }

  /** What the large map shows: every cell, or (while loading, or if that failed) the preview. */
  function paintResolution() {
    const line = dialog.querySelector('[data-testid="map-resolution"]');
    const { res, row } = state;
    const [h, w] = row.output_shape.length === 3 ? row.output_shape : [1, row.output_shape[0]];
    const f = row.grid.factor || 1;
    line.dataset.state = res.kind;
    line.textContent = res.kind === "full" ? t("nr.inspect.full", { h, w })
      : res.kind === "preview" ? t("nr.inspect.preview", { f, h, w })
        : t("nr.inspect.full_failed", { f, error: res.error });
  }

  /** The channel at full size: one more run of the same body, drawing only this map. */
  function fullMap({ layerIndex, row, channel }) {
    const body = runBody();
    const key = `${JSON.stringify(body)}|${row.name}|${channel}`;
    if (!full.has(key)) {
      const pending = api.networkRun({
        ...body, outputs: [], render: { ...render, layers: [row.name], channel, max_side: null },
      }).then((reply) => decodeGrid(reply.layers[layerIndex].png));
      pending.catch(() => full.delete(key));
      full.set(key, pending);
      if (full.size > FULL_KEEP) full.delete(full.keys().next().value);
    }
    return full.get(key);
  }

  async function showFull(mine) {
    if ((mine.row.grid.factor || 1) === 1) return;  // the thumbnail is the map itself
    try {
      const image = await fullMap(mine);
      if (state !== mine) return;
      const canvas = dialog.querySelector(".nr-large canvas");
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(image, 0, 0);
      mine.res = { kind: "full" };
    } catch (err) {
      if (state !== mine) return;
      mine.res = { kind: "failed", error: err.message };
    }
    paintResolution();
  }

  /** The layer's input and weights for the shown answer (one run request, cached). */
  async function details() {
    const body = runBody();
    const key = `${JSON.stringify(body)}|${state.layerIndex}`;
    if (cache.has(key)) return cache.get(key);
    const prev = state.layerIndex > 0 ? answer().layers[state.layerIndex - 1].name : null;
    const reply = await api.networkRun({
      ...body, outputs: prev ? [prev] : [], return_input: !prev, return_weights: [state.row.name],
    });
    const x = prev ? reply.layers[state.layerIndex - 1].output : reply.input;
    const weights = reply.layers[state.layerIndex].weights;
    const found = x && weights ? { x, kernel: weights[0], bias: weights[1] || null,
                                   inputShape: prev ? reply.layers[state.layerIndex - 1].output_shape : reply.input_shape } : null;
    cache.set(key, found);
    return found;
  }

  async function open({ layerIndex, channel, image }) {
    if (!dialog) build();
    const row = answer().layers[layerIndex];
    const layer = layers()[layerIndex];
    const res = { kind: (row.grid.factor || 1) > 1 ? "preview" : "full" };
    state = { layerIndex, channel, layer, row, details: null, cell: null, pinned: false, res };
    labels();
    const canvas = dialog.querySelector(".nr-large canvas");
    drawTile(canvas, image, row.grid, channel);  // the thumbnail first, then every cell
    showFull(state);
    const stage = dialog.querySelector(".nr-large");
    stage.style.setProperty("--aspect", String(mapAspect(row)));
    dialog.querySelector(".nr-cursor").hidden = true;
    dialog.querySelector('[data-testid="open-step"]').hidden = true;
    const math = dialog.querySelector('[data-testid="map-math"]');
    math.replaceChildren();
    delete math.dataset.row;
    delete math.dataset.col;
    if (!dialog.open) dialog.showModal();
    stage.focus({ preventScroll: true });
    const center = [Math.floor(row.output_shape[0] / 2), Math.floor(row.output_shape[1] / 2)];
    if (layer.type !== "Conv2D") {
      math.replaceChildren(el("p", { class: "math-empty", text: t("nr.inspect.no_math", { type: layer.type }) }));
      hover(center);
      return;
    }
    math.replaceChildren(el("p", { class: "math-empty", text: t("nr.inspect.loading") }));
    const mine = state;
    let found = null;
    try {
      found = await details();
    } catch (err) {
      if (state === mine) math.replaceChildren(el("p", { class: "error-box", text: err.message }));
      return;
    }
    if (state !== mine) return;
    if (!found) {
      math.replaceChildren(el("p", { class: "math-empty", text: t("nr.inspect.too_big") }));
      return;
    }
    state.details = found;
    state.geo = convGeometry(layer, found.inputShape);
    hover(state.cell || center);
  }

  function placeCursor(cell) {
    const cursor = dialog.querySelector(".nr-cursor");
    const [h, w] = state.row.output_shape;
    cursor.hidden = false;
    cursor.style.left = `${(100 * cell[1]) / w}%`;
    cursor.style.top = `${(100 * cell[0]) / h}%`;
    cursor.style.width = `${100 / w}%`;
    cursor.style.height = `${100 / h}%`;
    cursor.classList.toggle("nr-pinned", Boolean(state.pinned));
  }

  async function hover(cell) {
    if (!state || !cell) return;
    state.cell = cell;
    placeCursor(cell);
    const stage = dialog.querySelector('[data-testid="map-large"]');
    stage.dataset.row = String(cell[0]);
    stage.dataset.col = String(cell[1]);
    dialog.querySelector('[data-testid="map-cell"]').textContent = t("nr.inspect.cell", { r: cell[0], c: cell[1] });
    if (!state.details) return;
    const { layer, geo, details: d, channel } = state;
    const group = Math.floor(channel / (geo.filters / geo.groups));
    const channels = Array.from({ length: geo.perGroup }, (_, i) => group * geo.perGroup + i);
    const crop = cropFor(geo, cell, cell);
    const act = layer.activation && layer.activation !== "linear" ? layer.activation : null;
    const body = {
      input: cropChannels(d.x, crop, channels), kernel: [kernelSlices(d.kernel, channel)],
      stride: [1, 1], padding: crop.map((a) => a.pad), dilation: geo.axes.map((a) => a.d),
      positions: [[0, 0]],
    };
    if (d.bias) body.bias = [d.bias[channel]];
    if (act && FRAME_ACTIVATIONS[act]) body.activation = FRAME_ACTIVATIONS[act];
    stepLink(cell, channels);
    try {
      const answerFrames = await latest((signal) => api.frames(body, { signal }));
      if (state.cell !== cell) return;
      paintMath(answerFrames.frames[0], { crop, channels, act, geo });
    } catch (err) {
      if (api.isAbort(err)) return;
      dialog.querySelector('[data-testid="map-math"]').replaceChildren(el("p", { class: "error-box", text: err.message }));
    }
  }

  function paintMath(frame, { crop, channels, act, geo }) {
    const math = dialog.querySelector('[data-testid="map-math"]');
    const inside = (axis, tap) => {
      const at = tap * geo.axes[axis].d;
      return at >= crop[axis].pad[0] && at < crop[axis].pad[0] + (crop[axis].hi - crop[axis].lo + 1);
    };
    const [lo, hi] = [Math.min(...state.details.x.flat(Infinity)), Math.max(...state.details.x.flat(Infinity))];
    // brighter cell = larger value; the middle greys are skipped because no text colour
    // reaches 4.5:1 on them (white text up to 110, dark text from 135)
    const shade = (v) => {
      const u = (v - lo) / (hi - lo || 1);
      const g = Math.round(u < 0.5 ? u * 2 * 110 : 135 + (u - 0.5) * 2 * 120);
      return { bg: `rgb(${g},${g},${g})`, fg: u < 0.5 ? "#fff" : "#111" };
    };
    const slices = kernelSlices(state.details.kernel, state.channel);
    const rows = frame.patch.map((patch, i) => {
      const kernel = slices[i];
      const products = frame.products[i];
      const kmax = maxAbs(kernel);
      const pmax = maxAbs(products);
      const sum = el("span", { class: "math-sum", "data-testid": "math-channel-sum", text: `Σ = ${fmt(frame.channel_sums[i], 3)}` });
      sum.dataset.value = String(frame.channel_sums[i]);
      sum.dataset.channel = String(channels[i]);
      return el("div", { class: "math-row", "data-testid": "math-channel" }, [
        el("span", { class: "nr-ch", text: t("nr.inspect.channel", { c: channels[i] }) }),
        block(t("pg.math.window"), grid(patch, (v, r, c) => (inside(0, r) && inside(1, c)
          ? { ...shade(v), digits: 2 } : { cls: "padded", title: t("pg.math.padded") }))),
        el("span", { class: "math-op", text: "×" }),
        block(t("pg.math.kernel"), grid(kernel, (v) => ({ bg: tint(v, kmax), digits: 3 }))),
        el("span", { class: "math-op", text: "=" }),
        block(t("pg.math.products"), grid(products, (v) => ({ bg: tint(v, pmax), digits: 3 }))),
        el("span", { class: "math-op", text: "→" }),
        sum,
      ]);
    });
    const sums = frame.channel_sums;
    const total = sums.reduce((a, b) => a + b, 0);
    const listed = sums.length <= 6 ? sums.map((s) => fmt(s, 3)).join(" + ")
      : `${sums.slice(0, 3).map((s) => fmt(s, 3)).join(" + ")} + … + ${fmt(sums[sums.length - 1], 3)}`;
    const totalBox = el("div", { class: "math-total", "data-testid": "math-total" });
    const value = el("span", { "data-testid": "math-value", text: `${t("pg.math.value")}: ${fmt(frame.value, 4)}` });
    value.dataset.value = String(frame.value);
    const bias = el("span", { "data-testid": "math-bias", text: `${t("pg.math.bias")}: ${frame.bias >= 0 ? "+" : "−"} ${fmt(Math.abs(frame.bias), 4)}` });
    bias.dataset.value = String(frame.bias);
    totalBox.append(
      el("span", { text: `${t("pg.math.sum")}: ${sums.length > 1 ? `${listed} = ` : ""}${fmt(total, 4)}` }), "   ·   ",
      bias, "   ·   ", value, el("br"),
    );
    const result = el("b", { "data-testid": "math-result" });
    if (act && !FRAME_ACTIVATIONS[act]) {
      result.textContent = t("nr.inspect.act_unknown", { act });
    } else {
      result.textContent = act ? `${t("pg.math.after_act", { act })}: ${fmt(frame.output, 4)}` : `${t("pg.math.result")}: ${fmt(frame.output, 4)}`;
      result.dataset.value = String(frame.output);
    }
    totalBox.append(result);
    const head = el("div", { class: "math-title" }, [
      el("h3", { text: t("nr.inspect.cell", { r: state.cell[0], c: state.cell[1] }) }),
      el("span", { class: "hint", text: t("nr.inspect.channels", { n: channels.length }) }),
    ]);
    const scroller = el("div", { class: "math nr-math-rows", tabindex: "0", role: "group",
                                 "aria-label": t("nr.inspect.channels", { n: channels.length }) }, rows);
    math.replaceChildren(head, totalBox, scroller);
    math.dataset.row = String(state.cell[0]);
    math.dataset.col = String(state.cell[1]);
  }

  /** The same convolution on the step page: a crop of input channels around the window. */
  function stepLink(cell, channels) {
    const { geo, details: d, layer, channel } = state;
    const [oh, ow] = state.row.output_shape;
    const first = [Math.max(0, cell[0] - STEP_REACH), Math.max(0, cell[1] - STEP_REACH)];
    const last = [Math.min(oh - 1, cell[0] + STEP_REACH), Math.min(ow - 1, cell[1] + STEP_REACH)];
    const crop = cropFor(geo, first, last);
    const act = FRAME_ACTIVATIONS[layer.activation] || null;
    const scene = {
      op: "conv", input: cropChannels(d.x, crop, channels), kernel: [kernelSlices(d.kernel, channel)],
      bias: d.bias ? [d.bias[channel]] : null, stride: geo.axes.map((a) => a.s),
      padding: crop.map((a) => a.pad), padding_mode: "zeros", dilation: geo.axes.map((a) => a.d),
      activation: act, pool: null, ceil_mode: false, flip: false, groups: 1,
    };
    const frame = (cell[0] - first[0]) * (last[1] - first[1] + 1) + (cell[1] - first[1]);
    const link = dialog.querySelector('[data-testid="open-step"]');
    link.href = `/step?${sceneToQuery(scene, { frame })}`;
    link.dataset.frame = String(frame);
    link.hidden = false;
  }

  return { open };
}

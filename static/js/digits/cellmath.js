// The arithmetic of one cell of one layer, recomputed here from the numbers the server sent
// (the layer's input, which is the previous layer's output, and the model's weights) and then
// checked against the server's own value for that cell. Pure computation first, painter below.
import { describe, taps2d } from "../geometry.js";
import { fmt, t } from "../i18n.js";
import { el } from "../dom.js";
import { grid, kernelSlice, maxAbs } from "./grids.js";

const pair = (v) => (Array.isArray(v) ? v.map(Number) : [Number(v), Number(v)]);

const ACTIVATIONS = {
  relu: (z) => Math.max(z, 0),
  linear: (z) => z,
  sigmoid: (z) => 1 / (1 + Math.exp(-z)),
  tanh: (z) => Math.tanh(z),
};
const activationOf = (spec) => spec.activation || "linear";

/** Shape of a nested array. */
function shapeOf(a) {
  const s = [];
  for (let x = a; Array.isArray(x); x = x[0]) s.push(x.length);
  return s;
}

/**
 * Everything needed to show how `coords` of layer `name` was computed. `net` is
 * {specs: the model's layer specs, outputs: {name: output}, input: [8][8][1], pixels, scale,
 * weights: {name: [kernel, bias]}}. Layer "input" is the network's input itself.
 */
export function computeCell(net, name, coords) {
  if (name === "input") {
    const [r, c] = coords;
    return { kind: "input", name, coords, pixel: net.pixels[r][c], scale: net.scale, value: net.input[r][c][0] };
  }
  const index = net.specs.findIndex((s) => s.name === name);
  const spec = net.specs[index];
  const before = index === 0 ? net.input : net.outputs[net.specs[index - 1].name];
  const beforeName = index === 0 ? "input" : net.specs[index - 1].name;
  const server = coords.reduce((a, i) => a[i], net.outputs[name]);
  const base = { name, beforeName, coords, server, spec };
  switch (spec.type) {
    case "Conv2D": return { ...base, ...conv(spec, before, net.weights[name], coords) };
    case "MaxPooling2D": return { ...base, ...pool(spec, before, coords) };
    case "Flatten": return { ...base, ...flatten(before, coords) };
    case "Dense": return { ...base, ...dense(spec, before, net.weights[name], coords) };
    default: return { ...base, kind: "other" };
  }
}

function conv(spec, x, [kernel, bias], [r, c, f]) {
  const [H, W, C] = shapeOf(x);
  const k = pair(spec.kernel_size);
  const axes = describe({ spatial: [H, W], kernel: k, stride: pair(spec.strides ?? 1),
                          padding: spec.padding ?? "valid", dilation: pair(spec.dilation_rate ?? 1) });
  const taps = taps2d(r, c, axes);
  const channels = [];
  for (let ch = 0; ch < C; ch++) {
    const w = kernelSlice(kernel, ch, f);
    const window = Array.from({ length: k[0] }, () => Array(k[1]).fill(null));
    const products = Array.from({ length: k[0] }, () => Array(k[1]).fill(0));
    let sum = 0;
    for (const tap of taps) {
      if (!tap.inside) continue;
      const v = x[tap.y][tap.x][ch];
      window[tap.kr][tap.kc] = v;
      products[tap.kr][tap.kc] = v * w[tap.kr][tap.kc];
      sum += products[tap.kr][tap.kc];
    }
    channels.push({ ch, window, kernel: w, products, sum });
  }
  const sum = channels.reduce((a, ch) => a + ch.sum, 0);
  const b = bias ? bias[f] : 0;
  const act = activationOf(spec);
  const value = sum + b;
  return { kind: "conv", filter: f, channels, sum, bias: b, value, activation: act,
           result: (ACTIVATIONS[act] || ACTIVATIONS.linear)(value) };
}

function pool(spec, x, [r, c, ch]) {
  const k = pair(spec.pool_size ?? 2);
  const s = pair(spec.strides ?? spec.pool_size ?? 2);
  const window = [];
  let best = -Infinity;
  let at = null;
  for (let i = 0; i < k[0]; i++) {
    const row = [];
    for (let j = 0; j < k[1]; j++) {
      const v = x[r * s[0] + i]?.[c * s[1] + j]?.[ch];
      row.push(v ?? null);
      if (v !== undefined && v > best) { best = v; at = [i, j]; }
    }
    window.push(row);
  }
  return { kind: "pool", channel: ch, window, origin: [r * s[0], c * s[1]], at, result: best };
}

function flatten(x, [i]) {
  const [H, W, C] = shapeOf(x);
  const ch = i % C;
  const c = Math.floor(i / C) % W;
  const r = Math.floor(i / (C * W));
  return { kind: "flatten", from: [r, c, ch], shape: [H, W, C], result: x[r][c][ch] };
}

function dense(spec, x, [kernel, bias], [k]) {
  const units = kernel[0].length;
  const logits = [];
  for (let u = 0; u < units; u++) {
    let z = bias ? bias[u] : 0;
    for (let j = 0; j < x.length; j++) z += x[j] * kernel[j][u];
    logits.push(z);
  }
  const weights = kernel.map((row) => row[k]);
  const products = x.map((v, j) => v * weights[j]);
  const sum = products.reduce((a, v) => a + v, 0);
  const b = bias ? bias[k] : 0;
  const act = activationOf(spec);
  let result;
  if (act === "softmax") {
    const top = Math.max(...logits);
    const total = logits.reduce((a, z) => a + Math.exp(z - top), 0);
    result = Math.exp(logits[k] - top) / total;
  } else {
    result = (ACTIVATIONS[act] || ACTIVATIONS.linear)(sum + b);
  }
  return { kind: "dense", unit: k, inputs: x, weights, products, sum, bias: b, value: sum + b,
           logits, activation: act, result };
}

// ---- painting -----------------------------------------------------------------------------

/** "a + b − c": a sum of signed terms written the way one reads it. */
function terms(values, digits = 3) {
  return values.map((v, i) => {
    if (i === 0) return fmt(v, digits);
    return `${v < 0 ? "−" : "+"} ${fmt(Math.abs(v), digits)}`;
  }).join(" ");
}

const num = (testid, value, digits = 4) => el("b", { "data-testid": testid, "data-value": String(value), text: fmt(value, digits) });
const op = (text) => el("span", { class: "math-op", "aria-hidden": "true", text });

function block(label, content) {
  return el("div", { class: "math-block" }, [el("span", { class: "label", text: label }), content]);
}

/** Rows of 8 for a long vector, so 64 values read as an 8×8 table of indices 0..63. */
const rows8 = (v) => Array.from({ length: Math.ceil(v.length / 8) }, (_, i) => v.slice(i * 8, i * 8 + 8));

function check(info) {
  const ok = Math.abs(info.result - info.server) <= 1e-4 * Math.max(1, Math.abs(info.server));
  return el("p", { class: `dg-check ${ok ? "ok" : "bad"}`, "data-testid": "math-check" }, [
    `${t("dg.math.server")}: `, num("math-server", info.server),
    ` — ${t(ok ? "dg.math.agree" : "dg.math.differ")} ${ok ? "✓" : "✗"}`]);
}

export function titleOf(info) {
  if (info.coords.length === 1) return t("dg.math.cell1", { layer: info.name, i: info.coords[0] });
  const [r, c, ch = 0] = info.coords;
  return t("dg.math.cell3", { layer: info.name === "input" ? t("dg.layer.input") : info.name, r, c, ch });
}

/** Paint `info` (from computeCell) into `root`. */
export function paintCell(root, info) {
  root.replaceChildren();
  root.dataset.kind = info.kind;
  if (info.kind === "input") {
    root.append(el("p", { class: "math-total" }, [t("dg.math.input", {
      p: info.pixel, scale: fmt(info.scale, 4), v: "" }), num("math-result", info.value)]));
    return;
  }
  if (info.kind === "conv") paintConv(root, info);
  else if (info.kind === "pool") paintPool(root, info);
  else if (info.kind === "flatten") paintFlatten(root, info);
  else if (info.kind === "dense") paintDense(root, info);
  root.append(check(info));
}

function paintConv(root, info) {
  const many = info.channels.length > 1;
  const rows = el("div", { class: `dg-math-rows${many ? " many" : ""}` });
  for (const ch of info.channels) {
    const wmax = maxAbs(ch.kernel);
    const row = el("div", { class: "math-row", "data-testid": "math-channel", "data-channel": ch.ch }, [
      block(many ? t("dg.math.window", { layer: info.beforeName, ch: ch.ch }) : t("dg.math.window1", { layer: info.beforeName }),
        grid(ch.window, { cell: (v) => (v === null ? { text: "0", cls: "padded", title: t("dg.math.padded") } : {}) },
          { "data-testid": "math-window" })),
      op("×"),
      block(t("dg.math.kernel", { ch: ch.ch, f: info.filter }), grid(ch.kernel, { max: wmax }, { "data-testid": "math-kernel" })),
      op("="),
      block(t("dg.math.products"), grid(ch.products, {}, { "data-testid": "math-products" })),
      op("→"),
      el("span", { class: "math-sum" }, [`${t("dg.math.channel_sum")} = `,
        el("span", { "data-testid": "math-channel-sum", "data-value": String(ch.sum), text: fmt(ch.sum, 3) })]),
    ]);
    rows.append(row);
  }
  root.append(rows);
  const total = el("div", { class: "math-total", "data-testid": "math-total" });
  if (many) {
    total.append(el("span", { text: `${t("dg.math.sums", { n: info.channels.length })}: ` }),
      el("span", { text: `${terms(info.channels.map((ch) => ch.sum))} = ` }));
  } else {
    total.append(el("span", { text: `${t("dg.math.sum")}: ` }));
  }
  total.append(num("math-sum", info.sum), el("br"),
    el("span", { text: `${t("dg.math.bias")}: ` }), num("math-bias", info.bias), el("br"),
    el("span", { text: `${t("dg.math.value")}: ${terms([info.sum, info.bias], 4)} = ` }), num("math-value", info.value), el("br"),
    el("span", { text: `${info.activation}(${fmt(info.value, 4)}) = ` }), num("math-result", info.result));
  root.append(total);
}

function paintPool(root, info) {
  const [r0, c0] = info.origin;
  const label = t("dg.math.pool", { layer: info.beforeName, ch: info.channel, r0, r1: r0 + info.window.length - 1,
                                    c0, c1: c0 + info.window[0].length - 1 });
  root.append(el("div", { class: "math-row" }, [
    block(label, grid(info.window, {
      cell: (v, r, c) => (info.at && r === info.at[0] && c === info.at[1] ? { cls: "win" } : {}),
    }, { "data-testid": "math-window" })),
    op("→"),
    el("span", { class: "math-sum" }, [`${t("dg.math.pool.pick")} = `, num("math-result", info.result)])]));
}

function paintFlatten(root, info) {
  const [r, c, ch] = info.from;
  const [, W, C] = info.shape;
  root.append(el("p", { class: "math-total" }, [
    t("dg.math.flatten", { i: info.coords[0], layer: info.beforeName, r, c, ch, w: W, cc: C }), el("br"),
    `${t("dg.math.result")}: `, num("math-result", info.result)]));
}

function paintDense(root, info) {
  const k = info.unit;
  root.append(el("div", { class: "math-row dg-dense-row" }, [
    block(t("dg.math.dense.inputs"), grid(rows8(info.inputs), {}, { "data-testid": "math-window" })),
    op("×"),
    block(t("dg.math.dense.weights", { k }), grid(rows8(info.weights), {}, { "data-testid": "math-kernel" })),
    op("="),
    block(t("dg.math.dense.products"), grid(rows8(info.products), {}, { "data-testid": "math-products" }))]));
  const total = el("div", { class: "math-total", "data-testid": "math-total" }, [
    el("span", { text: `${t("dg.math.sum")}: ` }), num("math-sum", info.sum), el("br"),
    el("span", { text: `${t("dg.math.bias")}: ` }), num("math-bias", info.bias), el("br"),
    el("span", { text: `${t("dg.math.logit", { k })}: ${terms([info.sum, info.bias], 4)} = ` }),
    num("math-value", info.value)]);
  if (info.activation === "softmax") {
    const logits = grid([info.logits], {
      cell: (v, r, c) => (c === k ? { cls: "win" } : {}),
    }, { "data-testid": "math-logits" });
    total.append(el("br"), el("span", { text: `${t("dg.math.logits")}:` }), logits,
      el("span", { text: `${t("dg.math.softmax", { k })} = ` }), num("math-result", info.result));
  } else {
    total.append(el("br"), el("span", { text: `${info.activation}(${fmt(info.value, 4)}) = ` }), num("math-result", info.result));
  }
  root.append(total);
}

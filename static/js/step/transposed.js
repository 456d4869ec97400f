// The model of a transposed-convolution scene, in two views on the same numbers:
//  - scatter: each input cell stamps the kernel, scaled by its value, onto the output; the
//    animation walks input cells and the output holds the running sums;
//  - gather: the equivalent direct convolution: zeros inserted between inputs for the stride,
//    padding d·(k−1)−p each side (plus output_padding after), the kernel flipped; the animation
//    walks output cells, like a convolution (stage.js draws it).
// Every value comes from POST /api/conv_transpose/frames: the frames of the scene, and (when
// it has padding, which cuts cells off the ends) those of the same scene without padding, whose
// taps are every stamp including the ones that fall on cut cells.
import * as api from "../api.js";
import { describe, filled, indices, ravel, shapeOf, sizeOf, valueAt } from "../geometry.js";
import { fmt, t } from "../i18n.js";
import { sceneDims } from "./scenes.js";
import { turned } from "./model.js";

const PAGE = 512;

/** The request body: the scene's kernel[f][c] goes out in PyTorch's (C, F/groups, *K). */
export function transposedBody(scene) {
  const groups = scene.groups || 1;
  const filters = scene.kernel.length;
  const fg = filters / groups;
  const C = scene.input.length;
  const cg = C / groups;
  const kernel = Array.from({ length: C }, (_, c) => {
    const g = Math.floor(c / cg);
    return Array.from({ length: fg }, (_, j) => scene.kernel[g * fg + j][c - g * cg]);
  });
  const body = {
    input: scene.input, kernel, stride: scene.stride, padding: scene.padding,
    output_padding: scene.output_padding, dilation: scene.dilation,
  };
  if (scene.bias) body.bias = scene.bias;
  if (groups > 1) body.groups = groups;
  return body;
}

async function allFrames(body, signal, maxFrames) {
  const all = [];
  let first = null;
  let offset = 0;
  while (offset !== null) {
    const page = await api.convTransposeFrames({ ...body, offset, limit: PAGE }, { signal });
    if (!first) {
      first = page;
      if (page.total > maxFrames) return { tooMany: page.total };
    }
    all.push(...page.frames);
    offset = page.next_offset;
  }
  return { ...first, frames: all };
}

/** Per-axis numbers of the output-size formula: (n−1)·s − 2p + d·(k−1) + output_padding + 1. */
export function transposedAxes(scene) {
  const nd = sceneDims(scene);
  const spatial = shapeOf(scene.input[0]).slice(0, nd);
  const kernel = shapeOf(scene.kernel[0][0]).slice(0, nd);
  const pad = Array.isArray(scene.padding) ? scene.padding : Array(nd).fill(scene.padding);
  return spatial.map((n, i) => {
    const s = scene.stride[i];
    const d = scene.dilation[i];
    const k = kernel[i];
    const p = Number(pad[i]);
    const op = scene.output_padding[i];
    const size = (n - 1) * s - 2 * p + d * (k - 1) + op + 1;
    return { n, s, d, k, p, op, size, reach: d * (k - 1) - p };
  });
}

/** "(3 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 6" */
export function transposedFormula(a) {
  return `(${a.n} − 1)·${a.s} − 2·${a.p} + ${a.d}·(${a.k} − 1) + ${a.op} + 1 = ${a.size}`;
}

/**
 * The nearest valid setting of a refused transposed scene, or null: output_padding must be
 * smaller than the stride or the dilation; padding may not empty the output.
 */
export function transposedFix(scene) {
  const axes = transposedAxes(scene);
  for (const a of axes) {
    const most = Math.max(a.s, a.d) - 1;
    if (a.op > most) return { field: "output_padding", value: most, most };
  }
  for (const a of axes) {
    if (a.size < 1) return { field: "padding", value: Math.floor(((a.n - 1) * a.s + a.d * (a.k - 1) + a.op) / 2) };
  }
  return null;
}

/** Zero-inserted, padded copy of one channel (negative padding crops), and its mask of inputs. */
function gatherGrid(x, axes) {
  const shape = axes.map((a) => (a.n - 1) * a.s + 1 + 2 * a.reach + a.op);
  const grid = filled(shape, 0);
  const real = filled(shape, false);
  for (const at of indices(shape)) {
    const src = at.map((g, i) => {
      const u = g - axes[i].reach;
      return u >= 0 && u % axes[i].s === 0 && u / axes[i].s < axes[i].n ? u / axes[i].s : -1;
    });
    if (src.every((v) => v >= 0)) {
      let row = grid;
      let mask = real;
      for (const c of at.slice(0, -1)) { row = row[c]; mask = mask[c]; }
      row[at[at.length - 1]] = valueAt(x, src);
      mask[at[at.length - 1]] = true;
    }
  }
  return { grid, real, shape };
}

function setAt(array, coords, value) {
  let a = array;
  for (const c of coords.slice(0, -1)) a = a[c];
  a[coords[coords.length - 1]] = value;
}

/**
 * Build both views. Resolves to {tooMany} or {op: "transposed", views: {gather, scatter}, ...}.
 * `maxFrames` bounds the longer of the two animations.
 */
export async function buildTransposedModel(scene, { signal, maxFrames }) {
  const nd = sceneDims(scene);
  const C = scene.input.length;
  const body = transposedBody(scene);
  const real = await allFrames(body, signal, maxFrames);
  if (real.tooMany) return { tooMany: real.tooMany };
  const axes = transposedAxes(scene);
  const crop = axes.map((a) => a.p);
  const cropped = crop.some((p) => p > 0);
  const full = cropped ? await allFrames({ ...body, padding: 0 }, signal, Infinity) : real;
  const maps = real.shape.length === nd + 1 ? real.shape[0] : 1;
  const oshape = real.shape.slice(real.shape.length - nd);
  const fullShape = full.shape.slice(full.shape.length - nd);
  const spatial = axes.map((a) => a.n);
  const kshape = axes.map((a) => a.k);
  const groups = scene.groups || 1;
  const cg = C / groups;
  const channelsOf = (f) => {
    const g = Math.floor(f / (maps / groups));
    return Array.from({ length: cg }, (_, i) => g * cg + i);
  };
  const bias = scene.bias;
  const shared = { op: "transposed", nd, C, spatial, kshape, maps, oshape, groups, bias, channelsOf, axesT: axes };
  const scatterTotal = maps * cg * sizeOf(spatial);
  if (scatterTotal > maxFrames) return { tooMany: scatterTotal };

  // ---- gather: a convolution over the zero-inserted, padded input with the flipped kernel
  const grids = scene.input.map((x) => gatherGrid(x, axes));
  const gridShape = grids[0].shape;
  const gAxes = describe({ spatial: gridShape, kernel: kshape, stride: 1, padding: 0, dilation: scene.dilation });
  const gather = {
    ...shared, view: "gather", transposed: true, C, axes: gAxes, pads: axes.map(() => [0, 0]),
    stride: Array(nd).fill(1), dilation: scene.dilation, P: sizeOf(oshape),
    padded: grids.map((g) => g.grid), isReal: (c, at) => Boolean(valueAt(grids[c].real, at)),
    kernelOf: (f) => scene.kernel[f].map(turned), flip: false, activation: null,
    explain: real.explain,
  };
  gather.frames = real.frames.map((fr) => {
    const channels = channelsOf(fr.filter);
    const patch = channels.map((c) => {
      const p = filled(kshape, 0);
      for (const tap of indices(kshape)) {
        const at = fr.position.map((o, i) => o + tap[i] * scene.dilation[i]);
        setAt(p, tap, valueAt(grids[c].grid, at));
      }
      return p;
    });
    const sums = channels.map((c) => fr.taps.filter((tp) => tp.channel === c).reduce((a, tp) => a + tp.product, 0));
    return {
      ...fr, map: fr.filter, origin: fr.position, patch, channel_sums: sums, output: fr.value,
    };
  });
  gather.total = gather.frames.length;
  gather.outputs = Array.from({ length: maps }, () => filled(oshape, null));
  for (const fr of gather.frames) setAt(gather.outputs[fr.map], fr.position, fr.value);
  gather.values = gather.outputs;
  gather.partials = Array.from({ length: maps }, (_, f) => channelsOf(f).map((c, k) => {
    const m = filled(oshape, null);
    for (const fr of gather.frames) if (fr.map === f) setAt(m, fr.position, fr.channel_sums[k]);
    return m;
  }));

  // ---- scatter: one step per (filter, channel of its group, input cell)
  const steps = [];
  const order = new Map(); // "f|c|input" -> step index
  for (let f = 0; f < maps; f++) {
    for (const c of channelsOf(f)) {
      for (const at of indices(spatial)) {
        order.set(`${f}|${c}|${at}`, steps.length);
        steps.push({ index: steps.length, map: f, channel: c, input: at, x: valueAt(scene.input[c], at), cells: [] });
      }
    }
  }
  // every stamp cell on the uncut output: (full position, kernel tap, product), by step
  const fullTaps = Array.from({ length: maps }, () => new Map()); // ravel(full) -> [{step, product}]
  for (const fr of full.frames) {
    const list = [];
    for (const tp of fr.taps) {
      const step = order.get(`${fr.filter}|${tp.channel}|${tp.input}`);
      steps[step].cells.push({ at: fr.position, kernel: tp.kernel, w: tp.w, product: tp.product });
      list.push({ step, product: tp.product });
    }
    fullTaps[fr.filter].set(ravel(fr.position, fullShape), list);
  }
  const biasOf = (f) => (bias ? Number(bias[f]) : 0);
  const scatter = {
    ...shared, view: "scatter", frames: steps, total: steps.length, fullShape, crop,
    kernelOf: (f) => scene.kernel[f], input: scene.input,
    gatherFrames: gather.frames, P: steps.length / maps,
    outputs: gather.outputs, values: gather.values,
    /** The running value of uncut cell `at` of map f once steps up to `step` have stamped. */
    runningAt(f, at, step) {
      const list = fullTaps[f].get(ravel(at, fullShape)) || [];
      return list.reduce((acc, e) => (e.step <= step ? acc + e.product : acc), biasOf(f));
    },
    kept: (at) => at.every((v, i) => v >= crop[i] && v < crop[i] + oshape[i]),
    frameOf: (f, out) => gather.frames[f * sizeOf(oshape) + ravel(out, oshape)],
    stepOf: (f, c, at) => order.get(`${f}|${c}|${at}`),
  };
  return { ...shared, views: { gather, scatter }, explain: real.explain, gather: real.gather };
}

/** The sentence of a scatter step: "input (1, 2) = 6 stamps 6 × kernel: 6, 0, 12, …". */
export function scatterFormula(model, step) {
  const products = step.cells.map((c) => fmt(c.product)).join(", ");
  return t("st.t.stamp", { at: step.input.join(", "), x: fmt(step.x), products });
}

/** How an output cell is made from the stamps that reach it: "bias + x·w + x·w = value". */
export function cellFormula(model, frame) {
  const wrap = (v) => (v < 0 ? `(${fmt(v)})` : fmt(v));
  const terms = frame.taps.map((tp) => `${wrap(tp.x)}·${wrap(tp.w)}`);
  if (model.bias) terms.push(wrap(frame.bias));
  return `${terms.length ? terms.join(" + ") : "0"} = ${fmt(frame.value)}`;
}

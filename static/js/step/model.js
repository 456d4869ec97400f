// The model of one scene: everything the stage shows, derived from the scene and the server's
// answers (conv frames from POST /api/frames, pooled values from POST /api/pool). Frames of
// pooling are laid out locally from the same geometry the server uses; their values are the
// server's. Inputs have 1, 2 or 3 spatial axes; every coordinate here is a list of that length.
import * as api from "../api.js";
import {
  describe, filled, indices, ravel, shapeOf, sizeOf, valueAt, windowTaps,
} from "../geometry.js";
import { sceneDims } from "./scenes.js";
import { buildTransposedModel, transposedBody } from "./transposed.js";

export const MAX_FRAMES = 2048;
const PAGE = 512;

/** PyTorch's source index of padded position `i` along an axis of `n` (-1: the fill value). */
function sourceIndex(i, n, mode) {
  if (i >= 0 && i < n) return i;
  if (mode === "replicate") return Math.min(Math.max(i, 0), n - 1);
  if (mode === "circular") return ((i % n) + n) % n;
  if (mode === "reflect") {
    if (n === 1) return 0;
    const period = 2 * (n - 1);
    let k = ((i % period) + period) % period;
    if (k >= n) k = period - k;
    return k;
  }
  return -1;
}

/**
 * Padded copy of one channel with any number of axes; `pads` is one [before, after] per axis and
 * `fill` is used for zeros padding (-Infinity for max pooling).
 */
export function padChannel(x, pads, mode = "zeros", fill = 0) {
  const [before, after] = pads[0];
  const n = x.length;
  return Array.from({ length: n + before + after }, (_, p) => {
    const i = sourceIndex(p - before, n, mode);
    if (pads.length === 1) return i < 0 ? fill : x[i];
    const inner = i < 0 ? filled(shapeOf(x[0]), fill) : x[i];
    return padChannel(inner, pads.slice(1), mode, fill);
  });
}

/** Kernel turned by 180° along every axis (what flip=true multiplies by). */
export function turned(a) {
  return Array.isArray(a) ? a.slice().reverse().map(turned) : a;
}

function convBody(scene) {
  if (scene.op === "act") {
    // An activation alone is a 1x1 convolution with weight 1 per channel (groups = C).
    const c = scene.input.length;
    const one = filled(Array(sceneDims(scene)).fill(1), 1);
    return {
      input: scene.input,
      kernel: Array.from({ length: c }, () => [one]),
      groups: c,
      activation: scene.activation,
    };
  }
  const body = {
    input: scene.input, kernel: scene.kernel, stride: scene.stride, padding: scene.padding,
    padding_mode: scene.padding_mode, dilation: scene.dilation,
  };
  if (scene.bias) body.bias = scene.bias;
  if (scene.activation) body.activation = scene.activation;
  if (scene.flip) body.flip = true;
  if (scene.groups > 1) body.groups = scene.groups;
  return body;
}

/** The request body the export endpoint and the frames endpoint share. */
export function requestBody(scene) {
  if (scene.op === "transposed") return transposedBody(scene);
  if (scene.op === "max" || scene.op === "avg") {
    return {
      input: scene.input, mode: scene.op, kernel_size: scene.pool, stride: scene.stride,
      padding: scene.padding, dilation: scene.op === "max" ? scene.dilation : 1,
      ceil_mode: scene.ceil_mode,
    };
  }
  return convBody(scene);
}

async function loadConvFrames(scene, signal) {
  const body = convBody(scene);
  const all = [];
  let total = Infinity;
  let first = null;
  while (all.length < total) {
    const page = await api.frames({ ...body, offset: all.length, limit: PAGE }, { signal });
    if (!first) {
      first = page;
      total = page.total;
      if (total > MAX_FRAMES) return { tooMany: total };
    }
    if (!page.frames.length) break;
    all.push(...page.frames);
  }
  return { frames: all, shape: first.shape, padding: first.padding, explain: first.explain };
}

/** The window of a scene: kernel shape, stride and dilation as the server applies them. */
export function sceneWindow(scene) {
  const nd = sceneDims(scene);
  const ones = Array(nd).fill(1);
  if (scene.op === "max" || scene.op === "avg") {
    return { kernel: scene.pool, stride: scene.stride, dilation: scene.op === "avg" ? ones : scene.dilation, padding: scene.padding };
  }
  if (scene.op === "act") return { kernel: ones, stride: ones, dilation: ones, padding: 0 };
  return { kernel: shapeOf(scene.kernel[0][0]), stride: scene.stride, dilation: scene.dilation, padding: scene.padding };
}

/**
 * Build the model for `scene`. Resolves to {error} or {tooMany} or the model:
 * {op, nd, C, spatial, kshape, oshape, P, maps, axes, pads, stride, dilation, total,
 *  padded (C, *padded shape), frames (position/origin/patch with nd axes),
 *  outputs (maps, *oshape), values (maps, *oshape), partials (maps, Cg, *oshape), channelsOf(map),
 *  kernelOf(map)}.
 */
export async function buildModel(scene, { signal } = {}) {
  if (scene.op === "transposed") return buildTransposedModel(scene, { signal, maxFrames: MAX_FRAMES });
  const nd = sceneDims(scene);
  const C = scene.input.length;
  const spatial = shapeOf(scene.input[0]).slice(0, nd);
  const pooling = scene.op === "max" || scene.op === "avg";
  const win = sceneWindow(scene);
  const axes = describe({
    spatial, kernel: win.kernel, stride: win.stride, padding: win.padding, dilation: win.dilation,
    ceilMode: pooling && scene.ceil_mode,
  });
  const pads = axes.map((a) => [a.before, a.after]);
  const base = {
    op: scene.op, nd, C, spatial, kshape: win.kernel, axes, pads, stride: win.stride, dilation: win.dilation,
  };

  if (!pooling) {
    const loaded = await loadConvFrames(scene, signal);
    if (loaded.tooMany) return { tooMany: loaded.tooMany };
    const shape = loaded.shape;
    const maps = shape.length === nd + 1 ? shape[0] : 1;
    const serverPads = loaded.padding || pads;
    const model = { ...base, pads: serverPads, maps, explain: loaded.explain };
    model.oshape = shape.slice(shape.length - nd);
    model.P = sizeOf(model.oshape);
    model.total = loaded.frames.length;
    model.padded = scene.input.map((ch) => padChannel(ch, serverPads, scene.padding_mode));
    const groups = scene.op === "act" ? C : scene.groups || 1;
    const cg = C / groups;
    model.channelsOf = (f) => {
      const g = Math.floor(f / (maps / groups));
      return Array.from({ length: cg }, (_, i) => g * cg + i);
    };
    // With flip the server multiplies by the kernel turned 180°: show the weights it really uses.
    model.kernelOf = (f) => {
      if (scene.op === "act") return null;
      return scene.flip ? scene.kernel[f].map(turned) : scene.kernel[f];
    };
    model.flip = Boolean(scene.flip);
    model.groups = groups;
    model.bias = scene.bias;
    model.activation = scene.activation;
    model.frames = loaded.frames.map((fr) => ({ ...fr, map: fr.filter }));
    fillMaps(model);
    return model;
  }

  // Pooling: the server computes the values, the window positions follow the geometry.
  const answer = await api.pool(requestBody(scene), { signal });
  const oshape = answer.shape.slice(answer.shape.length - nd);
  const out = answer.shape.length === nd + 1 ? answer.output : [answer.output];
  const model = { ...base, maps: C, mode: scene.op, explain: answer.explain, oshape, P: sizeOf(oshape) };
  model.total = C * model.P;
  if (model.total > MAX_FRAMES) return { tooMany: model.total };
  const fill = scene.op === "max" ? -Infinity : 0;
  model.padded = scene.input.map((ch) => padChannel(ch, pads, "zeros", fill));
  model.channelsOf = (f) => [f];
  model.kernelOf = () => null;
  model.bias = null;
  model.activation = null;
  model.frames = [];
  const paddedShape = shapeOf(model.padded[0]).slice(0, nd);
  for (let c = 0; c < C; c++) {
    for (const position of indices(oshape)) {
      const origin = position.map((o, i) => o * win.stride[i]);
      const patch = filled(win.kernel, NaN);
      let winner = null;
      let best = -Infinity;
      for (const { tap, at } of windowTaps(origin, win.kernel, win.dilation)) {
        // ceil mode may let the last window hang over the padded input: those taps read nothing.
        const v = at.every((p, i) => p < paddedShape[i]) ? valueAt(model.padded[c], at) : NaN;
        setAt(patch, tap, v);
        if (!Number.isNaN(v) && v > best) { best = v; winner = tap; }
      }
      const value = valueAt(out[c], position);
      model.frames.push({
        index: model.frames.length, map: c, filter: c, position, origin,
        patch: [patch], winner: scene.op === "max" ? winner : null, value, output: value,
        divisor: scene.op === "avg" ? avgDivisor(position, model) : null,
      });
    }
  }
  fillMaps(model);
  return model;
}

function setAt(array, coords, value) {
  let a = array;
  for (const c of coords.slice(0, -1)) a = a[c];
  a[coords[coords.length - 1]] = value;
}

/** PyTorch's divisor of an average-pooling window (count_include_pad = true): per-axis lengths multiplied. */
function avgDivisor(position, model) {
  return model.axes.reduce((acc, a, i) => {
    const start = position[i] * a.s - a.before;
    const end = Math.min(start + a.k, a.n + a.after);
    return acc * (end - start);
  }, 1);
}

function fillMaps(model) {
  const blank = () => filled(model.oshape, null);
  model.outputs = Array.from({ length: model.maps }, blank);
  model.values = Array.from({ length: model.maps }, blank);
  model.partials = Array.from({ length: model.maps }, () => []);
  for (const fr of model.frames) {
    setAt(model.outputs[fr.map], fr.position, fr.output);
    setAt(model.values[fr.map], fr.position, fr.value);
    (fr.channel_sums || []).forEach((s, c) => {
      if (!model.partials[fr.map][c]) model.partials[fr.map][c] = blank();
      setAt(model.partials[fr.map][c], fr.position, s);
    });
  }
}

/** Index of the frame of map `f` at output coordinates `at` (one per spatial axis). */
export function frameAt(model, f, at) {
  return f * model.P + ravel(at, model.oshape);
}

// The model of one scene: everything the stage shows, derived from the scene and the server's
// answers (conv frames from POST /api/frames, pooled values from POST /api/pool). Frames of
// pooling are laid out locally from the same geometry the server uses; their values are the
// server's.
import * as api from "../api.js";
import { describe } from "../geometry.js";

export const MAX_FRAMES = 2048;
const PAGE = 512;

/** Padded copy of one (H, W) channel; `fill` is used for zeros padding (-Infinity for max pooling). */
export function padChannel(x, pads, mode = "zeros", fill = 0) {
  const h = x.length;
  const w = x[0].length;
  const [[t, b], [l, r]] = pads;
  const index = (i, n) => {
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
  };
  return Array.from({ length: h + t + b }, (_, y) => Array.from({ length: w + l + r }, (_, xx) => {
    const iy = index(y - t, h);
    const ix = index(xx - l, w);
    return iy < 0 || ix < 0 ? fill : x[iy][ix];
  }));
}

function convBody(scene) {
  if (scene.op === "act") {
    // An activation alone is a 1x1 convolution with weight 1 per channel (groups = C).
    const c = scene.input.length;
    return {
      input: scene.input,
      kernel: Array.from({ length: c }, () => [[[1]]]),
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

/**
 * Build the model for `scene`. Resolves to {error} or {tooMany} or the model:
 * {op, C, H, W, maps, kh, kw, axes, pads, Hp, Wp, oh, ow, P, total, padded (C,Hp,Wp), frames,
 *  outputs (maps,oh,ow), values (maps,oh,ow), partials (maps,Cg,oh,ow), channelsOf(map)}.
 */
export async function buildModel(scene, { signal } = {}) {
  const C = scene.input.length;
  const H = scene.input[0].length;
  const W = scene.input[0][0].length;
  const pooling = scene.op === "max" || scene.op === "avg";
  const [kh, kw] = pooling ? scene.pool : scene.op === "act" ? [1, 1] : [scene.kernel[0][0].length, scene.kernel[0][0][0].length];
  const stride = scene.op === "act" ? [1, 1] : scene.stride;
  const dilation = scene.op === "act" || scene.op === "avg" ? [1, 1] : scene.dilation;
  const padding = scene.op === "act" ? 0 : scene.padding;
  const axes = describe({ spatial: [H, W], kernel: [kh, kw], stride, padding, dilation, ceilMode: pooling && scene.ceil_mode });
  const pads = axes.map((a) => [a.before, a.after]);
  const [oh, ow] = axes.map((a) => a.size);
  const base = { op: scene.op, C, H, W, kh, kw, axes, pads, stride, dilation, oh, ow, P: oh * ow };

  if (!pooling) {
    const loaded = await loadConvFrames(scene, signal);
    if (loaded.tooMany) return { tooMany: loaded.tooMany };
    const shape = loaded.shape;
    const maps = shape.length === 3 ? shape[0] : 1;
    const serverPads = loaded.padding || pads;
    const model = { ...base, pads: serverPads, maps, explain: loaded.explain };
    model.oh = shape[shape.length - 2];
    model.ow = shape[shape.length - 1];
    model.P = model.oh * model.ow;
    model.total = loaded.frames.length;
    model.padded = scene.input.map((ch) => padChannel(ch, serverPads, scene.padding_mode));
    const groups = scene.op === "act" ? C : scene.groups || 1;
    const cg = C / groups;
    model.channelsOf = (f) => {
      const g = Math.floor(f / (maps / groups));
      return Array.from({ length: cg }, (_, i) => g * cg + i);
    };
    // With flip the server multiplies by the kernel turned 180°: show the weights it really uses.
    const turn = (m) => m.slice().reverse().map((row) => row.slice().reverse());
    model.kernelOf = (f) => {
      if (scene.op === "act") return null;
      return scene.flip ? scene.kernel[f].map(turn) : scene.kernel[f];
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
  const out = answer.output.length === C && C > 0 && Array.isArray(answer.output[0][0]) ? answer.output : [answer.output];
  const model = { ...base, maps: C, mode: scene.op, explain: answer.explain };
  model.oh = out[0].length;
  model.ow = out[0][0].length;
  model.P = model.oh * model.ow;
  model.total = C * model.P;
  if (model.total > MAX_FRAMES) return { tooMany: model.total };
  const fill = scene.op === "max" ? -Infinity : 0;
  model.padded = scene.input.map((ch) => padChannel(ch, pads, "zeros", fill));
  model.channelsOf = (f) => [f];
  model.kernelOf = () => null;
  model.bias = null;
  model.activation = null;
  model.frames = [];
  const [dy, dx] = dilation;
  for (let c = 0; c < C; c++) {
    for (let r = 0; r < model.oh; r++) {
      for (let q = 0; q < model.ow; q++) {
        const origin = [r * stride[0], q * stride[1]];
        const patch = [];
        let winner = null;
        let best = -Infinity;
        const inside = [];
        for (let i = 0; i < kh; i++) {
          const row = [];
          for (let j = 0; j < kw; j++) {
            const y = origin[0] + i * dy;
            const x = origin[1] + j * dx;
            const v = y < model.padded[c].length && x < model.padded[c][0].length ? model.padded[c][y][x] : NaN;
            row.push(v);
            const real = y >= pads[0][0] && y < pads[0][0] + H && x >= pads[1][0] && x < pads[1][0] + W;
            inside.push(real);
            if (!Number.isNaN(v) && v > best) { best = v; winner = [i, j]; }
          }
          patch.push(row);
        }
        const value = out[c][r][q];
        model.frames.push({
          index: model.frames.length, map: c, filter: c, position: [r, q], origin,
          patch: [patch], winner: scene.op === "max" ? winner : null, value, output: value,
          divisor: scene.op === "avg" ? avgDivisor(r, q, model, scene) : null,
        });
      }
    }
  }
  fillMaps(model);
  return model;
}

/** PyTorch's divisor of an average-pooling window (count_include_pad = true). */
function avgDivisor(r, q, model, scene) {
  const size = (o, axis) => {
    const a = model.axes[axis];
    const start = o * a.s - a.before;
    const end = Math.min(start + a.k, a.n + a.after);
    return end - start;
  };
  return size(r, 0) * size(q, 1);
}

function fillMaps(model) {
  const blank = () => Array.from({ length: model.oh }, () => new Array(model.ow).fill(null));
  model.outputs = Array.from({ length: model.maps }, blank);
  model.values = Array.from({ length: model.maps }, blank);
  model.partials = Array.from({ length: model.maps }, () => []);
  for (const fr of model.frames) {
    const [r, q] = fr.position;
    model.outputs[fr.map][r][q] = fr.output;
    model.values[fr.map][r][q] = fr.value;
    (fr.channel_sums || []).forEach((s, c) => {
      if (!model.partials[fr.map][c]) model.partials[fr.map][c] = blank();
      model.partials[fr.map][c][r][q] = s;
    });
  }
}

/** Index of the frame of map `f` at output (r, q). */
export function frameAt(model, f, r, q) {
  return f * model.P + r * model.ow + q;
}

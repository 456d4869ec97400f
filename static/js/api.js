// The only module that calls fetch. Every function returns parsed data or throws ApiError,
// whose fields mirror the server's error envelope (docs/interfaces.md):
//   {status, code, field, message, accepted, suggestion, errors}
// Aborted requests throw the browser's AbortError; callers usually ignore it (see isAbort).

import { pending } from "./pending.js";

export class ApiError extends Error {
  constructor(envelope) {
    super(envelope.message || `HTTP ${envelope.status}`);
    this.name = "ApiError";
    this.status = envelope.status ?? 0;
    this.code = envelope.code ?? "error";
    this.field = envelope.field ?? null;
    this.accepted = envelope.accepted ?? null;
    this.suggestion = envelope.suggestion ?? null;
    this.alternatives = envelope.alternatives ?? [];
    this.errors = envelope.errors ?? [];
    this.retryAfter = envelope.retryAfter ?? null;
  }
}

export function isAbort(err) {
  return err && (err.name === "AbortError" || err.code === 20);
}

/** Turn a FastAPI/pydantic `detail` or our envelope into one envelope shape. */
async function errorFrom(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  const env = { status: response.status, ...(body && typeof body === "object" ? body : {}) };
  const retry = Number(response.headers.get("Retry-After"));
  if (retry > 0) env.retryAfter = retry;
  if (!env.message && body && body.detail !== undefined) {
    // A handler the envelope does not cover yet: still give the user a sentence.
    const d = body.detail;
    if (typeof d === "string") env.message = d;
    else if (Array.isArray(d) && d.length) {
      env.message = d.map((e) => `${(e.loc || []).filter((p) => p !== "body").join(".")}: ${e.msg}`).join("; ");
      env.field = env.field || (d[0].loc || []).filter((p) => p !== "body")[0] || null;
    }
  }
  if (!env.message) env.message = `${response.status} ${response.statusText}`;
  return new ApiError(env);
}

async function request(path, { method = "GET", json, body, signal, accept } = {}) {
  const headers = {};
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  if (accept) headers.Accept = accept;
  let response;
  pending(1);
  try {
    response = await fetch(path, { method, headers, body, signal });
  } catch (err) {
    pending(-1);
    if (isAbort(err)) throw err;
    throw new ApiError({ status: 0, code: "network", message: err.message || "network error" });
  }
  if (!response.ok) {
    try { throw await errorFrom(response); } finally { pending(-1); }
  }
  if (accept === "text/event-stream") { pending(-1); return response; }  // a stream stays open
  // the request counts as pending until its body is read (see pending.js)
  let counted = true;
  for (const name of ["json", "blob", "text", "arrayBuffer"]) {
    const read = response[name].bind(response);
    response[name] = () => read().finally(() => { if (counted) { counted = false; pending(-1); } });
  }
  return response;
}

async function getJSON(path, opts) {
  return (await request(path, opts)).json();
}

async function postJSON(path, json, opts = {}) {
  return (await request(path, { ...opts, method: "POST", json })).json();
}

/** Parse "a,b,c" headers into numbers (X-Svertka-Range, X-Svertka-Shape). */
function numbersHeader(response, name) {
  const v = response.headers.get(name);
  if (!v) return null;
  return v.split(",").map((s) => Number(s.trim()));
}

async function rendered(response) {
  const blob = await response.blob();
  let padding = null;
  try { padding = JSON.parse(response.headers.get("X-Svertka-Padding")); } catch { /* optional */ }
  return {
    blob,
    range: numbersHeader(response, "X-Svertka-Range"),
    dataRange: numbersHeader(response, "X-Svertka-Data-Range"),
    shape: numbersHeader(response, "X-Svertka-Shape"),
    grid: numbersHeader(response, "X-Svertka-Grid"),
    padding,
    display: response.headers.get("X-Svertka-Display"),
  };
}

// ---- resources -------------------------------------------------------------

export const health = (opts) => getJSON("/api/health", opts);
export const listKernels = (opts) => getJSON("/api/kernels", opts);
export const listSamples = (opts) => getJSON("/api/samples", opts);

/** Upload a File/Blob; answers {id, width, height, mode, format, bytes}. */
export async function uploadImage(file, opts = {}) {
  const form = new FormData();
  form.append("file", file, file.name || "pasted.png");
  return (await request("/api/images", { ...opts, method: "POST", body: form })).json();
}

/** Size, modes and format of a stored image, without its bytes. */
export const imageMeta = (id, opts) => getJSON(`/api/images/${encodeURIComponent(id)}/meta`, opts);

export const imageUrl = (id) => `/api/images/${encodeURIComponent(id)}`;
export const previewUrl = (id, maxSide) =>
  `/api/images/${encodeURIComponent(id)}/preview${maxSide ? `?max_side=${maxSide}` : ""}`;

/** Fetch the downscaled preview as a Blob (so callers can decode it into a canvas). */
export async function fetchPreview(id, maxSide, opts = {}) {
  return (await request(previewUrl(id, maxSide), opts)).blob();
}

export const conv = (body, opts) => postJSON("/api/conv", body, opts);
export const pool = (body, opts) => postJSON("/api/pool", body, opts);
export const frames = (body, opts) => postJSON("/api/frames", body, opts);
/** POST /api/conv_transpose/frames: {total, frames: [{index, filter, position, taps, bias, value}], shape, gather, ...}. */
export const convTransposeFrames = (body, opts) => postJSON("/api/conv_transpose/frames", body, opts);
/** POST /api/network: Keras's model.summary() for {input_shape, layers}: {layers, total_params, ...}. */
export const network = (body, opts) => postJSON("/api/network", body, opts);
/** POST /api/network/run: every layer's output for one input (see the schema in /docs):
 *  {input_shape, input_source, layers: [{name, type, output_shape, output, range, mask, png, grid, weights?}], ...}. */
export const networkRun = (body, opts) => postJSON("/api/network/run", body, opts);
/** POST /api/conv/matrix: a convolution as a dense matrix (index per entry) and its counts. */
export const convMatrix = (body, opts) => postJSON("/api/conv/matrix", body, opts);
/** POST /api/network/export?format=keras|pytorch|npz: the files as a Blob. */
export async function networkExport(body, format, opts = {}) {
  const path = `/api/network/export?format=${encodeURIComponent(format)}`;
  return (await request(path, { ...opts, method: "POST", json: body })).blob();
}
/** POST /api/models: a Keras file (.keras or .h5) read as data; answers {id, format,
 *  keras_version, input_shape, layers: [{name, type, output_shape, params, config, ...}], ...}. */
export async function uploadModel(file, opts = {}) {
  const form = new FormData();
  form.append("file", file, file.name || "model.keras");
  return (await request("/api/models", { ...opts, method: "POST", body: form })).json();
}
/** GET /api/models/{id}: an uploaded model's summary (404 once it was evicted). */
export const getModel = (id, opts) => getJSON(`/api/models/${encodeURIComponent(id)}`, opts);
/** POST /api/dropout: {shape, output, mask, kept, p, seed, training}. */
export const dropout = (body, opts) => postJSON("/api/dropout", body, opts);

/** POST /api/conv/render: {blob, range (mapped), dataRange (min, max of the values), shape, grid, padding, display}. */
export async function convRender(body, opts = {}) {
  return rendered(await request("/api/conv/render", { ...opts, method: "POST", json: body }));
}

export async function poolRender(body, opts = {}) {
  return rendered(await request("/api/pool/render", { ...opts, method: "POST", json: body }));
}

/** POST /api/frames/animation: the animated image as a Blob. */
export async function framesAnimation(body, opts = {}) {
  return (await request("/api/frames/animation", { ...opts, method: "POST", json: body })).blob();
}

/** POST /api/conv_transpose/animation ({view: "scatter" | "gather", format, fps}): a Blob. */
export async function convTransposeAnimation(body, opts = {}) {
  return (await request("/api/conv_transpose/animation", { ...opts, method: "POST", json: body })).blob();
}

// ---- the digit network (POST bodies and answers: server/web/routes/digits.py) ----

/** GET /api/digits/model: {input_shape, layers, weights, pixel_scale, test_accuracy, seed, ...}. */
export const digitsModel = (opts) => getJSON("/api/digits/model", opts);
/** POST /api/digits/predict: {label, probabilities, pixels, reduction, layers}. */
export const digitsPredict = (body, opts) => postJSON("/api/digits/predict", body, opts);

/**
 * Read a text/event-stream answer as {event, data} objects (data parsed as JSON). EventSource
 * cannot POST, so the stream is read from fetch's body; aborting `signal` closes it, which the
 * server takes as "stop".
 */
async function* serverEvents(path, json, { signal } = {}) {
  const response = await request(path, { method: "POST", json, signal, accept: "text/event-stream" });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
      let cut;
      while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
        const message = parseEvent(block);
        if (message) yield message;
      }
      if (done) break;
    }
    const last = parseEvent(buffer);
    if (last) yield last;
  } finally {
    reader.cancel().catch(() => {});
  }
}

function parseEvent(block) {
  let event = "message";
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  const text = data.join("\n");
  try {
    return { event, data: JSON.parse(text) };
  } catch {
    return { event, data: text };
  }
}

/** POST /api/digits/train: events start, batch, epoch, done, error (one job per `client`). */
export const digitsTrain = (body, opts) => serverEvents("/api/digits/train", body, opts);
/** POST /api/learn/kernel: events start, step, done (gradient descent towards a hidden kernel). */
export const learnKernel = (body, opts) => serverEvents("/api/learn/kernel", body, opts);

// ---- cancellation ----------------------------------------------------------

/**
 * A slot that keeps only the latest request alive:
 *   const latest = latestOnly();
 *   const data = await latest((signal) => api.conv(body, { signal }));
 * Starting a new call aborts the previous one; a superseded call rejects with AbortError.
 */
export function latestOnly() {
  let controller = null;
  const run = async (start) => {
    if (controller) controller.abort();
    const mine = new AbortController();
    controller = mine;
    try {
      return await start(mine.signal);
    } finally {
      if (controller === mine) controller = null;
    }
  };
  run.abort = () => { if (controller) controller.abort(); controller = null; };
  return run;
}

/** A new live room: {room, teacher_token, join_url, ws_url}. */
export const createRoom = (opts) => postJSON("/api/rooms", undefined, opts);

// "Watch it learn": one training run in the server, streamed as events (start, batch, epoch,
// done, error) and painted as it comes: progress, loss and accuracy curves, the first layer's
// kernels, and at the end the confusion matrix. The new weights go to `onTrained`.
import * as api from "../api.js";
import { fmt, t } from "../i18n.js";
import { lineChart } from "./charts.js";
import { el } from "../dom.js";
import { grid, kernelSlice, maxAbs } from "./grids.js";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

/** A random id made once per tab: the server runs one job per client. */
function clientId() {
  const key = "svertka.digits.client";
  try {
    let id = sessionStorage.getItem(key);
    if (!id) {
      id = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
      sessionStorage.setItem(key, id);
    }
    return id;
  } catch {
    return `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  }
}

/** The 8 kernels of a Keras [3, 3, 1, 8] array as 8 grids of numbers. */
export function paintKernels(box, kernel) {
  const filters = kernel[0][0][0].length;
  const slices = Array.from({ length: filters }, (_, f) => kernelSlice(kernel, 0, f));
  const max = maxAbs(slices);
  box.replaceChildren(...slices.map((s, f) => el("figure", { class: "dg-kernel", "data-filter": f }, [
    grid(s, { max }, { "data-testid": "live-kernel" }),
    el("figcaption", { class: "caption", text: `#${f}` })])));
}

export class Trainer {
  constructor({ onTrained }) {
    this.onTrained = onTrained;
    this.controller = null;
    this.run = null; // {epochs, batches, trainLoss: [[x, y]], ...} of the current or last run
    this.form = $("train-form");
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.start(); });
    $("stop-training").addEventListener("click", () => this.stop());
    // Leaving the page closes the stream, which cancels the job in the server.
    window.addEventListener("pagehide", () => this.controller?.abort());
    document.addEventListener("langchange", () => this.repaint());
    this.repaint();
  }

  body() {
    const num = (id) => Number($(id).value);
    const body = {
      epochs: Math.min(Math.max(Math.round(num("train-epochs")) || 8, 1), 30),
      optimizer: $("train-optimizer").value,
      batch_size: num("train-batch"),
      seed: Math.max(0, Math.round(num("train-seed")) || 0),
      client: clientId(),
    };
    const lr = $("train-lr").value.trim();
    if (lr !== "" && Number(lr) > 0) body.learning_rate = Number(lr);
    return body;
  }

  /** Say `key` (with `params`) under the buttons; said again in the other language on a switch. */
  status(key, params) {
    this.said = [key, params];
    $("train-status").textContent = t(key, params);
  }

  busy(on) {
    $("train").disabled = on;
    $("stop-training").disabled = !on;
    $("train-form").querySelectorAll("input, select").forEach((n) => { n.disabled = on; });
  }

  async start() {
    if (this.controller) return;
    const body = this.body();
    const controller = new AbortController();
    this.controller = controller;
    this.run = { epochs: body.epochs, batches: 1, epoch: 0, batch: 0, trainLoss: [], trainAcc: [],
                 valLoss: [], valAcc: [], kernels: null, kernelsEpoch: null, confusion: null, done: null };
    this.busy(true);
    this.status("dg.train.starting");
    $("confusion-box").hidden = true;
    $("train-progress").value = 0;
    this.repaint();
    try {
      for await (const { event, data } of api.digitsTrain(body, { signal: controller.signal })) {
        this.on(event, data);
        if (event === "done" || event === "error") break;
      }
    } catch (err) {
      if (api.isAbort(err)) this.status("dg.train.stopped");
      else if (err.status === 409) this.status("dg.train.mine");
      else if (err.status === 503) this.status("dg.train.busy", { s: err.retryAfter ?? 10 });
      else if (err.status === 0) this.status("dg.error.network");
      else this.status("dg.train.failed", { msg: err.message });
    } finally {
      if (this.controller === controller) this.controller = null;
      this.busy(false);
    }
  }

  stop() {
    this.controller?.abort();
  }

  on(event, data) {
    const run = this.run;
    if (event === "start") {
      run.epochs = data.epochs;
      run.batches = data.batches;
      run.sizes = data;
      this.status("dg.train.sizes", { train: data.train_size, test: data.test_size, batches: data.batches });
    } else if (event === "batch") {
      run.batches = data.batches || run.batches;
      run.epoch = data.epoch;
      run.batch = data.batch;
      const x = (data.epoch - 1) + data.batch / run.batches;
      run.trainLoss.push([x, data.loss]);
      run.trainAcc.push([x, data.accuracy]);
      this.status("dg.train.progress", { epoch: data.epoch, epochs: run.epochs, batch: data.batch, batches: run.batches });
      $("train-progress").value = x / run.epochs;
      this.curves();
    } else if (event === "epoch") {
      run.valLoss.push([data.epoch, data.val_loss]);
      run.valAcc.push([data.epoch, data.val_accuracy]);
      run.kernels = data.kernels;
      run.kernelsEpoch = data.epoch;
      $("train-progress").value = data.epoch / run.epochs;
      this.status("dg.train.epoch_done", { epoch: data.epoch, epochs: run.epochs,
                                             loss: fmt(data.val_loss, 3), acc: fmt(100 * data.val_accuracy, 1) });
      this.curves();
      this.kernels();
    } else if (event === "done") {
      run.done = data;
      run.confusion = data.confusion;
      $("train-progress").value = 1;
      this.confusion();
      this.status("dg.train.done", { s: fmt(data.seconds, 1), acc: fmt(100 * data.test_accuracy, 1),
                                       n: data.confusion.flat().reduce((a, b) => a + b, 0) });
      this.onTrained({ weights: data.weights, test_accuracy: data.test_accuracy });
    } else if (event === "error") {
      this.status("dg.train.failed", { msg: data.message ?? String(data) });
    }
  }

  curves() {
    const run = this.run;
    const epochs = run?.epochs || 1;
    const losses = run ? [...run.trainLoss, ...run.valLoss].map(([, v]) => v) : [];
    const top = Math.max(0.5, ...losses.filter(Number.isFinite));
    lineChart($("loss-curve"), {
      x: [0, epochs], y: [0, Math.ceil(top * 2) / 2], xLabel: t("dg.curve.epoch"),
      series: [{ points: run?.trainLoss || [], cls: "dg-series-train" },
               { points: run?.valLoss || [], cls: "dg-series-val", dots: true }],
    });
    lineChart($("accuracy-curve"), {
      x: [0, epochs], y: [0, 1], xLabel: t("dg.curve.epoch"), yFormat: (v) => `${fmt(100 * v, 0)}%`,
      series: [{ points: run?.trainAcc || [], cls: "dg-series-train" },
               { points: run?.valAcc || [], cls: "dg-series-val", dots: true }],
    });
  }

  /** The live kernels, or the model's until a run reports its own. */
  kernels(modelKernel) {
    if (modelKernel) this.modelKernel = modelKernel;
    const live = this.run?.kernels;
    const kernel = live || this.modelKernel;
    if (!kernel) return;
    paintKernels($("live-kernels"), kernel);
    $("kernels-when").textContent = live ? t("dg.kernels.epoch", { epoch: this.run.kernelsEpoch }) : t("dg.kernels.model");
  }

  confusion() {
    const m = this.run?.confusion;
    const table = $("confusion-matrix");
    if (!m) return;
    const head = el("tr", {}, [el("th", { scope: "col", class: "dg-corner" },
      [el("span", { text: `${t("dg.confusion.true")} ↓ ${t("dg.confusion.pred")} →` })]),
      ...m.map((_, p) => el("th", { scope: "col", text: String(p) }))]);
    const rows = m.map((row, tr) => {
      const total = row.reduce((a, b) => a + b, 0) || 1;
      return el("tr", {}, [el("th", { scope: "row", text: String(tr) }), ...row.map((n, p) => {
        const share = n / total;
        const colour = tr === p ? "var(--dg-pos)" : "var(--dg-bad)";
        return el("td", {
          class: tr === p ? "diag" : n ? "miss" : "",
          title: t("dg.confusion.cell", { n, t: tr, p }), "data-value": n,
          style: n ? `background: color-mix(in srgb, ${colour} calc(${share.toFixed(3)} * var(--dg-mix-max)), var(--surface))` : "",
          text: String(n),
        });
      })]);
    });
    table.replaceChildren(el("thead", {}, [head]), el("tbody", {}, rows));
    $("confusion-box").hidden = false;
  }

  repaint() {
    if (this.said) this.status(...this.said);
    this.curves();
    this.kernels();
    this.confusion();
  }
}

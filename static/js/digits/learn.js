// "Learn a kernel": the server descends from a zero kernel towards a hidden one on a grey photo
// and streams every step; the page shows the nine numbers converging and the loss falling.
import * as api from "../api.js";
import { fmt, getLang, t } from "../i18n.js";
import { lineChart } from "./charts.js";
import { maxAbs, paintGrid, sci } from "./grids.js";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const ZERO = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
const STEP_MS = 30; // the server computes faster than eyes follow: the page plays the steps back

export class KernelLearner {
  constructor() {
    this.presets = [];
    this.controller = null;
    this.run = null;
    $("learn-form").addEventListener("submit", (event) => { event.preventDefault(); this.start(); });
    $("stop-learning").addEventListener("click", () => this.controller?.abort());
    $("kernel-target-select").addEventListener("change", () => { if (!this.controller) { this.run = null; this.paint(); } });
    window.addEventListener("pagehide", () => this.controller?.abort());
    document.addEventListener("langchange", () => { this.options(); this.paint(); });
  }

  async load() {
    try {
      const all = await api.listKernels();
      this.presets = all.filter((k) => k.kernel.length === 3 && k.kernel[0].length === 3 && k.name !== "identity");
    } catch (err) {
      $("learn-status").textContent = err.message;
      return;
    }
    this.options();
    const select = $("kernel-target-select");
    if (this.presets.some((k) => k.name === "sobel_x")) select.value = "sobel_x";
    this.paint();
  }

  options() {
    const select = $("kernel-target-select");
    const value = select.value;
    const ru = getLang() === "ru";
    select.replaceChildren(...this.presets.map((k) => {
      const o = document.createElement("option");
      o.value = k.name;
      o.textContent = (ru ? k.title_ru : k.title) || k.name;
      return o;
    }));
    if (value) select.value = value;
  }

  target() {
    return this.presets.find((k) => k.name === $("kernel-target-select").value)?.kernel || ZERO;
  }

  async start() {
    if (this.controller) return;
    const steps = Math.min(Math.max(Math.round(Number($("learn-steps").value)) || 150, 1), 500);
    const controller = new AbortController();
    this.controller = controller;
    this.run = { steps, step: 0, kernel: ZERO, target: this.target(), loss: [], done: null, image: null };
    this.busy(true);
    this.paint();
    try {
      const body = { target: $("kernel-target-select").value, steps };
      const queue = [];
      const played = this.play(queue, controller.signal);
      for await (const message of api.learnKernel(body, { signal: controller.signal })) {
        queue.push(message);
        if (message.event === "done" || message.event === "error") break;
      }
      queue.push(null); // the end of the stream
      await played;
    } catch (err) {
      if (!api.isAbort(err)) this.run.error = err.status === 0 ? t("dg.error.network") : err.message;
      this.paint();
    } finally {
      if (this.controller === controller) this.controller = null;
      this.busy(false);
    }
  }

  /** Apply the queued events one every STEP_MS, until the end marker (or Stop). */
  async play(queue, signal) {
    for (;;) {
      if (signal.aborted) return;
      const message = queue.shift();
      if (message === null) return;
      if (message) {
        this.apply(message);
        this.paint();
      }
      await new Promise((resolve) => { setTimeout(resolve, STEP_MS); });
    }
  }

  apply({ event, data }) {
    const run = this.run;
    if (event === "start") {
      run.target = data.target;
      run.image = data.image;
    } else if (event === "step") {
      run.step = data.step;
      run.kernel = data.kernel;
      run.loss.push([data.step, data.loss]);
    } else if (event === "done") {
      run.done = data;
      run.kernel = data.kernel;
    } else if (event === "error") {
      run.error = data.message ?? String(data);
    }
  }

  busy(on) {
    $("learn-kernel").disabled = on;
    $("stop-learning").disabled = !on;
    $("kernel-target-select").disabled = on;
    $("learn-steps").disabled = on;
  }

  paint() {
    const run = this.run;
    const target = run?.target || this.target();
    const learned = run?.kernel || ZERO;
    const max = Math.max(maxAbs(target), maxAbs(learned), 1e-9);
    paintGrid($("kernel-target"), target, { max, format: (v) => fmt(v, 3) });
    paintGrid($("kernel-learned"), learned, { max, format: (v) => fmt(v, 3) });
    const losses = run?.loss || [];
    const values = losses.map(([, v]) => v).filter((v) => v > 0);
    const hi = values.length ? 10 ** Math.ceil(Math.log10(Math.max(...values))) : 1;
    const lo = values.length ? 10 ** Math.floor(Math.log10(Math.min(...values))) : 1e-3;
    lineChart($("kernel-loss-curve"), {
      x: [0, run?.steps || Number($("learn-steps").value) || 150], y: [Math.min(lo, hi / 10), hi], log: true,
      xLabel: t("dg.learn.step"), series: [{ points: losses, cls: "dg-series-train" }],
    });
    const status = $("learn-status");
    if (!run) status.textContent = t("dg.learn.idle");
    else if (run.error) status.textContent = run.error;
    else if (run.done) {
      const diff = Math.max(...run.done.kernel.flat().map((v, i) => Math.abs(v - run.done.target.flat()[i])));
      status.textContent = t("dg.learn.done", { steps: run.done.steps, loss: sci(run.done.loss, 6), diff: sci(diff, 4) });
    } else if (run.loss.length) {
      const last = run.loss[run.loss.length - 1][1];
      status.textContent = t("dg.learn.running", { step: run.step, steps: run.steps, loss: sci(last, 6) })
        + (run.image ? ` ${t("dg.learn.photo", { h: run.image[0], w: run.image[1] })}` : "");
    } else status.textContent = t("dg.train.starting");
    status.dataset.state = run?.done ? "done" : run?.error ? "error" : run ? "running" : "idle";
  }
}

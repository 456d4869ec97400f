// The dense-matrix panel of the layer-stack page: a convolution written out as the weight matrix
// of a fully connected layer (POST /api/conv/matrix), a row per output and a column per input,
// each entry coloured by which kernel weight it is, zeros blank; beside it the lesson's three
// counts. Sources: the lesson's two examples, or any Conv layer of the stack at its real input
// size (then only the counts when the matrix is too big to draw).
import "./matrix_strings.js";
import * as api from "../api.js";
import { el } from "../dom.js";
import { t } from "../i18n.js";

// Paul Tol's "muted" scheme: nine colours that stay apart for the common colour-vision deficiencies
export const PALETTE = ["#332288", "#88ccee", "#44aa99", "#117733", "#999933", "#ddcc77",
  "#cc6677", "#882255", "#aa4499"];
const LESSONS = {
  lesson: { input_shape: [3, 3], kernel_size: 2 },
  lesson5: { input_shape: [5, 5], kernel_size: 3 },
};
const MAX_SIDE_PX = 720;  // the drawing's larger side, in CSS pixels
const LABEL_CELL = 22;     // cells at least this large carry their weight's label

const prod = (xs) => xs.reduce((a, b) => a * b, 1);
const count = (n) => n.toLocaleString(document.documentElement.lang === "ru" ? "ru-RU" : "en-US");

/** Which colour an entry gets: its weight while there are few, else its tap in the window. */
export function colourOf(weight, kernelShape) {
  if (prod(kernelShape) <= PALETTE.length) return PALETTE[weight];
  return PALETTE[(weight % prod(kernelShape.slice(2))) % PALETTE.length];
}

/** `w[f, c, ky, kx]` for a flat index into the kernel (F, C/groups, *K). */
function weightName(flat, kernelShape) {
  const coords = [];
  let rest = flat;
  for (let i = kernelShape.length - 1; i >= 0; i -= 1) {
    coords.unshift(rest % kernelShape[i]);
    rest = Math.floor(rest / kernelShape[i]);
  }
  return `w[${(prod(kernelShape.slice(0, 2)) === 1 ? coords.slice(2) : coords).join(", ")}]`;
}

/** The /api/conv/matrix body for layer `index` of the stack, from the summary's shapes. */
export function layerBody(layers, input, summary, index) {
  const layer = layers[index];
  const shape = index === 0 ? input : summary.layers[index - 1].output_shape;
  return {
    input_shape: shape.slice(0, -1), channels: shape.at(-1), filters: layer.filters,
    kernel_size: layer.kernel_size, stride: layer.strides ?? 1, padding: layer.padding ?? "valid",
    dilation: layer.dilation_rate ?? 1, groups: layer.groups ?? 1,
  };
}

export function mountMatrix(panel, store) {
  const body = panel.querySelector("[data-matrix]");
  const latest = api.latestOnly();
  let summary = null;
  let source = "lesson";
  let answer = null;

  const lesson = el("button", { type: "button", class: "btn btn-small", "data-source": "lesson", "data-testid": "matrix-lesson" });
  const lesson5 = el("button", { type: "button", class: "btn btn-small", "data-source": "lesson5", "data-testid": "matrix-lesson5" });
  const pick = el("select", { "data-testid": "matrix-layer" });
  const pickLabel = el("label", { class: "mx-pick" }, [el("span"), pick]);
  const rowsText = el("p", { class: "caption", "data-testid": "matrix-rows" });
  const canvas = el("canvas", { class: "mx-canvas", "data-testid": "matrix-canvas" });
  const hover = el("p", { class: "caption mx-hover", "data-testid": "matrix-hover" });
  hover.setAttribute("aria-live", "polite");
  const legend = el("div", { class: "mx-legend", "data-testid": "matrix-legend" });
  const tooBig = el("p", { class: "caption mx-too-big", hidden: true, "data-testid": "matrix-too-big" });
  const error = el("p", { class: "error-box", hidden: true, "data-testid": "matrix-error" });
  error.setAttribute("role", "alert");
  const cells = ["fully", "connections", "shared"].map((key) => el("div", { class: "mx-count", "data-key": key, "data-testid": `count-${key}` }, [
    el("strong", { class: "mx-count-value" }), el("span", { class: "mx-count-label" }),
    el("span", { class: "caption mx-count-note" })]));
  const counts = el("div", { class: "mx-counts", "data-testid": "matrix-counts" }, cells);
  body.replaceChildren(el("p", { class: "caption mx-lead" }), el("div", { class: "mx-sources" }, [lesson, lesson5, pickLabel]),
    counts, rowsText, tooBig, error, el("div", { class: "mx-drawing" }, [canvas]), legend, hover);

  function convLayers() {
    return store.get("layers").map((layer, index) => ({ layer, index }))
      .filter(({ layer }) => /^Conv[123]D$/.test(layer.type));
  }

  function fillPick() {
    const convs = convLayers();
    const keep = pick.value;
    pick.replaceChildren(el("option", { value: "", text: convs.length ? "—" : t("mx.layer.none") }),
      ...convs.map(({ layer, index }) => el("option", {
        value: String(index),
        text: `${summary?.layers?.[index]?.name ?? layer.type} (${layer.type}, #${index + 1})`,
      })));
    pick.value = [...pick.options].some((o) => o.value === keep) ? keep : "";
    pick.disabled = !convs.length;
  }

  function label() {
    body.querySelector(".mx-lead").textContent = t("mx.lead");
    lesson.textContent = t("mx.lesson");
    lesson5.textContent = t("mx.lesson5");
    pickLabel.firstChild.textContent = t("mx.layer");
    for (const cell of cells) {
      cell.querySelector(".mx-count-label").textContent = t(`mx.${cell.dataset.key}`);
    }
    fillPick();
  }

  async function compute() {
    let request;
    if (source in LESSONS) request = { ...LESSONS[source] };
    else {
      const index = Number(source);
      const layers = store.get("layers");
      if (!summary || !layers[index] || !/^Conv/.test(layers[index].type)) return;
      request = layerBody(layers, store.get("input"), summary, index);
    }
    for (const b of [lesson, lesson5]) b.setAttribute("aria-pressed", String(b.dataset.source === source));
    panel.setAttribute("aria-busy", "true");
    try {
      answer = await latest((signal) => api.convMatrix(request, { signal }));
      error.hidden = true;
      paint();
    } catch (err) {
      if (api.isAbort(err)) return;
      answer = null;
      error.textContent = t("mx.error", { message: err.message });
      error.hidden = false;
      paint();
    } finally {
      panel.setAttribute("aria-busy", "false");
    }
  }

  function paintCounts() {
    const c = answer?.counts;
    const notes = {
      fully: c ? t("mx.fully.note", { outputs: count(c.outputs), inputs: count(c.inputs) }) : "",
      connections: t("mx.connections.note"), shared: t("mx.shared.note"),
    };
    const values = c ? { fully: c.fully_connected, connections: c.connections, shared: c.shared_weights } : {};
    for (const cell of cells) {
      const v = values[cell.dataset.key];
      cell.querySelector(".mx-count-value").textContent = v === undefined ? "–" : count(v);
      if (v === undefined) delete cell.dataset.value;
      else cell.dataset.value = String(v);
      cell.querySelector(".mx-count-note").textContent = notes[cell.dataset.key];
    }
  }

  function paint() {
    paintCounts();
    hover.textContent = "";
    if (!answer) {
      canvas.hidden = true;
      legend.replaceChildren();
      rowsText.textContent = "";
      tooBig.hidden = true;
      return;
    }
    rowsText.textContent = t("mx.rows", {
      rows: count(answer.rows), cols: count(answer.columns),
      out: answer.output_shape.join("×"), inp: answer.input_shape.join("×"),
    });
    tooBig.hidden = answer.index !== null;
    tooBig.textContent = t("mx.too_big", { entries: count(answer.counts.fully_connected) });
    canvas.hidden = answer.index === null;
    paintLegend();
    if (answer.index !== null) draw();
  }

  function paintLegend() {
    const n = prod(answer.kernel_shape);
    const items = [el("span", { class: "caption", text: t("mx.legend") })];
    if (n <= PALETTE.length) {
      for (let w = 0; w < n; w += 1) {
        const swatch = el("span", { class: "mx-swatch" });
        swatch.style.background = colourOf(w, answer.kernel_shape);
        items.push(el("span", { class: "mx-key" }, [swatch, weightName(w, answer.kernel_shape)]));
      }
    } else items.push(el("span", { class: "caption", text: t("mx.legend.taps", { n: count(n) }) }));
    legend.replaceChildren(...items);
  }

  function geometry() {
    const { rows, columns } = answer;
    const cell = Math.max(1, Math.min(36, Math.floor(MAX_SIDE_PX / Math.max(rows, columns))));
    return { rows, columns, cell };
  }

  function draw() {
    const { rows, columns, cell } = geometry();
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(columns * cell * ratio);
    canvas.height = Math.round(rows * cell * ratio);
    canvas.style.width = `${columns * cell}px`;
    canvas.style.height = `${rows * cell}px`;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, columns * cell, rows * cell);
    const styles = getComputedStyle(panel);
    const line = styles.getPropertyValue("--line").trim() || "#d9dee6";
    const shape = answer.kernel_shape;
    const few = prod(shape) <= PALETTE.length;
    for (let r = 0; r < rows; r += 1) {
      const row = answer.index[r];
      for (let c = 0; c < columns; c += 1) {
        const w = row[c];
        if (w < 0) continue;
        ctx.fillStyle = colourOf(w, shape);
        ctx.fillRect(c * cell, r * cell, cell, cell);
        if (few && cell >= LABEL_CELL) {
          ctx.fillStyle = ["#ddcc77", "#88ccee", "#999933", "#44aa99"].includes(colourOf(w, shape)) ? "#000" : "#fff";
          ctx.font = `${Math.floor(cell * 0.38)}px system-ui, sans-serif`;
          ctx.textAlign = "center";
          ctx.textBaseline = "middle";
          ctx.fillText(weightName(w, shape).replace(/[[\]\s]/g, ""), (c + 0.5) * cell, (r + 0.5) * cell);
        }
      }
    }
    if (cell >= 6) {  // the grid makes single cells countable in small matrices
      ctx.strokeStyle = line;
      ctx.lineWidth = 1 / ratio;
      ctx.beginPath();
      for (let r = 0; r <= rows; r += 1) { ctx.moveTo(0, r * cell); ctx.lineTo(columns * cell, r * cell); }
      for (let c = 0; c <= columns; c += 1) { ctx.moveTo(c * cell, 0); ctx.lineTo(c * cell, rows * cell); }
      ctx.stroke();
    }
  }

  canvas.addEventListener("mousemove", (event) => {
    if (!answer?.index) return;
    const { rows, columns, cell } = geometry();
    const box = canvas.getBoundingClientRect();
    const c = Math.floor((event.clientX - box.left) / cell);
    const r = Math.floor((event.clientY - box.top) / cell);
    if (r < 0 || c < 0 || r >= rows || c >= columns) return;
    const w = answer.index[r][c];
    hover.textContent = w < 0 ? t("mx.hover.zero", { row: r, col: c })
      : t("mx.hover", { row: r, col: c, weight: weightName(w, answer.kernel_shape) });
  });
  canvas.addEventListener("mouseleave", () => { hover.textContent = ""; });

  body.addEventListener("click", (event) => {
    const button = event.target.closest("[data-source]");
    if (!button) return;
    source = button.dataset.source;
    pick.value = "";
    compute();
  });
  pick.addEventListener("change", () => {
    if (pick.value === "") return;
    source = pick.value;
    compute();
  });
  store.on("summary", (next) => {
    summary = next;
    fillPick();
    if (!(source in LESSONS)) {
      if ([...pick.options].some((o) => o.value === source)) { pick.value = source; compute(); } else {
        source = "lesson";
        compute();
      }
    }
  });
  document.addEventListener("langchange", () => { label(); paint(); });

  label();
  compute();
}

// Every layer's result under its card (data-testid "layer-maps"): a map layer's channels as
// thumbnails cut from the server's PNG grid (big maps come shrunk by block means, `grid.factor`), a vector as a bar strip, a softmax as labelled
// bars, Dropout's mask beside inference mode. Dumb painters: the numbers come from the run.
import { t, fmt } from "../i18n.js";
import { el } from "../dom.js";

const MAX_LABELLED = 32;  // softmax classes drawn as labelled bars; more become a strip

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/** True when the layer's output is a probability vector. */
export function isSoftmax(layer) {
  return layer.type === "Softmax" || layer.activation === "softmax";
}

/** Where tile `k` sits in the PNG grid: {x, y, w, h}. */
export function tileRect(grid, k) {
  const r = Math.floor(k / grid.columns);
  const c = k % grid.columns;
  return { x: c * (grid.width + grid.gap), y: r * (grid.height + grid.gap), w: grid.width, h: grid.height };
}

/** Width / height of a layer's maps as computed (a shrunk tile may round its last block). */
export function mapAspect(row) {
  const shape = row.output_shape;
  return shape.length === 3 ? shape[1] / shape[0] : row.grid.width / row.grid.height;
}

/** Draw tile `k` of `image` (the decoded grid) into `canvas` at its own size. */
export function drawTile(canvas, image, grid, k) {
  const { x, y, w, h } = tileRect(grid, k);
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(image, x, y, w, h, 0, 0, w, h);
}

/** Decode a data URL into an image the canvases can copy from. */
export async function decodeGrid(png) {
  const image = new Image();
  image.src = png;
  await image.decode();
  return image;
}

function thumbnails(box, row, image, { layerIndex, onOpen }) {
  const channels = row.output_shape[row.output_shape.length - 1];
  const strip = el("div", { class: "nr-thumbs", role: "list" });
  for (let k = 0; k < row.grid.count; k += 1) {
    const canvas = el("canvas", { "aria-hidden": "true" });
    drawTile(canvas, image, row.grid, k);
    const label = t("nr.maps.open", { c: k });
    const button = el("button", {
      type: "button", class: "nr-thumb", role: "listitem", "data-testid": "map-thumb",
      "data-channel": String(k), title: label, "aria-label": `${row.name}: ${label}`,
    }, [canvas]);
    button.style.setProperty("--aspect", String(mapAspect(row)));
    button.addEventListener("click", () => onOpen({ layerIndex, channel: k, image }));
    strip.append(button);
  }
  const lo = fmt(row.range[0], 3);
  const hi = fmt(row.range[1], 3);
  const more = row.grid.count < channels ? ` · ${t("nr.maps.more", { n: row.grid.count, c: channels })}` : "";
  const shrunk = row.grid.factor > 1 ? ` · ${t("nr.maps.shrunk", { f: row.grid.factor })}` : "";
  strip.dataset.factor = String(row.grid.factor);
  box.append(strip, el("p", { class: "nr-caption", text: `${t("nr.maps.range", { lo, hi })}${more}${shrunk}` }));
}

function labelledBars(box, values) {
  const sum = values.reduce((a, v) => a + v, 0);
  const best = values.indexOf(Math.max(...values));
  const bars = el("div", { class: "nr-probs", "data-testid": "softmax-bars", role: "list" });
  values.forEach((p, i) => {
    const bar = el("div", {
      class: `nr-prob${i === best ? " nr-best" : ""}`, role: "listitem", "data-p": String(p),
      "aria-label": `${t("nr.softmax.class", { i })}: ${fmt(p, 3)}`,
    }, [
      el("span", { class: "nr-prob-bar" }, [el("span", { class: "nr-prob-fill" })]),
      el("span", { class: "nr-prob-value", text: fmt(p, 3) }),
      el("span", { class: "nr-prob-label", text: String(i) }),
    ]);
    bar.querySelector(".nr-prob-fill").style.height = `${Math.max(0, Math.min(1, p)) * 100}%`;
    bars.append(bar);
  });
  box.append(bars, el("p", { class: "nr-caption", text: t("nr.softmax", { sum: fmt(sum, 4) }) }));
}

/** A vector as bars on a canvas, one or more pixels wide each, around zero when signed. */
function barStrip(box, values) {
  const n = values.length;
  const width = Math.min(900, Math.max(n, 120));
  const height = 48;
  const canvas = el("canvas", { class: "nr-strip", "data-testid": "vector-strip", "data-count": String(n),
                                role: "img", "aria-label": t("nr.vector", { n }) });
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  const span = hi - lo || 1;
  const zero = height - ((0 - lo) / span) * height;
  ctx.fillStyle = css("--nw-dense") || "#d55e00";
  const neg = css("--signed-neg") || "#8073ac";
  for (let x = 0; x < width; x += 1) {
    // several values per pixel column: draw the one farthest from zero, so no peak is lost
    const a = Math.floor((x * n) / width);
    const b = Math.max(a + 1, Math.floor(((x + 1) * n) / width));
    let v = 0;
    for (let i = a; i < b && i < n; i += 1) if (Math.abs(values[i]) > Math.abs(v)) v = values[i];
    const y = height - ((v - lo) / span) * height;
    if (v < 0) {
      ctx.save();
      ctx.fillStyle = neg;
      ctx.fillRect(x, zero, 1, y - zero);
      ctx.restore();
    } else {
      ctx.fillRect(x, y, 1, zero - y);
    }
  }
  ctx.fillStyle = css("--line-strong") || "#999";
  ctx.fillRect(0, Math.min(height - 1, Math.round(zero)), width, 1);
  box.append(canvas, el("p", { class: "nr-caption",
    text: `${t("nr.vector", { n })} · ${t("nr.maps.range", { lo: fmt(Math.min(...values), 3), hi: fmt(Math.max(...values), 3) })}` }));
}

/** Kept/dropped cells of a mask on a near-square canvas, one pixel per value. */
function maskCanvas(flags, testid) {
  const n = flags.length;
  const columns = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / columns);
  const canvas = el("canvas", { class: "nr-mask", "data-testid": testid, role: "img" });
  canvas.width = columns;
  canvas.height = rows;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = css("--surface-2") || "#eee";
  ctx.fillRect(0, 0, columns, rows);
  const kept = css("--oi-sky") || "#56b4e9";
  const dropped = css("--nr-dropped") || "#111";
  for (let i = 0; i < n; i += 1) {
    ctx.fillStyle = flags[i] ? kept : dropped;
    ctx.fillRect(i % columns, Math.floor(i / columns), 1, 1);
  }
  return canvas;
}

function dropoutPair(box, row, layer) {
  const mask = [row.mask].flat(Infinity).map(Boolean);
  const kept = mask.filter(Boolean).length;
  const n = mask.length;
  const p = layer.rate;
  const legend = () => el("p", { class: "nr-legend" }, [
    el("span", { class: "nr-key nr-key-kept" }), t("nr.dropout.legend_kept"),
    el("span", { class: "nr-key nr-key-dropped" }), t("nr.dropout.legend_dropped"),
  ]);
  const identity = maskCanvas(new Array(n).fill(true), "dropout-identity");
  identity.setAttribute("aria-label", t("nr.dropout.inference"));
  const inference = el("figure", { class: "nr-drop-side", "data-testid": "dropout-inference" }, [
    identity,
    el("figcaption", { text: t("nr.dropout.inference") }),
  ]);
  const maskEl = maskCanvas(mask, "dropout-mask");
  maskEl.dataset.kept = String(kept);
  maskEl.dataset.total = String(n);
  maskEl.setAttribute("aria-label", t("nr.dropout.kept", { k: kept, n, pct: fmt((100 * kept) / n, 1), p: fmt(p, 2), f: fmt(1 / (1 - p), 3) }));
  const training = el("figure", { class: "nr-drop-side", "data-testid": "dropout-training" }, [
    maskEl,
    el("figcaption", {}, [
      el("b", { text: t("nr.dropout.training") }), " ",
      t("nr.dropout.kept", { k: kept, n, pct: fmt((100 * kept) / n, 1), p: fmt(p, 2), f: fmt(1 / (1 - p), 3) }),
    ]),
  ]);
  box.append(el("div", { class: "nr-drop" }, [inference, training]), legend());
}

function vector(box, row, layer) {
  const values = row.output;
  if (!Array.isArray(values)) {
    box.append(el("p", { class: "nr-caption", text: t("nr.vector.big", { n: row.output_shape[0] }) }));
  } else if (isSoftmax(layer) && values.length <= MAX_LABELLED) {
    labelledBars(box, values);
  } else {
    barStrip(box, values);
  }
}

/**
 * Paint `answer` (a /api/network/run answer) under the rows of `list`; `layers` is the stack
 * that was run. `onOpen({layerIndex, channel, image})` opens a thumbnail large.
 */
export async function paintMaps(list, answer, { layers, training, onOpen }) {
  const images = await Promise.all(answer.layers.map((row) => (row.png ? decodeGrid(row.png) : null)));
  [...list.children].forEach((li, i) => {
    li.querySelector(".nr-maps")?.remove();
    const row = answer.layers[i];
    if (!row) return;
    const layer = layers[i] || {};
    const box = el("div", { class: "nr-maps", "data-testid": "layer-maps", "data-layer": row.name,
                            "data-min": String(row.range[0]), "data-max": String(row.range[1]),
                            "aria-label": t("nr.maps", { name: row.name }), role: "group" });
    if (row.type === "Dropout" && training && row.mask) dropoutPair(box, row, layer);
    else if (row.type === "Dropout" && !training) {
      box.append(el("p", { class: "nr-caption", text: t("nr.dropout.off") }));
    }
    if (row.type !== "Dropout" || !training) {
      if (row.png && row.grid && images[i]) thumbnails(box, row, images[i], { layerIndex: i, onOpen });
      else if (row.output_shape.length === 1) vector(box, row, layer);
      else if (row.output_shape.length === 4) {
        box.append(el("p", { class: "nr-caption", text: t("nm.vector.volume", { lo: fmt(row.range[0], 3), hi: fmt(row.range[1], 3) }) }));
      }
    }
    li.append(box);
  });
}

/** Remove every strip (the stack they belonged to is gone). */
export function clearMaps(list) {
  list.querySelectorAll(".nr-maps").forEach((n) => n.remove());
}

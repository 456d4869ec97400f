// The arithmetic panel (data-testid "window-math"): for the output cell under the cursor, the
// magnified input window, the kernel, their products, the per-channel sums, the bias and the
// result after the activation; with pooling, first the pooled window of convolution outputs.

import { el } from "../dom.js";
import { fmt, t } from "../i18n.js";

const CH = ["R", "G", "B"];

function signedTint(v, max) {
  if (!max || !v) return "";
  const a = Math.min(Math.abs(v) / max, 1) * 0.55;
  return v > 0 ? `rgba(224,130,20,${a})` : `rgba(128,115,172,${a})`;
}

/** A magnified grid of numbers. `style(v, r, c)` -> {bg, fg, cls}. */
function grid(values, { digits = 2, style } = {}) {
  const g = el("div", { class: "mgrid" });
  g.style.setProperty("--cols", String(values[0].length));
  values.forEach((row, r) => row.forEach((v, c) => {
    const s = style ? style(v, r, c) : {};
    const cell = el("span", { class: s.cls || null, text: s.text ?? fmt(v, digits) });
    if (s.bg) cell.style.background = s.bg;
    if (s.fg) cell.style.color = s.fg;
    if (s.title) cell.title = s.title;
    g.append(cell);
  }));
  return g;
}

function block(label, content) {
  const b = el("div", { class: "math-block" });
  b.append(el("span", { class: "label", text: label }), content);
  return b;
}

const maxAbs = (m) => m.flat(Infinity).reduce((a, v) => Math.max(a, Math.abs(v)), 0);

/**
 * One filter's frame. `kernels[c]` is the 2-D slice applied to patch channel c (already flipped
 * when flip is on), `padded(r, c)` tells whether a tap reads the padding, `channelOf(c)` names it.
 */
function frameDetail(frame, { kernels, padded, channelOf, flip, activation, rgb }) {
  const box = el("div", { class: "math" });
  const sums = [];
  frame.patch.forEach((patch, c) => {
    const row = el("div", { class: "math-row" });
    row.dataset.channel = String(channelOf(c));
    if (rgb) {
      const lab = el("span", { class: "math-ch", text: CH[channelOf(c)] });
      lab.dataset.channel = String(channelOf(c));
      lab.title = t(`pg.channel.${CH[channelOf(c)]}`);
      row.append(lab);
    }
    const kernel = kernels[c];
    const kmax = maxAbs(kernel);
    const products = frame.products[c];
    const pmax = maxAbs(products);
    row.append(
      block(t("pg.math.window"), grid(patch, {
        digits: 1,
        style: (v, r, cc) => {
          if (padded(r, cc)) return { cls: "padded", title: t("pg.math.padded") };
          const g = Math.max(0, Math.min(255, Math.round(v)));
          return { bg: `rgb(${g},${g},${g})`, fg: g > 140 ? "#111" : "#fff" };
        },
      })),
      el("span", { class: "math-op", text: "×" }),
      block(flip ? t("pg.math.kernel_flipped") : t("pg.math.kernel"),
        grid(kernel, { digits: 3, style: (v) => ({ bg: signedTint(v, kmax) }) })),
      el("span", { class: "math-op", text: "=" }),
      block(t("pg.math.products"), grid(products, { digits: 1, style: (v) => ({ bg: signedTint(v, pmax) }) })),
      el("span", { class: "math-op", text: "→" }),
      block(rgb ? t("pg.math.channel_sum") : t("pg.math.sum"),
        el("span", { class: "math-sum", text: `Σ = ${fmt(frame.channel_sums[c], 2)}` })),
    );
    sums.push(frame.channel_sums[c]);
    box.append(row);
  });

  const total = el("div", { class: "math-total" });
  total.setAttribute("data-testid", "math-total");
  const sumText = sums.length > 1
    ? `${sums.map((s) => fmt(s, 2)).join(" + ")} = ${fmt(sums.reduce((a, b) => a + b, 0), 2)}`
    : fmt(sums[0], 2);
  const parts = [
    `${t("pg.math.sum")}: ${sumText}`,
    `${t("pg.math.bias")}: ${frame.bias >= 0 ? "+" : "−"} ${fmt(Math.abs(frame.bias), 3)}`,
    `${t("pg.math.value")}: ${fmt(frame.value, 3)}`,
  ];
  total.textContent = parts.join("   ·   ");
  total.append(el("br"));
  const res = el("b");
  res.setAttribute("data-testid", "math-result");
  res.textContent = activation && activation !== "identity"
    ? `${t("pg.math.after_act", { act: activation })}: ${fmt(frame.output, 3)}`
    : `${t("pg.math.result")}: ${fmt(frame.output, 3)}`;
  total.append(res);
  box.append(total);
  return box;
}

/**
 * Paint the panel. `frames`: the /api/frames answer's frames; `ctx`: {cell, kernelsOf(filter),
 * padded(frame, r, c), flip, activation, rgb, depthwise, pool: null | {mode, cells, detail}}.
 */
export function paintMath(root, frames, ctx) {
  root.replaceChildren();
  fitCells(root, frames);
  const head = el("div", { class: "math-title" });
  head.append(el("h3", { text: t("pg.math.position", { r: ctx.cell[0], c: ctx.cell[1] }) }));
  root.append(head);

  if (!ctx.pool) {
    appendFrames(root, frames, ctx);
    return;
  }
  // Keep colours pools each channel's map on its own: one window, one pick and one detail per
  // channel. Otherwise there is a single filter.
  const filters = ctx.depthwise
    ? [...new Set(frames.map((f) => f.filter))].sort((a, b) => a - b)
    : [frames[0]?.filter ?? 0];
  for (const filter of filters) {
    const channel = ctx.depthwise ? filter : null;
    const pick = poolRow(root, frames.filter((f) => f.filter === filter), ctx.pool, channel);
    root.append(el("h3", { text: (channel !== null ? `${CH[channel]} · ` : "")
      + t("pg.math.detail_for", { r: pick.cell[0], c: pick.cell[1] }) }));
    appendFrames(root, pick.frames, ctx);
  }
}

/** One pooling window (for one channel when `channel` is set); returns the picked position. */
function poolRow(root, frames, { mode, cells, size, origin }, channel) {
  const byPos = new Map(frames.map((f) => [f.position.join(","), f]));
  const values = cells.map((p) => byPos.get(p.join(","))?.output ?? NaN);
  const best = mode === "max"
    ? values.reduce((bi, v, i) => (v > values[bi] ? i : bi), 0)
    : 0;
  const rows = [];
  const [ph, pw] = size;
  // The window may hang over the map's edge (pooling padding): those cells are drawn as padding.
  const r0 = origin ? origin[0] : Math.min(...cells.map((p) => p[0]));
  const c0 = origin ? origin[1] : Math.min(...cells.map((p) => p[1]));
  for (let r = 0; r < ph; r += 1) rows.push(Array(pw).fill(NaN));
  cells.forEach((p, i) => { rows[p[0] - r0][p[1] - c0] = values[i]; });
  const poolBox = el("div", { class: "math-row math-row-pool" });
  if (channel !== null) {
    poolBox.dataset.channel = String(channel);
    const lab = el("span", { class: "math-ch", text: CH[channel] });
    lab.dataset.channel = String(channel);
    lab.title = t(`pg.channel.${CH[channel]}`);
    poolBox.append(lab);
  }
  const result = mode === "max"
    ? Math.max(...values)
    : values.reduce((a, b) => a + b, 0) / (ph * pw);
  poolBox.append(
    block(t("pg.math.pool", { mode: t(`pg.pool.${mode}`) }), grid(rows, {
      digits: 2,
      style: (v, r, c) => {
        if (Number.isNaN(v)) return { cls: "padded", title: t("pg.math.padded"), text: mode === "max" ? "−∞" : "0" };
        return mode === "max" && r + r0 === cells[best][0] && c + c0 === cells[best][1] ? { cls: "win" } : {};
      },
    })),
    el("span", { class: "math-op", text: "→" }),
    el("span", { class: "math-sum", text: `${t("pg.math.pool_pick", { mode: t(`pg.pool.${mode}`), n: mode === "max" ? values.length : ph * pw })} = ${fmt(result, 3)}` }),
  );
  root.append(poolBox);
  const cell = cells[best];
  const picked = byPos.get(cell.join(","));
  return { cell, frames: picked ? [picked] : [] };
}

function appendFrames(root, shown, ctx) {
  for (const frame of shown) {
    root.append(frameDetail(frame, {
      kernels: ctx.kernelsOf(frame.filter),
      padded: (r, c) => ctx.padded(frame, r, c),
      channelOf: (c) => (ctx.depthwise ? frame.filter : c),
      flip: ctx.flip,
      activation: ctx.activation,
      rgb: ctx.rgb,
    }));
  }
}

/**
 * Big kernels on three channels would push the sum off a projector screen: shrink the cells
 * (down to what still holds "0.04") so window × kernel = products stays on one line.
 */
function fitCells(root, frames) {
  root.style.removeProperty("--math-cell");
  root.classList.remove("math-dense");
  const patch = frames[0]?.patch?.[0];
  if (!patch || !root.clientWidth) return;
  const base = parseFloat(getComputedStyle(root).getPropertyValue("--math-cell")) || 30;
  const cols = patch[0].length;
  const room = Math.floor((root.clientWidth - 260) / (3 * cols)) - 1;
  if (room >= base) return;
  root.style.setProperty("--math-cell", `${Math.max(Math.min(base, 28), room)}px`);
  root.classList.add("math-dense");
}

export function paintMathEmpty(root) {
  root.replaceChildren(el("p", { class: "math-empty", text: t("pg.math.empty") }));
}

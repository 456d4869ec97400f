// The multi-channel strip: R * k_R + G * k_G + B * k_B (+ bias) = the filter's map, drawn from
// one /api/conv/render grid with a shared range so the three contributions compare by eye.

import { el } from "../dom.js";
import { t } from "../i18n.js";

/** Tile geometry of a grid picture: the X-Svertka-Grid header, or the server's default layout. */
function geometry(grid, count, bitmap) {
  if (grid && grid.length >= 6) {
    const [n, rows, columns, height, width, gap] = grid;
    return { n, rows, columns, height, width, gap };
  }
  // Fallback: one row of `count` tiles separated by 2-pixel gaps.
  const gap = 2;
  return { n: count, rows: 1, columns: count, height: bitmap.height, width: (bitmap.width - gap * (count - 1)) / count, gap };
}

export function paintStrip(root, bitmap, gridHeader, { width = 168 } = {}) {
  root.replaceChildren();
  const g = geometry(gridHeader, 4, bitmap);
  const labels = ["R", "G", "B"];
  for (let i = 0; i < g.n; i += 1) {
    const r = Math.floor(i / g.columns);
    const c = i % g.columns;
    const canvas = document.createElement("canvas");
    canvas.width = g.width;
    canvas.height = g.height;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${Math.round((width * g.height) / g.width)}px`;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(bitmap, c * (g.width + g.gap), r * (g.height + g.gap), g.width, g.height, 0, 0, g.width, g.height);
    const item = el("figure", { class: "strip-item" });
    item.style.margin = "0";
    const isSum = i === g.n - 1;
    if (!isSum) item.dataset.channel = String(i);
    const name = isSum ? t("pg.strip.sum") : t(`pg.channel.${labels[i]}`);
    // The operator leads the caption, so the tiles read as a sum in a row or in a 2x2 grid.
    const label = el("figcaption", { class: "label", text: i === 0 ? name : `${isSum ? "=" : "+"} ${name}` });
    item.append(canvas, label);
    root.append(item);
  }
}

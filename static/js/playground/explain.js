// A one-sentence explanation of a refused setting, in the user's language, built from the
// error envelope and the local geometry; the server's own (English) message follows it as detail.

import { t } from "../i18n.js";

const AXIS = (i) => (i === 0 ? t("common.height") : t("common.width"));

/**
 * `err`: ApiError (status, code, field, message, suggestion); `geo`: {conv, pool} from
 * geometry.describe, or null. Returns a sentence or "" when there is nothing to add.
 */
export function explainError(err, geo) {
  const field = (err.field || "").split(".");
  if (err.status === 0) return t("common.offline");
  if (err.code === "output_size" && geo) {
    const stage = field[0] === "pool" && geo.pool ? geo.pool : geo.conv;
    const i = stage.findIndex((a) => a.size < 1);
    if (i >= 0) {
      const a = stage[i];
      return t(field[0] === "pool" ? "pg.why.pool_empty" : "pg.why.empty", {
        axis: AXIS(i), window: a.window, k: a.k, d: a.d, padded: a.n + a.before + a.after,
      });
    }
  }
  if (err.code === "padding") return t("pg.why.padding");
  if (err.code === "parameter" || err.code === "validation") {
    const name = {
      stride: t("pg.stride"), dilation: t("pg.dilation"), padding: t("pg.padding"),
      kernel: t("pg.kernel"), bias: t("pg.bias"), pool: t("pg.pooling"), max_side: t("pg.resolution"),
    }[field[0]];
    if (name) return t("pg.why.param", { name });
  }
  if (err.code === "limit") return t("pg.why.limit");
  return "";
}

/** What the settings do, in one plain sentence built from the same geometry as the formulas. */
export function story(state, geo) {
  const [h, w] = geo.conv;
  let text = t("pg.story.window", { kh: h.k, kw: w.k });
  if (h.d > 1 || w.d > 1) text += t("pg.story.dilated", { sh: h.window, sw: w.window, d: h.d === w.d ? h.d : `${h.d}, ${w.d}` });
  const pads = [h.before, h.after, w.before, w.after];
  if (pads.every((p) => p === 0)) text += t("pg.story.pad_none");
  else if (pads.every((p) => p === pads[0])) text += t("pg.story.pad_even", { p: pads[0] });
  else text += t("pg.story.pad", { hp: h.n + h.before + h.after, wp: w.n + w.before + w.after });
  if (h.s === 1 && w.s === 1) text += t("pg.story.stride1");
  else if (h.s === w.s) text += t("pg.story.stride", { s: h.s });
  else text += t("pg.story.stride_axes", { sh: h.s, sw: w.s });
  text += t("pg.story.result", { h: h.n, w: w.n, ho: h.size, wo: w.size });
  if (geo.pool) {
    text += t("pg.story.pool", {
      mode: t(`pg.pool.${state.pool}`), k: geo.pool[0].k, ps: geo.pool[0].s, hq: geo.pool[0].size, wq: geo.pool[1].size,
    });
  }
  return `${text}.`;
}

// A ready-made question from the step page's real frame: "what is the next output value?", with
// the right value and three plausible wrong ones (the current value, an off-by-one, the sign
// flipped). Reads the page's own model through window.svertkaStep; null on other pages.
import { fmt, t } from "../i18n.js";

export function canSuggest() {
  return Boolean(window.svertkaStep?.getModel?.());
}

export function suggestNext() {
  const step = window.svertkaStep;
  const model = step?.getModel?.();
  if (!model || !model.frames?.length) return null;
  const index = Math.min(step.store.get("frame") + 1, model.total - 1);
  const frame = model.frames[index];
  const right = frame.output;
  const current = model.frames[Math.max(0, index - 1)].output;
  const texts = [fmt(right)];
  for (const wrong of [current, right + 1, -right, right - 1, right + 2, right * 2 + 1]) {
    const text = fmt(wrong);
    if (!texts.includes(text) && texts.length < 4) texts.push(text);
  }
  // The right answer's place moves with the frame, so it is not always the first button.
  const at = index % texts.length;
  [texts[0], texts[at]] = [texts[at], texts[0]];
  const pos = frame.position.join(", ") + (model.maps > 1 ? ` · #${frame.map}` : "");
  return { question: t("live.poll.next_question", { pos }), choices: texts, answer: at, frame: index };
}

/** Show the answer on the animation: the teacher's page moves to the asked frame. */
export function showFrame(index) {
  const step = window.svertkaStep;
  if (step && Number.isInteger(index)) step.store.set({ frame: index, playing: false, pin: null });
}

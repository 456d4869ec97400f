// The teacher's side of a live room, on every page: "Start a live room" opens one, the panel shows
// its code (with a QR code and the join link), how many students follow, and the class's answers.
// The page's URL is its state (every page mirrors its view in the query), so the teacher's page
// broadcasts {path, query} whenever history.replaceState/pushState changes it. The room survives
// a reload or a move to another page: its code and token stay in this tab's sessionStorage.
import * as api from "../api.js";
import { el } from "../dom.js";
import { t } from "../i18n.js";
import { drawQR, encodeQR } from "../step/qr.js";
import { RoomSocket } from "./socket.js";
import { canSuggest, showFrame, suggestNext } from "./suggest.js";

const KEY = "svertka.live";
const SEND_EVERY_MS = 100;

let socket = null;
let room = null;
let panel = null;
let poll = null; // {id, question, choices, answer, frame, counts, revealed}
let lastSent = "";
let sendTimer = null;

/** What students follow: this page's path and query, without the viewer's own theme. */
export function currentState() {
  const params = new URLSearchParams(location.search);
  params.delete("theme");
  const query = params.toString();
  return { path: location.pathname, query: query ? `?${query}` : "" };
}

function broadcast() {
  sendTimer = null;
  const state = currentState();
  const text = JSON.stringify(state);
  if (text === lastSent) return;
  if (socket?.send({ type: "state", state })) lastSent = text;
}

function scheduleBroadcast() {
  if (!socket || sendTimer) return;
  sendTimer = setTimeout(broadcast, SEND_EVERY_MS);
}

function watchUrl() {
  for (const name of ["replaceState", "pushState"]) {
    const original = history[name].bind(history);
    history[name] = (...args) => {
      const result = original(...args);
      scheduleBroadcast();
      return result;
    };
  }
  window.addEventListener("popstate", scheduleBroadcast);
}

function saved() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { return null; }
}

function save(value) {
  try {
    if (value) sessionStorage.setItem(KEY, JSON.stringify(value));
    else sessionStorage.removeItem(KEY);
  } catch { /* the room is not kept across reloads: still usable */ }
}

// ---- the panel ----

function joinUrl() {
  return `${location.origin}/room/${room.room}`;
}

function buildPanel() {
  const count = el("span", { class: "live-count", "data-testid": "live-count", text: t("live.following", { n: 0 }) });
  const status = el("span", { class: "live-status", "data-testid": "live-status" });
  const code = el("button", { type: "button", class: "live-code", "data-testid": "live-code", title: t("live.show"), text: room.room });
  const show = el("button", { type: "button", class: "btn btn-small", "data-testid": "live-show", text: t("live.show") });
  const ask = el("button", { type: "button", class: "btn btn-small btn-primary", "data-testid": "live-ask", text: t("live.ask") });
  const end = el("button", { type: "button", class: "btn btn-small btn-ghost", "data-testid": "live-end", text: t("live.end") });
  const results = el("div", { class: "live-results", "data-testid": "live-results", hidden: true });
  const fold = el("button", { type: "button", class: "btn btn-small btn-ghost live-fold", "data-testid": "live-fold" });
  const folded = () => panel.dataset.folded === "true";
  const paintFold = () => {
    fold.textContent = folded() ? "▴" : "▾";
    fold.title = t(folded() ? "live.unfold" : "live.fold");
    fold.setAttribute("aria-label", fold.title);
    fold.setAttribute("aria-expanded", String(!folded()));
  };
  fold.addEventListener("click", () => {
    panel.dataset.folded = String(!folded());
    try { sessionStorage.setItem(`${KEY}.folded`, panel.dataset.folded); } catch { /* ignore */ }
    paintFold();
  });
  const head = el("div", { class: "live-head" },
    [el("span", { class: "live-dot", "aria-hidden": "true" }),
    el("span", { class: "live-label", text: t("live.room") }), code, count, fold]);
  panel = el("aside", { class: "live-panel", "data-testid": "live-panel", "aria-label": t("live.room") },
    [head, status, el("div", { class: "live-actions" }, [show, ask, end]), results]);
  panel.setAttribute("aria-live", "polite");
  try { panel.dataset.folded = sessionStorage.getItem(`${KEY}.folded`) || "false"; } catch { panel.dataset.folded = "false"; }
  paintFold();
  document.body.append(panel);
  code.addEventListener("click", openCode);
  show.addEventListener("click", openCode);
  ask.addEventListener("click", openPoll);
  end.addEventListener("click", () => { if (confirm(t("live.end.confirm"))) stop(); });
}

function setCount(n) {
  panel.querySelector('[data-testid="live-count"]').textContent = t("live.following", { n });
  panel.dataset.count = String(n);
}

function openCode() {
  const url = joinUrl();
  const canvas = el("canvas", { class: "live-qr", "data-testid": "live-qr" });
  try {
    const qr = encodeQR(url, { level: "M", maxVersion: 10 });
    drawQR(canvas, qr, { scale: Math.max(4, Math.floor(320 / (qr.size + 8))) });
  } catch { canvas.hidden = true; }
  const link = el("input", { type: "text", readonly: true, value: url, class: "live-link", "data-testid": "live-link" });
  const copy = el("button", { type: "button", class: "btn", text: t("live.copy") });
  copy.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(url); copy.textContent = t("live.copied"); } catch { link.select(); }
  });
  const dialog = el("dialog", { class: "live-dialog live-code-dialog", "data-testid": "live-code-dialog" },
    [el("p", { class: "live-big-code", "data-testid": "live-big-code", text: room.room }),
    canvas,
    el("p", { class: "caption", text: t("live.join_at") }),
    el("div", { class: "live-link-row" }, [link, copy]),
    closeButton()]);
  showDialog(dialog);
}

function closeButton(text = t("live.close")) {
  const b = el("button", { type: "button", class: "btn", text: text });
  b.addEventListener("click", () => b.closest("dialog").close());
  return b;
}

function showDialog(dialog) {
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  dialog.showModal();
}

function openPoll() {
  const question = el("input", { type: "text", maxlength: 500, "data-testid": "poll-question" });
  const rows = Array.from({ length: 4 }, (_, i) => {
    const text = el("input", { type: "text", maxlength: 200, "data-testid": `poll-choice-text-${i}`, placeholder: t("live.poll.choice", { i: i + 1 }) });
    const right = el("input", { type: "radio", name: "live-right", value: String(i), title: t("live.poll.right") });
    right.setAttribute("aria-label", `${t("live.poll.right")}: ${i + 1}`);
    return { text, right, row: el("div", { class: "live-choice-row" }, [right, text]) };
  });
  let frame = null;
  const fill = (s) => {
    question.value = s.question;
    rows.forEach((r, i) => { r.text.value = s.choices[i] ?? ""; r.right.checked = i === s.answer; });
    frame = s.frame;
  };
  const suggest = el("button", { type: "button", class: "btn btn-small", "data-testid": "poll-suggest", text: t("live.poll.suggest"), title: t("live.poll.suggest.hint") });
  suggest.hidden = !canSuggest();
  suggest.addEventListener("click", () => { const s = suggestNext(); if (s) fill(s); });
  const note = el("p", { class: "caption live-note", hidden: true, text: t("live.poll.need") });
  const send = el("button", { type: "submit", class: "btn btn-primary", "data-testid": "poll-send", text: t("live.poll.send") });
  const form = el("form", { method: "dialog", class: "live-poll-form" },
    [el("h2", { class: "section-title", text: t("live.poll.title") }),
    el("label", { class: "field" }, [el("span", { class: "field-label", text: t("live.poll.question") }), question]),
    el("div", { class: "field" }, [el("span", { class: "field-label", text: t("live.poll.choices") }), ...rows.map((r) => r.row)]),
    el("div", { class: "live-actions" }, [suggest, el("span", { class: "live-spacer" }), closeButton(t("live.poll.cancel")), send]),
    note]);
  const dialog = el("dialog", { class: "live-dialog", "data-testid": "poll-dialog" }, [form]);
  form.addEventListener("submit", (e) => {
    const used = rows.filter((r) => r.text.value.trim());
    if (!question.value.trim() || used.length < 2) {
      e.preventDefault();
      note.hidden = false;
      return;
    }
    const rightRow = used.findIndex((r) => r.right.checked);
    startPoll({ question: question.value.trim(), choices: used.map((r) => r.text.value.trim()),
      answer: rightRow >= 0 ? rightRow : null, frame });
  });
  showDialog(dialog);
  if (canSuggest()) { const s = suggestNext(); if (s) fill(s); }
  question.focus();
}

function startPoll({ question, choices, answer, frame }) {
  poll = { id: `p${Date.now().toString(36)}`, question, choices, answer, frame, counts: choices.map(() => 0), revealed: null };
  save({ ...room, poll });
  socket.send({ type: "poll", poll: poll.id, question, choices });
  renderResults();
}

function renderResults() {
  const box = panel.querySelector('[data-testid="live-results"]');
  box.hidden = !poll;
  if (!poll) return;
  const total = poll.counts.reduce((a, b) => a + b, 0);
  const max = Math.max(1, ...poll.counts);
  const bars = poll.choices.map((choice, i) => {
    const right = poll.revealed !== null && i === poll.revealed;
    const bar = el("div", { class: `live-bar${right ? " live-right" : ""}`, "data-testid": `live-bar-${i}` },
      [el("span", { class: "live-bar-label", text: choice }),
      el("span", { class: "live-bar-track" }, [el("span", { class: "live-bar-fill" })]),
      el("span", { class: "live-bar-count", "data-testid": `live-count-${i}`, text: String(poll.counts[i] ?? 0) })]);
    bar.querySelector(".live-bar-fill").style.width = `${(100 * (poll.counts[i] ?? 0)) / max}%`;
    return bar;
  });
  const reveal = el("button", { type: "button", class: "btn btn-small", "data-testid": "live-reveal", text: t("live.reveal") });
  reveal.hidden = poll.answer === null || poll.revealed !== null;
  reveal.addEventListener("click", () => {
    socket.send({ type: "reveal", poll: poll.id, choice: poll.answer });
  });
  box.replaceChildren(
    el("p", { class: "live-question", text: poll.question }),
    ...bars,
    el("div", { class: "live-actions" },
      [el("span", { class: "caption", "data-testid": "live-total", text: t("live.results", { n: total }) }), reveal]));
}

function onMessage(msg) {
  if (msg.type === "hello") {
    setCount(msg.members ?? 0);
    lastSent = "";
    broadcast(); // a reload or another page: students follow where the teacher is now
  } else if (msg.type === "members") {
    setCount(msg.count);
  } else if (msg.type === "results" && poll && msg.poll === poll.id) {
    poll.counts = msg.counts;
    renderResults();
  } else if (msg.type === "reveal" && poll && msg.poll === poll.id) {
    poll.revealed = msg.choice;
    if (msg.counts) poll.counts = msg.counts;
    save({ ...room, poll });
    renderResults();
    if (poll.frame !== null) showFrame(poll.frame);
  } else if (msg.type === "error") {
    console.info("[live] refused:", msg.message);
  }
}

function onStatus(status) {
  const box = panel.querySelector('[data-testid="live-status"]');
  panel.dataset.status = status;
  box.textContent = status === "reconnecting" ? t("live.reconnecting")
    : (status === "gone" || status === "forbidden") ? t("live.gone") : "";
  if (status === "gone" || status === "forbidden") save(null);
}

function connect(value) {
  room = value;
  poll = value.poll || null;
  buildPanel();
  renderResults();
  socket = new RoomSocket(room.room, { token: room.token });
  socket.addEventListener("message", (e) => onMessage(e.detail));
  socket.addEventListener("status", (e) => onStatus(e.detail));
  socket.connect();
  document.querySelectorAll('[data-testid="live-start"]').forEach((b) => { b.hidden = true; });
}

function stop() {
  socket?.close();
  socket = null;
  panel?.remove();
  panel = null;
  save(null);
  document.querySelectorAll('[data-testid="live-start"]').forEach((b) => { b.hidden = false; });
}

async function start(button) {
  button.disabled = true;
  const label = button.querySelector("[data-i18n]");
  if (label) label.textContent = t("live.starting");
  try {
    const body = await api.createRoom();
    const value = { room: body.room, token: body.teacher_token };
    save(value);
    connect(value);
    openCode();
  } catch (err) {
    alert(t("live.refused", { message: err.message || String(err) }));
  } finally {
    button.disabled = false;
    if (label) label.textContent = t("live.start");
  }
}

/** Wire "Start a live room" and resume this tab's room after a reload. */
export function initTeacher() {
  watchUrl();
  document.querySelectorAll('[data-testid="live-start"]').forEach((b) => {
    b.addEventListener("click", () => start(b));
  });
  const value = saved();
  if (value?.room && value?.token) connect(value);
  document.addEventListener("langchange", () => {
    if (!panel) return;
    const count = Number(panel.dataset.count || 0);
    const status = panel.dataset.status;
    panel.remove();
    buildPanel();
    setCount(count);
    onStatus(status);
    renderResults();
  });
}

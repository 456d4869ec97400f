// A student's page in a live room: the teacher's page shown in a frame that follows every state
// the teacher broadcasts ({path, query}: the page and its view as in its own URL), a way to look
// around alone and come back, and the teacher's questions with answer buttons. The WebSocket
// rejoins by itself after a drop or a reload and lands on the current state (socket.js).
import "../live/strings.js";
import { applyI18n, getLang, t } from "../i18n.js";
import { isProjector } from "../theme.js";
import { RoomSocket } from "../live/socket.js";

const byId = (id) => document.querySelector(`[data-testid="${id}"]`);
const page = byId("room-page");
const code = page.dataset.room;
const frame = byId("room-frame");
const toggle = byId("room-toggle");

// Only our own pages may be shown: a state is data from another browser.
const PAGES = /^\/(step|network|digits)?$/;

let following = true;
let latest = null; // the teacher's latest state
let status = "connecting";
let loading = false;
let shown = null; // the URL the frame was last sent to
let poll = null;

function target(state) {
  if (!state || typeof state.path !== "string" || !PAGES.test(state.path)) return null;
  const query = typeof state.query === "string" && state.query.startsWith("?") ? state.query : "";
  return `${state.path}${query}`;
}

/** Bring the frame to the teacher's view: in place when the page can follow, else by loading. */
function apply() {
  const url = target(latest);
  if (!url || !following) return;
  frame.hidden = false;
  if (loading) return; // applied again once the frame has loaded
  const win = frame.contentWindow;
  let here = null;
  try { here = shown && win.location.pathname; } catch { here = null; }
  if (here === latest.path) {
    if (`${win.location.pathname}${win.location.search}` === url) return;
    if (win.svertkaLive?.follow?.(latest.query || "")) { shown = url; return; }
  }
  loading = true;
  shown = url;
  frame.src = url;
}

frame.addEventListener("load", () => {
  loading = false;
  syncView();
  if (target(latest) !== shown) apply();
  page.dataset.shown = shown || "";
});

function syncView() {
  try {
    frame.contentWindow?.svertkaLive?.setView?.({ lang: getLang(), projector: isProjector() });
  } catch { /* not loaded yet */ }
}

function renderStatus() {
  const box = byId("room-status");
  page.dataset.status = status;
  page.dataset.following = String(following);
  const texts = {
    connecting: t("room.connecting", { code }),
    reconnecting: t("room.reconnecting"),
    gone: t("room.gone", { code }),
    forbidden: t("room.gone", { code }),
    full: t("room.full"),
  };
  if (texts[status]) box.textContent = texts[status];
  else if (!latest) box.textContent = t("room.waiting");
  else box.textContent = following ? t("room.following") : t("room.alone");
  toggle.hidden = !latest || status !== "open";
  toggle.textContent = following ? t("room.alone.go") : t("room.follow.go");
  toggle.setAttribute("aria-pressed", String(!following));
}

function renderPoll() {
  const box = byId("room-poll");
  box.hidden = !poll;
  if (!poll) return;
  byId("room-question").textContent = poll.question;
  const buttons = poll.choices.map((choice, i) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn room-choice";
    b.setAttribute("data-testid", `room-choice-${i}`);
    b.setAttribute("aria-pressed", String(poll.mine === i));
    const label = document.createElement("span");
    label.textContent = choice;
    b.append(label);
    if (poll.revealed !== null) {
      b.classList.toggle("room-right", i === poll.revealed);
      const tag = document.createElement("span");
      tag.className = "room-choice-tag";
      const parts = [];
      if (poll.counts) parts.push(String(poll.counts[i] ?? 0));
      if (i === poll.revealed) parts.push(`✓ ${t("room.poll.right")}`);
      else if (i === poll.mine) parts.push(t("room.poll.yours"));
      tag.textContent = parts.join(" · ");
      b.append(tag);
    }
    b.addEventListener("click", () => {
      if (socket.send({ type: "answer", poll: poll.poll, choice: i })) {
        poll.mine = i;
        renderPoll();
      }
    });
    return b;
  });
  byId("room-choices").replaceChildren(...buttons);
  byId("room-poll-note").textContent = poll.mine !== null && poll.revealed === null
    ? t("room.poll.answered") : "";
}

function onMessage(msg) {
  if (msg.type === "state") {
    latest = msg.state;
    page.dataset.seq = String(msg.seq);
    apply();
  } else if (msg.type === "poll") {
    poll = { ...msg, mine: msg.mine ?? null, revealed: null, counts: null };
    renderPoll();
  } else if (msg.type === "reveal" && poll && msg.poll === poll.poll) {
    poll.revealed = msg.choice;
    poll.counts = msg.counts || null;
    renderPoll();
  } else if (msg.type === "hello") {
    page.dataset.member = msg.member || "";
  }
  renderStatus();
}

toggle.addEventListener("click", () => {
  following = !following;
  renderStatus();
  if (following) apply();
});

const socket = new RoomSocket(code, { memberKey: `svertka.member.${code}` });
socket.addEventListener("message", (e) => onMessage(e.detail));
socket.addEventListener("status", (e) => { status = e.detail; renderStatus(); });
document.addEventListener("langchange", () => { syncView(); renderStatus(); renderPoll(); });
document.addEventListener("themechange", syncView);
applyI18n();
document.title = t("room.title", { code });
renderStatus();
socket.connect();
window.svertkaRoom = { socket, state: () => latest };

// One room WebSocket that reconnects by itself: after a drop, a reload or a laptop's sleep it
// rejoins at once (and then with a growing pause), offering the member token it was given so the
// server keeps its identity and its answers. Messages arrive as "message" events.

const FINAL = { 4404: "gone", 4403: "forbidden", 4429: "full" };

export class RoomSocket extends EventTarget {
  constructor(room, { token = null, memberKey = null } = {}) {
    super();
    this.room = room;
    this.token = token;
    this.memberKey = memberKey; // localStorage key of the member token
    this.ws = null;
    this.delay = 0;
    this.closed = false;
    this.timer = null;
    this.status = "connecting";
    this.wake = () => { if (!this.ws && !this.closed) this.connect(); };
    window.addEventListener("online", this.wake);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) this.wake(); });
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const q = new URLSearchParams();
    if (this.token) q.set("token", this.token);
    const member = this.memberKey && read(this.memberKey);
    if (member) q.set("member", member);
    const qs = q.toString();
    return `${proto}//${location.host}/api/rooms/${encodeURIComponent(this.room)}/ws${qs ? `?${qs}` : ""}`;
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = null;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener("message", (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      if (msg.type === "hello") {
        this.delay = 0;
        if (msg.member && this.memberKey) write(this.memberKey, msg.member);
        this.setStatus("open");
      }
      this.dispatchEvent(new CustomEvent("message", { detail: msg }));
    });
    ws.addEventListener("close", (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closed) return;
      const final = FINAL[e.code];
      if (final) {
        this.closed = true;
        this.setStatus(final);
        return;
      }
      this.setStatus("reconnecting");
      this.delay = Math.min(5000, this.delay ? this.delay * 2 : 250);
      this.timer = setTimeout(() => this.connect(), this.delay);
    });
  }

  setStatus(status) {
    this.status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: status }));
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    window.removeEventListener("online", this.wake);
    this.ws?.close();
    this.ws = null;
  }
}

function read(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

function write(key, value) {
  try { localStorage.setItem(key, value); } catch { /* a new identity next time: fine */ }
}

// One state object per page that fires named events.
//
//   const store = createStore({ stride: 1, padding: "valid" });
//   store.on("change:stride", ({ value, previous }) => ...);   // one key
//   store.on("change", ({ keys, state }) => ...);             // any batch of keys
//   store.set({ stride: 2 });                                  // fires both, once per batch
//   store.emit("hover", { row, col });                         // free-form named events
//
// Only plain values go in: derived values (output shape, formulas) are recomputed from them,
// never stored, so they can never disagree with the inputs.
import { pending } from "./pending.js";

function same(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

export class Store {
  constructor(initial = {}) {
    this._state = { ...initial };
    this._handlers = new Map();
  }

  /** The current value of `key`, or a shallow copy of the whole state. */
  get(key) {
    return key === undefined ? { ...this._state } : this._state[key];
  }

  /** Merge `patch`; fire "change:<key>" per changed key, then one "change". Returns changed keys. */
  set(patch, meta = {}) {
    const keys = [];
    const previous = {};
    for (const [k, v] of Object.entries(patch)) {
      if (same(this._state[k], v)) continue;
      previous[k] = this._state[k];
      this._state[k] = v;
      keys.push(k);
    }
    for (const k of keys) {
      this.emit(`change:${k}`, { key: k, value: this._state[k], previous: previous[k], meta });
    }
    if (keys.length) this.emit("change", { keys, state: this.get(), previous, meta });
    return keys;
  }

  /** Subscribe to a named event; returns the function that unsubscribes. */
  on(name, fn) {
    if (!this._handlers.has(name)) this._handlers.set(name, new Set());
    this._handlers.get(name).add(fn);
    return () => this._handlers.get(name)?.delete(fn);
  }

  emit(name, detail = {}) {
    for (const fn of [...(this._handlers.get(name) || [])]) {
      try {
        fn(detail);
      } catch (err) {
        // One broken view must not freeze the others.
        console.error(`[state] handler for "${name}" failed`, err);
      }
    }
  }
}

export function createStore(initial) {
  return new Store(initial);
}

/** Call `fn` once calls stop arriving for `ms` milliseconds. `.flush()` runs it now. */
export function debounce(fn, ms) {
  let timer = null;
  let lastArgs = [];
  // pending(-1) after fn: work fn starts synchronously (a request) is counted before the armed
  // call stops being counted, so the page never looks settled in between
  const fire = () => { timer = null; try { fn(...lastArgs); } finally { pending(-1); } };
  const wrapped = (...args) => {
    lastArgs = args;
    if (timer === null) pending(1);
    clearTimeout(timer);
    timer = setTimeout(fire, ms);
  };
  wrapped.flush = () => {
    if (timer !== null) { clearTimeout(timer); fire(); }
  };
  wrapped.cancel = () => { if (timer !== null) pending(-1); clearTimeout(timer); timer = null; };
  return wrapped;
}

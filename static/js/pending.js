// Work the page still owes: debounced calls armed and requests whose answer is not read yet.
// `<html data-pending="N">` lets the browser tests wait for a settled page instead of sleeping.

let count = 0;

export function pending(delta) {
  count = Math.max(0, count + delta);
  document.documentElement.dataset.pending = String(count);
}

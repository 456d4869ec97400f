// The projector theme: a second set of CSS custom properties under [data-theme="projector"].
// The choice is remembered; ?theme=projector in a link turns it on for that visit.

const STORAGE_KEY = "svertka.theme";

export function isProjector() {
  return document.documentElement.getAttribute("data-theme") === "projector";
}

export function setProjector(on) {
  const root = document.documentElement;
  if (on) root.setAttribute("data-theme", "projector");
  else root.removeAttribute("data-theme");
  try { localStorage.setItem(STORAGE_KEY, on ? "projector" : "default"); } catch { /* ignore */ }
  document.querySelectorAll('[data-testid="projector-toggle"]').forEach((b) => {
    b.setAttribute("aria-pressed", String(on));
  });
  // Views that size canvases from the layout re-measure on this event.
  document.dispatchEvent(new CustomEvent("themechange", { detail: { projector: on } }));
}

/** Wire the header toggle; called once by base.html. */
export function initTheme() {
  document.querySelectorAll('[data-testid="projector-toggle"]').forEach((b) => {
    b.setAttribute("aria-pressed", String(isProjector()));
    b.addEventListener("click", () => setProjector(!isProjector()));
  });
}

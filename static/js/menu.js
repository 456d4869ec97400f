// The header's menu button. On narrow screens (phones, a tablet held upright) the stylesheet folds
// the page links and the header tools behind it; this module only opens and closes the fold.
// Escape, a tap outside the header, following a link or starting a live room close it.

export function initMenu() {
  const header = document.querySelector(".site-header");
  const button = header?.querySelector('[data-testid="menu-toggle"]');
  if (!button) return;

  function setOpen(open, { focusButton = false } = {}) {
    header.toggleAttribute("data-menu-open", open);
    button.setAttribute("aria-expanded", String(open));
    if (!open && focusButton) button.focus();
  }
  const isOpen = () => header.hasAttribute("data-menu-open");

  button.addEventListener("click", () => setOpen(!isOpen()));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && isOpen()) setOpen(false, { focusButton: header.contains(document.activeElement) });
  });
  document.addEventListener("click", (e) => {
    if (isOpen() && !header.contains(e.target)) setOpen(false);
  });
  header.querySelectorAll(".site-nav a, [data-testid='live-start']").forEach((el) => {
    el.addEventListener("click", () => setOpen(false));
  });
}

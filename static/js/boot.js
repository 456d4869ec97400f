// Applied before first paint so the projector theme and language never flash. A classic script
// (not a module) on purpose: it must run while the page is still being parsed.
(function () {
  var root = document.documentElement;
  try {
    var params = new URLSearchParams(location.search);
    var theme = params.get("theme") || localStorage.getItem("svertka.theme");
    if (theme === "projector") root.setAttribute("data-theme", "projector");
    var lang = localStorage.getItem("svertka.lang");
    if (lang === "ru" || lang === "en") root.lang = lang;
  } catch (e) { /* storage may be blocked; defaults are fine */ }
  try {
    // Inside a student's /room frame the page shows only its content (live/main.js).
    if (window.parent !== window && window.parent.document.body.classList.contains("page-room")) {
      root.setAttribute("data-embedded", "");
    }
  } catch (e) { /* a frame of another site: not ours to follow */ }
})();

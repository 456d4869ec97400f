// What every page starts with: the English/Russian switch and the projector theme.
import { initI18n } from "/static/js/i18n.js";
import { initTheme } from "/static/js/theme.js";

initI18n();
initTheme();

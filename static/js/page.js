// What every page starts with: the English/Russian switch, the projector theme, live rooms.
import { initI18n } from "/static/js/i18n.js";
import { initTheme } from "/static/js/theme.js";
import { initLive } from "/static/js/live/main.js";

initI18n();
initTheme();
initLive();

// What every page starts with: the English/Russian switch, the projector theme, live rooms,
// the header's menu on narrow screens.
import { initI18n } from "/static/js/i18n.js";
import { initTheme } from "/static/js/theme.js";
import { initLive } from "/static/js/live/main.js";
import { initMenu } from "/static/js/menu.js";

initI18n();
initTheme();
initLive();
initMenu();

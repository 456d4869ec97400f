// Live rooms on every page (imported once by base.html). A page shown inside a student's /room
// frame follows the teacher (see follow.js and room/main.js); any other page offers the teacher's
// "Start a live room" control.
import "./strings.js";
import { applyI18n, getLang, setLang } from "../i18n.js";
import { isProjector, setProjector } from "../theme.js";
import "./follow.js";
import { initTeacher } from "./teacher.js";

export function embedded() {
  return document.documentElement.hasAttribute("data-embedded");
}

export function initLive() {
  applyI18n(); // the live strings arrived after base.html labelled the page
  if (embedded()) {
    // The room page keeps its frame in the student's language and theme.
    window.svertkaLive.setView = ({ lang, projector }) => {
      if (lang && lang !== getLang()) setLang(lang);
      if (projector !== undefined && projector !== isProjector()) setProjector(projector);
    };
    return;
  }
  if (document.body.classList.contains("page-room")) return;
  initTeacher();
}

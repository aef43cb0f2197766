// @ts-check
// The admin single-page app: hash routes, a page module per screen, unsaved-changes guard.
import { api, auth } from "./api.js";
import { h, toast } from "./dom.js";
import { LANGUAGES, lang, setLang, t } from "./i18n.js";
import * as dashboard from "./pages/dashboard.js";
import * as events from "./pages/events.js";
import * as galleryPage from "./pages/gallery.js";
import * as jobs from "./pages/jobs.js";
import * as login from "./pages/login.js";
import * as settings from "./pages/settings.js";
import * as slot from "./pages/slot.js";
import * as stats from "./pages/stats.js";

/** @type {[RegExp, (main: HTMLElement, ...parts: string[]) => any][]} */
const ROUTES = [
  [/^#\/login$/, login.render],
  [/^#\/dashboard$/, dashboard.render],
  [/^#\/events$/, events.renderList],
  [/^#\/events\/(\w+)$/, events.renderDetail],
  [/^#\/slots\/([\w-]+)$/, slot.render],
  [/^#\/jobs(?:\?.*)?$/, jobs.renderList], // filters in the query: #/jobs?status=failed
  [/^#\/jobs\/(\w+)$/, jobs.renderDetail],
  [/^#\/settings$/, settings.render],
  [/^#\/stats$/, stats.render],
  [/^#\/gallery$/, galleryPage.render],
];
const NAV = [
  ["dashboard", "#/dashboard"],
  ["events", "#/events"],
  ["jobs", "#/jobs"],
  ["settings", "#/settings"],
  ["stats", "#/stats"],
  ["gallery", "#/gallery"],
];
let current = { dirty: () => false, leave: () => {} };
let shownHash = null;

function renderNav() {
  const nav = document.getElementById("nav");
  nav.replaceChildren();
  if (!auth.token) return;
  for (const [key, href] of NAV) {
    nav.append(h("a", { href, "aria-current": location.hash.startsWith(href) ? "page" : null }, t(key)));
  }
  nav.append(
    h(
      "button",
      {
        type: "button",
        onclick: async () => {
          try {
            await api("/api/logout", { method: "POST" });
          } catch {
            /* already gone */
          }
          auth.token = null;
          location.hash = "#/login";
        },
      },
      t("logout"),
    ),
  );
}

async function route() {
  if (shownHash !== null && location.hash !== shownHash && current.dirty() && !confirm(t("unsaved"))) {
    history.replaceState(null, "", shownHash);
    return;
  }
  if (!auth.token && location.hash !== "#/login") {
    location.hash = "#/login";
    return;
  }
  if (!location.hash || location.hash === "#/") {
    location.hash = "#/dashboard";
    return;
  }
  current.leave();
  shownHash = location.hash;
  document.querySelector(".skip").textContent = t("skip");
  renderNav();
  // each page draws into its own box: a page still loading when the user moves on draws into a
  // box that is no longer shown, never below the next page
  const main = document.getElementById("main");
  const view = h("div", { class: "view" });
  main.replaceChildren(view);
  for (const [pattern, render] of ROUTES) {
    const match = location.hash.match(pattern);
    if (match) {
      const shown = { dirty: () => false, leave: () => {}, ...((await render(view, ...match.slice(1))) || {}) };
      if (!view.isConnected) {
        shown.leave(); // the user moved on while it loaded
        return;
      }
      current = shown;
      document.title = `${main.querySelector("h1")?.textContent || ""} · PhotoChanger`;
      return;
    }
  }
  location.hash = "#/dashboard";
}

const select = /** @type {HTMLSelectElement} */ (document.getElementById("lang"));
for (const [code, label] of Object.entries(LANGUAGES))
  select.append(h("option", { value: code, selected: code === lang }, label));
document.getElementById("lang-label").textContent = t("language");
select.addEventListener("change", () => {
  setLang(select.value);
  document.getElementById("lang-label").textContent = t("language");
  shownHash = null;
  route();
});
window.addEventListener("hashchange", route);
window.addEventListener("unhandledrejection", (event) => {
  // no click ends in silence: say what went wrong
  event.preventDefault();
  toast(event.reason?.message || t("error"), "error");
});
document.querySelector(".skip").addEventListener("click", (event) => {
  // the hash is the router's: focus, do not navigate
  event.preventDefault();
  document.getElementById("main").focus();
});
window.addEventListener("beforeunload", (event) => {
  if (current.dirty()) {
    event.preventDefault();
    event.returnValue = "";
  }
});
route();

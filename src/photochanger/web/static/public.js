// @ts-check
// Guest pages: the shared gallery (refreshes every 30 s) and a single result with download and QR
// (which, while its AI photo is still being made after the booth's deadline, shows it once it exists).
import { h } from "./dom.js";
import { t } from "./i18n.js";

const REFRESH_MS = 30000;
const SLIDE_MS = 7000; // each photo on the venue's screen
const SHOW_REFRESH_MS = 8000; // new photos appear within this (the gallery allows 30 requests a minute)
const PIN = "photochanger.gallery-pin";

/**
 * The event's look on a guests' page: its colour as the accent, its logo beside the title.
 * @param {{colour?: string | null, logo_url?: string | null}} look
 */
function paint(look) {
  if (look.colour) document.documentElement.style.setProperty("--accent", look.colour);
  const title = document.getElementById("title");
  let logo = /** @type {HTMLImageElement | null} */ (document.getElementById("event-logo"));
  if (!look.logo_url) {
    logo?.remove();
    return;
  }
  if (!logo) {
    logo = /** @type {HTMLImageElement} */ (h("img", { id: "event-logo", class: "event-logo", alt: "" }));
    title.prepend(logo);
  }
  if (logo.getAttribute("src") !== look.logo_url) logo.src = look.logo_url;
}

/** The page's heading text (the logo, once shown, stays in front of it). */
function setTitle(text) {
  const title = document.getElementById("title");
  const logo = document.getElementById("event-logo");
  title.replaceChildren(...(logo ? [logo] : []), text);
}

/** The full-screen slideshow: newest first; a photo that arrives is shown next, then the
 * show goes on from the newest. Only what the gallery lists (hidden/approval respected). */
function slideshow() {
  const state = document.getElementById("state");
  const slide = /** @type {HTMLImageElement} */ (document.getElementById("slide"));
  /** @type {string[]} */
  let items = [];
  let index = 0;
  const seen = new Set();
  async function refresh() {
    try {
      const pin = sessionStorage.getItem(PIN) || "";
      const response = await fetch("/api/public/gallery", { headers: pin ? { "X-Gallery-Pin": pin } : {} });
      if (response.status === 401) {
        state.replaceChildren(pinForm(Boolean(pin), refresh));
        return; // the form calls refresh again
      }
      if (!response.ok) {
        state.textContent = response.status === 403 ? t("gallery_closed") : `${t("error")} ${response.status}`;
        items = [];
      } else {
        const body = await response.json();
        setTitle(body.title || t("guest_gallery"));
        paint(body);
        items = body.items.map((item) => item.result_url);
        const fresh = items.filter((url) => !seen.has(url));
        if (seen.size && fresh.length) index = 0; // a new photo: show the newest now
        for (const url of items) seen.add(url);
        state.textContent = items.length ? "" : t("show_waiting");
      }
    } catch {
      /* offline for a moment: keep showing what we have */
    }
    setTimeout(refresh, SHOW_REFRESH_MS);
  }
  function advance() {
    if (items.length) {
      const url = items[index % items.length];
      index = (index + 1) % items.length;
      const next = new Image();
      next.onload = () => {
        slide.src = url;
        slide.alt = t("your_photo");
      };
      next.src = url;
    } else {
      slide.removeAttribute("src");
    }
    setTimeout(advance, SLIDE_MS);
  }
  refresh().then(advance);
}

async function gallery() {
  document.getElementById("title").textContent = t("guest_gallery");
  const state = document.getElementById("state");
  const photos = document.getElementById("photos");
  const pin = sessionStorage.getItem(PIN) || "";
  const response = await fetch("/api/public/gallery", { headers: pin ? { "X-Gallery-Pin": pin } : {} });
  if (response.status === 401) {
    // shared with a PIN: ask for it (a wrong one asks again)
    photos.replaceChildren();
    state.replaceChildren(pinForm(Boolean(pin), gallery));
    return;
  }
  if (!response.ok) {
    state.textContent = response.status === 403 ? t("gallery_closed") : `${t("error")} ${response.status}`;
    photos.replaceChildren();
  } else {
    const body = await response.json();
    setTitle(body.title || t("guest_gallery"));
    paint(body);
    state.textContent = "";
    photos.replaceChildren(
      ...body.items.map((item) => {
        const id = item.result_url.split("/").pop();
        return h(
          "a",
          { href: `/r/${id}` },
          h("img", {
            src: item.thumbnail_url,
            alt: `${t("your_photo")} ${new Date(item.taken_at).toLocaleTimeString()}`,
            loading: "lazy",
          }),
        );
      }),
    );
  }
  setTimeout(gallery, REFRESH_MS);
}

/**
 * The PIN form of a gallery shared with a PIN; ``then`` runs once it is entered.
 * @param {boolean} wrong
 * @param {() => any} then
 */
function pinForm(wrong, then) {
  const input = h("input", {
    id: "gallery-pin",
    inputmode: "numeric",
    maxlength: 8,
    autocomplete: "off",
    "aria-label": t("pin_prompt"),
  });
  return h(
    "form",
    {
      class: "row",
      onsubmit: (event) => {
        event.preventDefault();
        sessionStorage.setItem(PIN, input.value.trim());
        then();
      },
    },
    h("label", { for: "gallery-pin" }, wrong ? t("pin_wrong") : t("pin_prompt")),
    input,
    h("button", { class: "primary", type: "submit" }, t("open")),
  );
}

async function result() {
  const id = location.pathname.split("/").pop();
  document.getElementById("title").textContent = t("your_photo");
  const content = document.getElementById("content");
  const image = `/public/results/${id}`;
  const response = await fetch(`${image}/status`, { cache: "no-store" });
  if (!response.ok) {
    const message = { 404: "photo_unavailable", 410: "photo_expired" }[response.status];
    content.replaceChildren(
      h("p", { id: "unavailable", class: "muted" }, message ? t(message) : `${t("error")} ${response.status}`),
    );
    return;
  }
  /** @type {{state: string, late: boolean, version: string | null, poll_seconds: number | null, title?: string, colour?: string}} */
  const status = await response.json();
  if (status.title) setTitle(status.title);
  paint(status);
  if (status.state === "unavailable") {
    content.replaceChildren(h("p", { id: "unavailable", class: "muted" }, t("photo_unavailable")));
    return;
  }
  const making = status.state === "making";
  const src = status.version ? `${image}?v=${encodeURIComponent(status.version)}` : null;
  const shown = content.dataset.version;
  if (shown === undefined || shown !== (status.version || "") || content.dataset.state !== status.state) {
    content.dataset.version = status.version || "";
    content.dataset.state = status.state;
    content.replaceChildren(
      ...(making
        ? [
            h(
              "p",
              { id: "making", class: "notice" },
              h("span", { class: "spinner", "aria-hidden": "true" }),
              t("ai_photo_making"),
            ),
          ]
        : []),
      ...(src ? [h("img", { class: "photo", id: "photo", src, alt: t("your_photo") })] : []),
      ...(src && !making
        ? [h("p", {}, h("a", { class: "button primary", href: `${image}?download=1`, id: "download" }, t("download")))]
        : []),
      h(
        "figure",
        {},
        h("img", { class: "qr", src: `${image}/qr.svg`, alt: `QR: ${location.href}` }),
        h("figcaption", {}, t("scan")),
      ),
    );
  }
  // the AI photo is still being made: ask again, and show it the moment it exists
  if (making) setTimeout(result, (status.poll_seconds || 3) * 1000);
}

if (location.pathname.startsWith("/r/")) result();
else if (location.pathname === "/gallery/show") slideshow();
else gallery();

// @ts-check
// Events: tonight's client. The list (state, slots, photos) with a form for a new event; one
// event's page with its figures, Start / End, the gallery and slideshow for it, the export
// (a ZIP of its photos with photos.csv) and its settings (slots, times, look, spend cap, webhook).
import { api } from "../api.js";
import { copy, field, h, toast, when } from "../dom.js";
import { duration, slotName, t } from "../i18n.js";

const SLOTS = Array.from({ length: 15 }, (_, i) => `slot-${String(i + 1).padStart(3, "0")}`);

/** An ISO time as the value of a ``datetime-local`` input (the browser's time zone). */
function localInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

/** The value of a ``datetime-local`` input as ISO with offset (null when empty). */
function fromInput(value) {
  return value ? new Date(value).toISOString() : null;
}

/** The event's form; ``onSave`` gets the body to send. */
function eventForm(event, names, onSave) {
  const name = h("input", { id: "event-name", maxlength: 120, required: true, value: event?.name || "" });
  const client = h("input", { id: "event-client", maxlength: 120, value: event?.client || "" });
  const title = h("input", { id: "event-title", maxlength: 120, value: event?.title || "" });
  const colour = h("input", { id: "event-colour", type: "color", value: event?.colour || "#0a58ca" });
  const starts = h("input", { id: "event-starts", type: "datetime-local", value: localInput(event?.starts_at) });
  const ends = h("input", { id: "event-ends", type: "datetime-local", value: localInput(event?.ends_at) });
  const cap = h("input", {
    id: "event-cap",
    type: "number",
    min: 0,
    step: "0.01",
    value: event?.spend_cap_usd ?? "",
  });
  const webhook = h("input", { id: "event-webhook", type: "url", value: event?.webhook_url || "" });
  const slots = h(
    "fieldset",
    { class: "slot-picker", id: "event-slots" },
    h("legend", {}, t("event_slots")),
    SLOTS.map((id) =>
      h(
        "label",
        { class: "check" },
        h("input", { type: "checkbox", value: id, class: "event-slot", checked: event?.slot_ids?.includes(id) }),
        ` ${slotName(names[id] || id)}`,
      ),
    ),
  );
  const form = h(
    "form",
    {
      class: "card",
      id: "event-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const chosen = [...slots.querySelectorAll("input:checked")].map(
          (box) => /** @type {HTMLInputElement} */ (box).value,
        );
        await onSave({
          name: name.value.trim(),
          client: client.value.trim() || null,
          slot_ids: chosen,
          starts_at: fromInput(starts.value),
          ends_at: fromInput(ends.value),
          title: title.value.trim() || null,
          colour: colour.value,
          spend_cap_usd: cap.value === "" ? null : Number(cap.value),
          webhook_url: webhook.value.trim() || null,
        });
      },
    },
    h("h2", {}, event ? t("event_settings") : t("event_new")),
    field(t("name"), name),
    field(t("event_client"), client),
    slots,
    field(t("event_starts"), starts, t("event_starts_hint")),
    field(t("event_ends"), ends, t("event_ends_hint")),
    field(t("event_title"), title, t("event_title_hint")),
    field(t("event_colour"), colour),
    field(t("event_cap"), cap, t("event_cap_hint")),
    field(t("event_webhook"), webhook, t("event_webhook_hint")),
    h("button", { class: "primary", type: "submit", id: "event-save" }, event ? t("save") : t("event_create")),
  );
  return form;
}

async function slotNames() {
  const slots = await api("/api/slots");
  return Object.fromEntries(slots.map((s) => [s.id, s.display_name]));
}

/** The event's logo: a preview, a file to upload at once (JPEG, PNG or WebP, ≤ 1 MB), Remove. */
function logoSection(event) {
  const preview = h("div", { id: "event-logo-preview", class: "row" });
  const draw = (/** @type {any} */ current) => {
    preview.replaceChildren(
      ...(current.logo_url
        ? [
            h("img", { src: current.logo_url, alt: t("event_logo"), class: "event-logo" }),
            h(
              "button",
              {
                type: "button",
                id: "event-logo-remove",
                onclick: async () => draw(await api(`/api/events/${event.id}/logo`, { method: "DELETE" })),
              },
              t("remove"),
            ),
          ]
        : [h("span", { class: "muted" }, t("event_logo_none"))]),
    );
  };
  const input = /** @type {HTMLInputElement} */ (
    h("input", {
      id: "event-logo-file",
      type: "file",
      accept: "image/jpeg,image/png,image/webp",
      onchange: async () => {
        const file = input.files?.[0];
        if (!file) return;
        const form = new FormData();
        form.append("file", file);
        draw(await api(`/api/events/${event.id}/logo`, { method: "PUT", form }));
        input.value = "";
        toast(t("saved"), "ok");
      },
    })
  );
  draw(event);
  return h(
    "section",
    { class: "card", id: "event-logo" },
    h("h2", {}, t("event_logo")),
    preview,
    field(t("event_logo_upload"), input, t("event_logo_hint")),
  );
}

/** The list of events and the form for a new one. */
export async function renderList(main) {
  const [events, names] = await Promise.all([api("/api/events"), slotNames()]);
  const columns = () => [
    t("name"),
    t("event_client"),
    t("status"),
    t("event_slots"),
    t("event_photos"),
    t("event_starts"),
  ];
  main.append(
    h("h1", {}, t("events")),
    events.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "cards-on-phone", id: "events-table" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                columns().map((c) => h("th", { scope: "col" }, c)),
              ),
            ),
            h(
              "tbody",
              {},
              events.map((e) =>
                h(
                  "tr",
                  { dataset: { event: e.id } },
                  h("td", { "data-label": columns()[0] }, h("a", { href: `#/events/${e.id}` }, e.name)),
                  h("td", { "data-label": columns()[1] }, e.client || "—"),
                  h(
                    "td",
                    { "data-label": columns()[2] },
                    h("span", { class: `badge ${e.state}` }, t(`event_${e.state}`)),
                  ),
                  h("td", { "data-label": columns()[3] }, e.slot_ids.map((id) => slotName(names[id] || id)).join(", ")),
                  h("td", { "data-label": columns()[4] }, String(e.photos)),
                  h("td", { "data-label": columns()[5] }, when(e.starts_at)),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "muted", id: "no-events" }, t("event_none")),
    eventForm(null, names, async (body) => {
      const made = await api("/api/events", { method: "POST", json: body });
      toast(t("saved"), "ok");
      location.hash = `#/events/${made.id}`;
    }),
  );
}

/** One event: its figures, Start / End, gallery and slideshow, export, settings. */
export async function renderDetail(main, eventId) {
  const [event, names] = await Promise.all([api(`/api/events/${eventId}`), slotNames()]);
  const figures = h("section", { class: "card", id: "event-figures", "aria-live": "polite" });
  const drawFigures = async () => {
    const s = await api(`/api/events/${eventId}/summary`);
    const spend =
      s.cap_usd === null
        ? t("event_spend_uncapped", { spent: (s.spent_usd + s.reserved_usd).toFixed(2) })
        : t("event_spend_of_cap", { spent: (s.spent_usd + s.reserved_usd).toFixed(2), cap: s.cap_usd.toFixed(2) });
    figures.replaceChildren(
      h("h2", {}, t("event_figures")),
      h(
        "dl",
        { class: "pairs figures" },
        h("dt", {}, t("event_photos")),
        h("dd", { id: "event-photo-count" }, String(s.photos)),
        h("dt", {}, t("success_rate")),
        h("dd", {}, s.success_rate === null ? "—" : `${Math.round(s.success_rate * 100)} %`),
        h("dt", {}, "p95"),
        h("dd", {}, duration(s.p95_total_ms)),
        h("dt", {}, t("event_spend")),
        h("dd", { class: s.spend_state === "exhausted" ? "bad" : "" }, spend),
      ),
    );
  };
  const actions = h("section", { class: "card row", id: "event-actions" });
  const shareOutcome = h("p", { role: "status", id: "event-share-state" });
  const sharePin = /** @type {HTMLInputElement} */ (
    h("input", {
      id: "event-share-pin",
      inputmode: "numeric",
      pattern: "[0-9]{4,8}",
      maxlength: 8,
      autocomplete: "off",
    })
  );
  const shareApproval = /** @type {HTMLInputElement} */ (h("input", { id: "event-share-approval", type: "checkbox" }));
  const shareOptions = h(
    "div",
    { class: "row", id: "event-share-options" },
    field(t("event_share_pin"), sharePin),
    h("label", { class: "check" }, shareApproval, ` ${t("event_share_approval")}`),
  );
  const exportLink = async (originals) => {
    const link = await api(`/api/events/${eventId}/export-link?originals=${originals}`, { method: "POST" });
    location.href = link.url; // the browser downloads the stream; the link's ticket lasts 2 minutes
  };
  const change = async (what) => {
    await api(`/api/events/${eventId}/${what}`, { method: "POST" });
    toast(t("saved"), "ok");
    main.replaceChildren();
    await renderDetail(main, eventId);
  };
  actions.append(
    event.state === "live"
      ? h("button", { type: "button", class: "danger", id: "event-end", onclick: () => change("end") }, t("event_end"))
      : h(
          "button",
          { type: "button", class: "primary", id: "event-start", onclick: () => change("start") },
          t("event_start"),
        ),
    h("button", { type: "button", id: "event-export", onclick: () => exportLink(false) }, t("event_export")),
    h(
      "button",
      { type: "button", id: "event-export-originals", onclick: () => exportLink(true) },
      t("event_export_originals"),
    ),
    h("a", { href: `#/jobs?event_id=${eventId}`, class: "button" }, t("jobs")),
    event.state !== "live"
      ? h(
          "button",
          {
            type: "button",
            class: "danger",
            id: "event-delete",
            onclick: async () => {
              if (!confirm(t("event_confirm_delete", { name: event.name }))) return;
              await api(`/api/events/${eventId}`, { method: "DELETE" });
              location.hash = "#/events";
            },
          },
          t("remove"),
        )
      : "",
  );
  main.append(
    h("p", {}, h("a", { href: "#/events" }, `← ${t("events")}`)),
    h(
      "h1",
      {},
      event.name,
      " ",
      h("span", { class: `badge ${event.state}`, id: "event-state" }, t(`event_${event.state}`)),
    ),
    figures,
    actions,
    h(
      "section",
      { class: "card", id: "event-sharing" },
      h("h2", {}, t("event_sharing")),
      shareOptions,
      h(
        "button",
        {
          type: "button",
          id: "event-share",
          onclick: async () => {
            const body = {
              minutes: 720,
              event_id: eventId,
              pin: sharePin.value.trim() || null,
              approval: shareApproval.checked,
            };
            const share = await api("/api/gallery/share", { method: "POST", json: body });
            shareOutcome.replaceChildren(
              t("event_shared_until", { time: when(share.shared_until) }),
              " · ",
              h(
                "a",
                { href: share.public_url, target: "_blank", rel: "noopener", id: "event-gallery-link" },
                t("gallery"),
              ),
              " · ",
              h(
                "a",
                { href: `${share.public_url}/show`, target: "_blank", rel: "noopener", id: "event-show-link" },
                t("event_slideshow"),
              ),
              " ",
              h(
                "button",
                {
                  type: "button",
                  onclick: async () => {
                    await copy(`${share.public_url}/show`);
                    toast(t("copied"));
                  },
                },
                t("copy"),
              ),
            );
          },
        },
        t("event_share"),
      ),
      shareOutcome,
    ),
    logoSection(event),
    eventForm(event, names, async (body) => {
      await api(`/api/events/${eventId}`, { method: "PATCH", json: body });
      toast(t("saved"), "ok");
    }),
  );
  await drawFigures();
  const timer = setInterval(() => drawFigures().catch(() => {}), 5000);
  return { leave: () => clearInterval(timer) };
}

// @ts-check
// Gallery (admin): recent booth results by slot (hide from guests, delete on request), and sharing
// the public gallery with a countdown.
import { api } from "../api.js";
import { copy, field, h, toast } from "../dom.js";
import { locale, slotName as localName, t } from "../i18n.js";

export async function render(main) {
  const minutes = h("input", { id: "share-minutes", type: "number", min: 1, max: 1440, value: 15 });
  const title = h("input", { id: "share-title", maxlength: 80, placeholder: t("guest_gallery") });
  const earlier = h("input", { id: "share-earlier", type: "checkbox" });
  const approval = h("input", { id: "share-approval", type: "checkbox" });
  const pin = h("input", {
    id: "share-pin",
    inputmode: "numeric",
    pattern: "[0-9]{4,8}",
    maxlength: 8,
    autocomplete: "off",
    placeholder: t("gallery_pin_placeholder"),
  });
  /** @type {Record<string, string>} slot id → its name, as the admin named it */
  const names = Object.fromEntries((await api("/api/slots")).map((slot) => [slot.id, localName(slot.display_name)]));
  const slotName = (id) => (names[id] && names[id] !== id ? `${names[id]} (${id})` : id);
  const slotBoxes = Object.keys(names).map((id) =>
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", value: id, class: "share-slot" }),
      ` ${slotName(id)}`,
    ),
  );
  /** Approval controls show while approval is on: in the open share, or ticked for the next one. */
  const view = { approval: false, redraws: /** @type {(() => void)[]} */ ([]) };
  const showApproval = () => {
    view.approval = approval.checked;
    for (const redraw of view.redraws) redraw();
  };
  approval.addEventListener("change", showApproval);
  /** @type {string | null} the open share's "photos since": sharing again keeps it */
  let since = null;
  const shareBody = () => {
    const chosen = slotBoxes
      .map((l) => l.firstChild)
      .filter((box) => box.checked)
      .map((box) => box.value);
    return {
      minutes: Number(minutes.value),
      title: title.value.trim() || null,
      include_earlier: earlier.checked,
      since: earlier.checked ? null : since,
      slots: chosen.length ? chosen : null,
      pin: pin.value.trim() || null,
      approval: approval.checked,
    };
  };
  /** Fill the form with the open share, so that sharing again (to extend it) keeps what guests see. */
  const fill = (share) => {
    since = share.active ? share.since : null;
    if (!share.active) return;
    title.value = share.title || "";
    pin.value = share.pin || "";
    approval.checked = Boolean(share.approval);
    earlier.checked = !share.since;
    for (const label of slotBoxes) {
      const box = /** @type {HTMLInputElement} */ (label.firstChild);
      box.checked = Boolean(share.slots?.includes(box.value));
    }
  };
  const state = h("p", { id: "share-state", role: "status" });
  const link = h("p", {});
  let timer = null;
  const show = (share) => {
    clearInterval(timer);
    fill(share);
    showApproval();
    link.replaceChildren(
      h("a", { href: share.public_url, target: "_blank", rel: "noopener", id: "public-link" }, share.public_url),
      " ",
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            await copy(share.public_url);
            toast(t("copied"));
          },
        },
        t("copy"),
      ),
    );
    const tick = () => {
      const left = share.active ? Math.max(0, new Date(share.shared_until).getTime() - Date.now()) : 0;
      const scope = share.active
        ? ` · ${share.slots ? share.slots.map(slotName).join(", ") : t("all_slots")} · ${share.since ? t("photos_since", { time: new Date(share.since).toLocaleTimeString(locale()) }) : t("all_photos")}`
        : "";
      const guarded =
        (share.active && share.pin ? ` · ${t("pin_is", { pin: share.pin })}` : "") +
        (share.active && share.pin_locked ? ` · ${t("pin_locked")}` : "") +
        (share.active && share.approval ? ` · ${t("approval_on")}` : "");
      state.textContent = left
        ? t("shared_until", {
            left: `${Math.floor(left / 60000)}:${String(Math.floor(left / 1000) % 60).padStart(2, "0")}`,
          }) +
          scope +
          guarded
        : t("not_shared");
    };
    tick();
    timer = setInterval(tick, 1000);
  };
  show(await api("/api/gallery/share"));
  const jobs = (await api("/api/jobs?status=done&source=ingest&limit=60")).items.filter((j) => !j.media_purged_at);
  /** @type {Record<string, any[]>} */
  const bySlot = {};
  for (const job of jobs) {
    bySlot[job.slot_id] ??= [];
    bySlot[job.slot_id].push(job);
  }
  main.append(
    h("h1", {}, t("gallery")),
    h(
      "section",
      { class: "card" },
      field(t("share_for"), minutes),
      field(t("gallery_title"), title),
      field(t("gallery_pin"), pin, t("gallery_pin_hint")),
      h("fieldset", { class: "slot-choice" }, h("legend", {}, t("share_slots")), slotBoxes),
      h("label", { class: "check" }, earlier, ` ${t("include_earlier")}`),
      " ",
      h("label", { class: "check" }, approval, ` ${t("share_approval")}`),
      h(
        "div",
        { class: "row" },
        h(
          "button",
          {
            class: "primary",
            type: "button",
            id: "share",
            onclick: async () => show(await api("/api/gallery/share", { method: "POST", json: shareBody() })),
          },
          t("share"),
        ),
        h(
          "button",
          {
            type: "button",
            id: "stop-sharing",
            onclick: async () => {
              await api("/api/gallery/share", { method: "DELETE" });
              show(await api("/api/gallery/share"));
            },
          },
          t("stop_sharing"),
        ),
      ),
      state,
      h("div", {}, `${t("public_link")}: `, link),
      h(
        "figure",
        {},
        h("img", { class: "qr", id: "gallery-qr", src: "/api/public/gallery/qr.svg", alt: t("gallery_qr") }),
        h("figcaption", {}, t("gallery_qr")),
      ),
    ),
    // h() flattens the list of sections (Element.append would print "[object HTMLElement]")
    h(
      "div",
      { id: "gallery-slots" },
      Object.keys(bySlot).length
        ? Object.entries(bySlot).map(([slot, items]) =>
            h(
              "section",
              {},
              h("h2", {}, slotName(slot)),
              h(
                "div",
                { class: "gallery-grid" },
                items.map((job) => photo(job, slot, view)),
              ),
            ),
          )
        : h("p", { class: "muted" }, t("no_results")),
    ),
  );
  return { leave: () => clearInterval(timer) };
}

/**
 * One result with its moderation buttons (approval ones only while ``view.approval``).
 * @param {any} job
 * @param {string} slot
 * @param {{approval: boolean, redraws: (() => void)[]}} view
 */
function photo(job, slot, view) {
  const box = h("figure", { class: "gallery-item", dataset: { job: job.id } });
  const draw = () => {
    const hidden = Boolean(job.hidden_at);
    const picture = hidden
      ? h("div", { class: "placeholder hidden-photo" }, t("hidden"))
      : h(
          "a",
          { href: `/r/${job.id}`, target: "_blank", rel: "noopener" },
          h("img", { src: job.thumbnail_url, alt: `${slot} ${job.received_at}`, loading: "lazy" }),
        );
    const toggle = h(
      "button",
      {
        type: "button",
        class: "hide-photo",
        onclick: async () => {
          await api(`/api/jobs/${job.id}`, { method: "PATCH", json: { hidden: !hidden } });
          job.hidden_at = hidden ? null : new Date().toISOString();
          draw();
          toast(t(hidden ? "photo_shown" : "photo_hidden"));
        },
      },
      t(hidden ? "show_photo" : "hide_photo"),
    );
    const approved = Boolean(job.approved_at);
    const approve = h(
      "button",
      {
        type: "button",
        class: approved ? "withdraw-photo" : "approve-photo primary",
        onclick: async () => {
          await api(`/api/jobs/${job.id}`, { method: "PATCH", json: { approved: !approved } });
          job.approved_at = approved ? null : new Date().toISOString();
          draw();
          toast(t(approved ? "photo_withdrawn" : "photo_approved"));
        },
      },
      t(approved ? "withdraw_photo" : "approve_photo"),
    );
    const remove = h(
      "button",
      {
        type: "button",
        class: "delete-photo danger",
        onclick: async () => {
          if (!confirm(t("confirm_delete_photo"))) return;
          await api(`/api/jobs/${job.id}/media`, { method: "DELETE" });
          box.remove();
          toast(t("photo_deleted"));
        },
      },
      t("delete_photo"),
    );
    box.replaceChildren(picture, h("figcaption", { class: "row" }, view.approval ? approve : null, toggle, remove));
  };
  draw();
  view.redraws.push(draw);
  return box;
}

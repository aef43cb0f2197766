// Dashboard: the 15 slots with provider, state, last result, today's success and the ingest URL.
import { api } from "../api.js";
import { copy, h, toast, when } from "../dom.js";
import { t } from "../i18n.js";

export async function render(main) {
  const [slots, overview, settings] = await Promise.all([
    api("/api/slots"), api("/api/stats/overview?window=24h"), api("/api/settings"),
  ]);
  const password = h("code", { id: "ingest-password" }, "••••••••");
  let visible = false;
  main.append(
    h("h1", {}, t("dashboard")),
    h("div", { class: "card row" }, h("strong", {}, `${t("ingest_password")}:`), password,
      h("button", { type: "button", onclick: (e) => {
        visible = !visible;
        password.textContent = visible ? settings.ingest_password : "••••••••";
        e.target.textContent = visible ? t("hide") : t("show");
      } }, t("show")),
      h("button", { type: "button", onclick: async () => { await copy(settings.ingest_password); toast(t("copied")); } }, t("copy"))),
    h("h2", { class: "sr-only" }, "Slots"),
    h("div", { class: "grid", id: "slots" }, slots.map((slot) => card(slot, overview.slots[slot.id]))),
  );
}

function card(slot, stats) {
  const rate = stats?.success_rate;
  return h("article", { class: "card slot-card", dataset: { slot: slot.id } },
    h("h3", {}, h("span", {}, slot.display_name), h("span", { class: `pill ${slot.is_active ? "on" : ""}` }, slot.is_active ? t("active") : t("inactive"))),
    h("div", { class: "muted" }, `${slot.id} · ${slot.provider}${slot.model ? ` / ${slot.model}` : ""}`),
    slot.last_result_thumbnail_url
      ? h("a", { href: slot.last_result_url, target: "_blank", rel: "noopener" }, h("img", { class: "thumb", src: slot.last_result_thumbnail_url, alt: `${t("result")} ${slot.display_name}`, loading: "lazy" }))
      : h("div", { class: "thumb muted placeholder" }, t("no_results")),
    h("p", { class: "muted" }, `${t("last_job")}: `, slot.last_job_status ? h("span", { class: `pill ${slot.last_job_status}` }, slot.last_job_status) : t("no_jobs"),
      ` ${slot.last_job_at ? when(slot.last_job_at) : ""}`),
    h("p", { class: "muted" }, `${t("success_today")}: ${rate === null || rate === undefined ? "—" : `${Math.round(rate * 100)} %`}`),
    h("div", { class: "row" }, h("code", { class: "ingest-url" }, slot.ingest_url),
      h("button", { type: "button", "aria-label": `${t("copy")} ${t("ingest_url")} ${slot.id}`, onclick: async () => { await copy(slot.ingest_url); toast(t("copied")); } }, t("copy"))),
    h("p", {}, h("a", { class: "button", href: `#/slots/${slot.id}` }, t("edit"))),
  );
}

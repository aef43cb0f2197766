// @ts-check
// Dashboard, the live operations view (refreshes itself every 5 s): route health (a red banner
// while a provider route fails, and the warm-up an operator runs before the doors open), the AI
// photos still being made after their booth's deadline (count, oldest), then the
// active slots with provider, last result, today's success and the ingest URL; inactive slots
// collapsed into one compact list.
import { api } from "../api.js";
import { copy, h, toast, when } from "../dom.js";
import { duration, failureClass, loopbackHost, outcome, slotName, t } from "../i18n.js";

const LIVE_MS = 5000;

/** Today's spend once it reaches the warning threshold or the cap (nothing while under it). */
function spendBanner(spend) {
  if (spend.state !== "warning" && spend.state !== "exhausted") return []; // spend_warning, spend_exhausted
  const figures = {
    spent: (spend.spent_usd + spend.reserved_usd).toFixed(2),
    cap: spend.cap_usd.toFixed(2),
    percent: Math.round(((spend.spent_usd + spend.reserved_usd) / spend.cap_usd) * 100),
  };
  return [
    h(
      "div",
      { class: `banner ${spend.state === "exhausted" ? "bad" : "warn"}`, id: "spend-banner", role: "alert" },
      t(`spend_${spend.state}`, figures),
      " ",
      h("a", { href: "#/settings" }, t("settings")),
    ),
  ];
}

/** The live events: photos, on-time success rate, p95 and spend against the cap, each linked. */
function eventCards(summaries) {
  return h(
    "div",
    { class: "card" },
    h("h2", {}, t("live_events")),
    summaries.map((s) => {
      const used = (s.spent_usd + s.reserved_usd).toFixed(2);
      const spend =
        s.cap_usd === null
          ? t("event_spend_uncapped", { spent: used })
          : t("event_spend_of_cap", { spent: used, cap: s.cap_usd.toFixed(2) });
      const rate = s.success_rate === null ? "—" : `${Math.round(s.success_rate * 100)} %`;
      return h(
        "p",
        { class: `row live-event ${s.spend_state}`, dataset: { event: s.id } },
        h("a", { href: `#/events/${s.id}` }, h("strong", {}, s.name)),
        h("span", {}, t("live_event_line", { photos: s.photos, rate, p95: duration(s.p95_total_ms), spend })),
      );
    }),
  );
}

export async function render(main) {
  const [slots, overview, settings] = await Promise.all([
    api("/api/slots"),
    api("/api/stats/overview?window=24h"),
    api("/api/settings"),
  ]);
  const password = h("code", { id: "ingest-password" }, "••••••••");
  let visible = false;
  const health = h("section", { id: "route-health", "aria-live": "polite" });
  const warmupResults = h("div", { id: "warmup-results", class: "table-wrap" });
  const warmupButton = h(
    "button",
    {
      type: "button",
      id: "warmup",
      onclick: async () => {
        warmupButton.disabled = true;
        warmupResults.replaceChildren(h("p", { class: "muted" }, t("warming_up")));
        try {
          const results = await api("/api/routes/warmup", { method: "POST" });
          warmupResults.replaceChildren(warmupTable(results));
          await refresh();
        } catch (exc) {
          warmupResults.replaceChildren(h("p", { class: "field-error" }, exc.message));
        } finally {
          warmupButton.disabled = false;
        }
      },
    },
    t("warm_up"),
  );
  const grid = h("div", { class: "grid", id: "slots" });
  const inactive = h("div", { id: "inactive-slots" });
  const drawSlots = (list, stats) => {
    grid.replaceChildren(...list.filter((s) => s.is_active).map((slot) => card(slot, stats.slots[slot.id])));
    const off = list.filter((s) => !s.is_active);
    const open = Boolean(inactive.querySelector("details")?.open); // a refresh keeps the list as the admin left it
    inactive.replaceChildren(
      off.length
        ? h(
            "details",
            { class: "card", open },
            h("summary", {}, t("inactive_slots", { count: off.length })),
            h(
              "ul",
              { class: "compact" },
              off.map((slot) =>
                h(
                  "li",
                  {},
                  h("a", { href: `#/slots/${slot.id}` }, `${slot.id} · ${slotName(slot.display_name)}`),
                  ` — ${slot.provider}`,
                ),
              ),
            ),
          )
        : "",
    );
  };
  drawSlots(slots, overview);
  const late = h("section", { id: "late-jobs", "aria-live": "polite" });
  const liveEvents = h("section", { id: "live-events", "aria-live": "polite" });
  async function refresh() {
    try {
      const [routes, lateJobs, spend, events] = await Promise.all([
        api("/api/routes"),
        api("/api/jobs/late"),
        api("/api/spend"),
        api("/api/events"),
      ]);
      health.replaceChildren(...banner(routes), ...spendBanner(spend));
      const live = events.filter((e) => e.state === "live");
      const summaries = await Promise.all(live.map((e) => api(`/api/events/${e.id}/summary`)));
      liveEvents.replaceChildren(...(summaries.length ? [eventCards(summaries)] : []));
      late.replaceChildren(
        lateJobs.continuing
          ? h(
              "div",
              { class: "card row" },
              h("strong", {}, `${t("late_jobs")}: ${lateJobs.continuing}`),
              h("span", { class: "muted" }, t("late_jobs_oldest", { at: when(lateJobs.oldest_received_at) })),
              h("a", { href: "#/jobs?late=continuing" }, t("jobs")),
            )
          : "",
      );
    } catch {
      /* next refresh will tell */
    }
  }
  async function refreshSlots() {
    try {
      const [list, stats] = await Promise.all([api("/api/slots"), api("/api/stats/overview?window=24h")]);
      drawSlots(list, stats);
    } catch {
      /* next refresh will tell */
    }
  }
  await refresh();
  const timer = setInterval(() => {
    refresh();
    refreshSlots();
  }, LIVE_MS);
  const loopback = slots.length ? loopbackHost(slots[0].ingest_url) : null; // built from PUBLIC_BASE_URL or this request
  main.append(
    h("h1", {}, t("dashboard")),
    loopback
      ? h(
          "div",
          { class: "banner bad", id: "loopback-warning", role: "note" },
          t("public_url_loopback", { host: loopback }),
        )
      : "",
    health,
    liveEvents,
    late,
    h(
      "div",
      { class: "card" },
      h("div", { class: "row" }, warmupButton, h("span", { class: "muted" }, t("warm_up_hint"))),
      warmupResults,
    ),
    h(
      "div",
      { class: "card row" },
      h("strong", {}, `${t("ingest_password")}:`),
      password,
      h(
        "button",
        {
          type: "button",
          onclick: (e) => {
            visible = !visible;
            password.textContent = visible ? settings.ingest_password : "••••••••";
            e.target.textContent = visible ? t("hide") : t("show");
          },
        },
        t("show"),
      ),
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            await copy(settings.ingest_password);
            toast(t("copied"));
          },
        },
        t("copy"),
      ),
    ),
    h("h2", { class: "sr-only" }, t("slots")),
    grid,
    inactive,
  );
  return { leave: () => clearInterval(timer) };
}

// The health banner: failing routes (open or being probed) and slots answering from fallbacks.
function banner(overview) {
  const failing = overview.routes.filter((r) => r.state !== "closed");
  const degraded = overview.degraded_slots;
  if (!failing.length && !degraded.length) return [];
  const items = failing.map((r) =>
    h(
      "li",
      { dataset: { route: r.route_key } },
      h("strong", {}, r.route_key),
      ` — ${t(`state_${r.state}`)}${r.changed_at ? ` ${when(r.changed_at)}` : ""}. `,
      t("route_failed_recent", { failed: r.failed_15m, total: r.attempts_15m }),
      r.reason ? ` ${t("last_failure")}: ${r.reason}.` : "",
      r.slots.length ? ` ${t("slots")}: ${r.slots.join(", ")}.` : "",
    ),
  );
  for (const d of degraded) {
    items.push(
      h(
        "li",
        { dataset: { slot: d.slot_id } },
        h("strong", {}, d.slot_id),
        " — ",
        t("slot_degraded", { route: d.from_fallback_route, original: d.from_original, total: d.jobs_15m }),
      ),
    );
  }
  return [h("div", { class: "banner bad", role: "alert" }, h("h2", {}, t("routes_failing")), h("ul", {}, items))];
}

function warmupTable(results) {
  return h(
    "table",
    {},
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        [t("slot"), t("route"), t("outcome"), t("duration"), t("details")].map((c) => h("th", { scope: "col" }, c)),
      ),
    ),
    h(
      "tbody",
      {},
      results.map((r) =>
        h(
          "tr",
          { class: r.outcome === "success" ? "" : "bad" },
          [
            r.slot_id,
            `${r.route_index ? `${t("fallback")} ${r.route_index}` : t("primary")}: ${r.route_key}`,
            h("span", { class: `pill ${r.outcome === "success" ? "done" : "failed"}` }, outcome(r.outcome)),
            duration(r.latency_ms),
            r.failure_code || r.failure_class ? failureClass(r.failure_class, r.failure_code) : "",
          ].map((c) => h("td", {}, c)),
        ),
      ),
    ),
  );
}

function card(slot, stats) {
  const rate = stats?.success_rate;
  return h(
    "article",
    { class: "card slot-card", dataset: { slot: slot.id } },
    h(
      "h3",
      {},
      h("span", {}, slotName(slot.display_name)),
      h("span", { class: `pill ${slot.is_active ? "on" : ""}` }, slot.is_active ? t("active") : t("inactive")),
    ),
    h("div", { class: "muted" }, `${slot.id} · ${slot.provider}${slot.model ? ` / ${slot.model}` : ""}`),
    slot.last_result_thumbnail_url
      ? h(
          "a",
          { href: slot.last_result_url, target: "_blank", rel: "noopener" },
          h("img", {
            class: "thumb",
            src: slot.last_result_thumbnail_url,
            alt: `${t("result")} ${slotName(slot.display_name)}`,
            loading: "lazy",
          }),
        )
      : h("div", { class: "thumb muted placeholder" }, t("no_results")),
    h(
      "p",
      { class: "muted" },
      `${t("last_job")}: `,
      slot.last_job_status
        ? h("span", { class: `pill ${slot.last_job_status}` }, t(`status_${slot.last_job_status}`))
        : t("no_jobs"),
      ` ${slot.last_job_at ? when(slot.last_job_at) : ""}`,
    ),
    h(
      "p",
      { class: "muted" },
      `${t("success_today")}: ${rate === null || rate === undefined ? "—" : `${Math.round(rate * 100)} %`}`,
    ),
    h(
      "div",
      { class: "row" },
      h("code", { class: "ingest-url" }, slot.ingest_url),
      h(
        "button",
        {
          type: "button",
          "aria-label": `${t("copy")} ${t("ingest_url")} ${slot.id}`,
          onclick: async () => {
            await copy(slot.ingest_url);
            toast(t("copied"));
          },
        },
        t("copy"),
      ),
    ),
    h("p", {}, h("a", { class: "button", href: `#/slots/${slot.id}` }, t("edit"))),
  );
}

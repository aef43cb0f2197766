// @ts-check
// Jobs: filterable list with "load more", job detail, and the booth's last requests.
import { api, authorisedImage } from "../api.js";
import { field, h, when } from "../dom.js";
import { duration, failureClass, reason, t } from "../i18n.js";

const STATUSES = ["", "pending", "done", "failed", "timeout", "interrupted"];
const LIVE_MS = 5000; // the list refreshes itself this often
const SOURCES = ["", "ingest", "ui_test", "rerun"];
const option = (value, selected, label = value) =>
  h("option", { value, selected: value === selected }, value ? label : t("any"));
const sourceName = (source) => t(`source_${source}`);
const ATTEMPT_COLUMNS = () => [
  "#",
  t("route"),
  t("provider"),
  t("model"),
  t("outcome"),
  t("http_code"),
  t("duration"),
  t("cost"),
  t("faces"),
];
const COLUMNS = () => [t("received"), t("slot"), t("source"), t("status"), t("provider"), t("duration"), ""];

export async function renderList(main) {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const slot = h(
    "select",
    { id: "filter-slot" },
    option("", ""),
    Array.from({ length: 15 }, (_, i) => option(`slot-${String(i + 1).padStart(3, "0")}`, params.get("slot_id") || "")),
  );
  const status = h(
    "select",
    { id: "filter-status" },
    STATUSES.map((s) => option(s, params.get("status") || "", t(`status_${s}`))),
  );
  const source = h(
    "select",
    { id: "filter-source" },
    SOURCES.map((s) => option(s, params.get("source") || "", sourceName(s))),
  );
  const period = h(
    "select",
    { id: "filter-since" },
    ["", "1h", "24h", "7d"].map((p) => option(p, "", t(`period_${p}`))),
  );
  const body = h("tbody", { id: "jobs-body" });
  const more = h("button", { type: "button", id: "load-more", hidden: true }, t("load_more"));
  let cursor = null;
  let pages = 0;
  async function load(reset) {
    const query = new URLSearchParams({ limit: "25" });
    for (const [key, input] of [
      ["slot_id", slot],
      ["status", status],
      ["source", source],
    ])
      if (input.value) query.set(key, input.value);
    if (params.get("late")) query.set("late_state", params.get("late") || ""); // the dashboard's link
    if (params.get("event_id")) query.set("event_id", params.get("event_id") || ""); // an event's page links here
    const hours = { "1h": 1, "24h": 24, "7d": 168 }[period.value];
    if (hours) query.set("since", new Date(Date.now() - hours * 3600000).toISOString());
    if (!reset && cursor) query.set("cursor", cursor);
    const page = await api(`/api/jobs?${query}`);
    if (reset) body.replaceChildren();
    body.append(...page.items.map(row));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    pages = reset ? 1 : pages + 1;
  }
  more.addEventListener("click", () => load(false));
  for (const input of [slot, status, source, period]) input.addEventListener("change", () => load(true));
  const last = h("div", { id: "last-requests" });
  main.append(
    h("h1", {}, t("jobs")),
    h(
      "div",
      { class: "row card" },
      field(t("slot"), slot),
      field(t("status"), status),
      field(t("source"), source),
      field(t("received"), period),
    ),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "cards-on-phone" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            COLUMNS().map((c) => h("th", { scope: "col" }, c)),
          ),
        ),
        body,
      ),
    ),
    more,
    h("h2", {}, t("last_requests")),
    last,
  );
  await load(true);
  const refresh = h(
    "button",
    { type: "button", id: "refresh-requests", onclick: () => showRequests(last) },
    t("refresh"),
  );
  last.before(refresh);
  await showRequests(last);
  // Live: the first page and the booth's last requests follow new photos (not once "load more"
  // was used: the rows the admin is reading stay put).
  const timer = setInterval(async () => {
    try {
      if (pages <= 1) await load(true);
      await showRequests(last);
    } catch {
      /* the next tick will tell */
    }
  }, LIVE_MS);
  return { leave: () => clearInterval(timer) };
}

/** The booth's last requests as it sent them: one card each, fields as "name: value" lines. */
async function showRequests(box) {
  const requests = await api("/api/ingest/last?limit=10");
  const lines = (object) =>
    h(
      "dl",
      { class: "pairs" },
      Object.entries(object || {}).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]),
    );
  box.replaceChildren(
    ...(requests.length
      ? requests.map((r) =>
          h(
            "div",
            { class: "card request" },
            h(
              "div",
              { class: "row" },
              h("span", { class: `pill ${r.status}` }, t(`status_${r.status}`)),
              r.http_status ? h("span", {}, `${t("http_code")} ${r.http_status}`) : null,
              h("span", {}, reason(r.failure_reason)),
              h("a", { href: `#/jobs/${r.id}` }, t("details")),
            ),
            h(
              "p",
              { class: "muted" },
              `${when(r.received_at)} · ${r.slot_id} · ${r.client_ip ? t("from_ip", { ip: r.client_ip }) : ""}`,
              r.input_bytes
                ? ` · ${Math.round(r.input_bytes / 1024).toLocaleString()} ${t("kb")} ${r.input_mime || ""}`
                : "",
            ),
            h("details", {}, h("summary", {}, t("client_fields")), lines(r.client_fields)),
            h("details", {}, h("summary", {}, t("headers")), lines(r.client_headers)),
          ),
        )
      : [h("p", { class: "muted" }, t("no_requests"))]),
  );
}

function row(job) {
  const labels = COLUMNS(); // shown before each value when the table becomes cards on a phone
  const cell = (i, ...content) => h("td", { "data-label": labels[i] }, ...content);
  return h(
    "tr",
    {},
    cell(0, when(job.received_at)),
    cell(1, job.slot_id),
    cell(2, sourceName(job.source)),
    cell(
      3,
      h("span", { class: `pill ${job.status}` }, t(`status_${job.status}`)),
      job.failure_reason ? h("span", { title: job.failure_reason }, ` ${reason(job.failure_reason)}`) : "",
      job.late_state ? h("span", { class: `pill late-${job.late_state}` }, t(`late_${job.late_state}`)) : "",
    ),
    cell(4, job.provider || "—"),
    cell(5, duration(job.total_ms)),
    cell(6, h("a", { href: `#/jobs/${job.id}` }, t("details"))),
  );
}

/** The job's late delivery: its state and times, and a Cancel button while it goes on. */
function lateLine(main, job) {
  const state = job.late_state;
  const times =
    state === "continuing"
      ? t("late_until", { at: when(job.late_deadline_at) })
      : job.late_finished_at
        ? `${when(job.late_finished_at)} (${duration(Date.parse(job.late_finished_at) - Date.parse(job.received_at))} ${t("after_received")})`
        : "";
  return h(
    "p",
    { id: "job-late", class: "row" },
    h("span", { class: `pill late-${state}` }, t(`late_${state}`)),
    times,
    job.late_failure_reason ? ` ${reason(job.late_failure_reason)}` : "",
    state === "continuing"
      ? h(
          "button",
          {
            id: "cancel-late",
            type: "button",
            onclick: async () => {
              await api(`/api/jobs/${job.id}/late/cancel`, { method: "POST" });
              main.replaceChildren();
              await renderDetail(main, job.id);
            },
          },
          t("cancel_late"),
        )
      : "",
  );
}

export async function renderDetail(main, jobId) {
  const job = await api(`/api/jobs/${jobId}`);
  const original = h("img", { alt: t("original"), id: "job-original" });
  if (job.original_url)
    authorisedImage(job.original_url).then((url) => {
      original.src = url;
    });
  const boothAnswer = h("img", { alt: t("booth_answer"), id: "job-booth-answer" });
  if (job.booth_result_url)
    authorisedImage(job.booth_result_url).then((url) => {
      boothAnswer.src = url;
    });
  main.append(
    h("h1", {}, `${t("jobs")} · ${job.slot_id}`),
    h(
      "p",
      {},
      h("span", { class: `pill ${job.status}` }, t(`status_${job.status}`)),
      ` ${reason(job.failure_reason)} `,
      job.failure_detail ? h("small", { class: "muted" }, job.failure_detail) : "",
    ),
    job.late_state ? lateLine(main, job) : "",
    h(
      "div",
      { class: "side-by-side" },
      h("figure", {}, original, h("figcaption", {}, t("original"))),
      job.booth_result_url ? h("figure", {}, boothAnswer, h("figcaption", {}, t("booth_answer"))) : "",
      job.result_url
        ? h(
            "figure",
            {},
            h("img", { src: job.result_url, alt: t("result") }),
            h("figcaption", {}, h("a", { href: `/r/${job.id}`, target: "_blank", rel: "noopener" }, t("open"))),
          )
        : h("div", {}),
    ),
    job.prompt ? h("p", { id: "job-prompt" }, h("strong", {}, `${t("prompt")}: `), job.prompt) : "", // Element.append writes null as text
    h("h2", {}, t("attempts")),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "attempts", class: "cards-on-phone" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ATTEMPT_COLUMNS().map((c) => h("th", { scope: "col" }, c)),
          ),
        ),
        h(
          "tbody",
          {},
          job.attempt_log.map((a) =>
            h(
              "tr",
              {},
              [
                a.number,
                a.route_index ? `${t("fallback")} ${a.route_index}` : t("primary"),
                a.provider,
                a.model || "—",
                t(`outcome_${a.outcome}`),
                a.failure_class || a.failure_code ? failureClass(a.failure_class, a.failure_code) : "",
                duration(a.latency_ms),
                a.cost_usd ?? "",
                a.faces_expected == null ? "" : `${a.faces_expected} → ${a.faces_found ?? "?"}`,
              ].map((c, i) => h("td", { "data-label": ATTEMPT_COLUMNS()[i], class: i === 3 ? "model" : null }, c)),
            ),
          ),
        ),
      ),
    ),
    h("h2", {}, t("client_fields")),
    h(
      "dl",
      { class: "pairs card" },
      Object.entries(job.client_fields || {}).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]),
    ),
    h(
      "p",
      { class: "muted" },
      `${t("received")}: ${when(job.received_at)} · ${sourceName(job.source)} · ${job.client_ip || ""} · ${job.input_width || "?"}×${job.input_height || "?"} · ${duration(job.total_ms)}`,
    ),
  );
}

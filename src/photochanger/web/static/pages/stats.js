// @ts-check
// Statistics: window selector, per-slot table, jobs-by-status bars, p95 line, failure reasons.
import { api } from "../api.js";
import { field, h } from "../dom.js";
import { duration, locale, reason, t } from "../i18n.js";

const COLORS = { done: "#1a7f37", failed: "#b42318", timeout: "#9a6700", interrupted: "#6e7781", pending: "#0a58ca" };
const SVG = "http://www.w3.org/2000/svg";
const HEADERS = () => [
  t("slot"),
  t("total"),
  t("done"),
  t("failed"),
  t("success_rate"),
  "p50",
  "p95",
  t("retries"),
  t("fallbacks_used"),
  t("hedges"),
  t("cost"),
];
const s = (tag, attrs) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
};

export async function render(main) {
  const windowSelect = h(
    "select",
    { id: "stats-window" },
    ["1h", "24h", "7d"].map((w) => h("option", { value: w, selected: w === "24h" }, t(`period_${w}`))),
  );
  const events = await api("/api/events");
  const eventSelect = h(
    "select",
    { id: "stats-event" },
    h("option", { value: "" }, t("all_photos")),
    events.map((e) => h("option", { value: e.id }, `${e.name} (${t(`event_${e.state}`)})`)),
  );
  const content = h("div", { id: "stats-content" });
  const redraw = () => draw(content, windowSelect.value, eventSelect.value);
  windowSelect.addEventListener("change", redraw);
  eventSelect.addEventListener("change", redraw);
  main.append(
    h("h1", {}, t("stats")),
    h("div", { class: "row" }, field(t("window"), windowSelect), field(t("event"), eventSelect)),
    content,
  );
  await draw(content, "24h", "");
}

let draws = 0; // the latest draw wins: an earlier one whose answers come later draws nothing

/** The figures of ``win`` (an event's: all of its photos in the totals, ``win`` in the charts). */
async function draw(content, win, eventId) {
  const mine = ++draws;
  const only = eventId ? `&event_id=${encodeURIComponent(eventId)}` : "";
  const [overview, series] = await Promise.all([
    api(`/api/stats/overview?window=${eventId ? "all" : win}${only}`),
    api(`/api/stats/timeseries?window=${win}${only}`),
  ]);
  const tot = overview.totals;
  const pct = (v) => (v === null || v === undefined ? "—" : `${Math.round(v * 1000) / 10} %`);
  if (mine !== draws) return;
  content.replaceChildren(
    h(
      "div",
      { class: "grid totals" },
      [
        [t("total"), tot.jobs],
        [t("done"), tot.done],
        [t("failed"), tot.failed],
        [t("timeouts"), tot.timeouts],
        [
          t("late_deliveries"),
          tot.late_continuing ? `${tot.late_deliveries} (+${tot.late_continuing})` : tot.late_deliveries,
        ],
        [t("rejected"), tot.rejected],
        [t("success_rate"), pct(tot.success_rate)],
        ["p95", duration(tot.p95_total_ms)],
      ].map(([k, v]) => h("div", { class: "card" }, h("div", { class: "muted" }, k), h("strong", {}, v))),
    ),
    h("p", { class: "muted", id: "rate-note" }, t("success_rate_note")),
    h("h2", {}, t("jobs_over_time")),
    bars(series),
    axis(series, win),
    legend(),
    h("h2", {}, t("p95_latency")),
    line(series),
    axis(series, win),
    h("h2", {}, t("failures")),
    h(
      "ul",
      { id: "failure-reasons" },
      Object.entries(tot.failed_by_reason).map(([code, n]) => h("li", {}, `${reason(code)}: ${n}`)),
      Object.keys(tot.failed_by_reason).length ? null : h("li", {}, "—"),
    ),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "slot-stats", class: "cards-on-phone" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            HEADERS().map((c) => h("th", { scope: "col" }, c)),
          ),
        ),
        h(
          "tbody",
          {},
          Object.entries(overview.slots).map(([slot, st]) =>
            h(
              "tr",
              {},
              [
                slot,
                st.jobs,
                st.done,
                st.failed,
                pct(st.success_rate),
                duration(st.p50_total_ms),
                duration(st.p95_total_ms),
                st.retries,
                st.fallbacks,
                st.hedges_lost,
                st.estimated_cost_usd.toFixed(3),
              ].map((c, i) => h("td", { "data-label": HEADERS()[i] }, c)),
            ),
          ),
        ),
      ),
    ),
  );
}

function legend() {
  return h(
    "p",
    { class: "legend" },
    Object.entries(COLORS).map(([status, color]) =>
      h("span", {}, h("i", { style: `background:${color}` }), t(`status_${status}`)),
    ),
  );
}

/** Time labels under a chart (HTML, so the stretched SVG never distorts them): first, middle, last bucket. */
function axis(series, win) {
  const points = series.buckets;
  if (!points.length) return h("div", { class: "axis" });
  const label = (b) =>
    new Date(b.start).toLocaleString(
      locale(),
      win === "7d" ? { day: "numeric", month: "short", hour: "2-digit" } : { hour: "2-digit", minute: "2-digit" },
    );
  const picks =
    points.length < 3 ? points : [points[0], points[Math.floor(points.length / 2)], points[points.length - 1]];
  return h(
    "div",
    { class: "axis" },
    picks.map((b) => h("span", {}, label(b))),
  );
}

function bars(series) {
  const svg = s("svg", {
    class: "chart",
    viewBox: "0 0 600 220",
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": t("jobs_over_time"),
  });
  const points = series.buckets;
  const max = Math.max(1, ...points.map((b) => Object.values(b.counts).reduce((a, c) => a + c, 0)));
  const width = 580 / points.length;
  points.forEach((b, i) => {
    let y = 200;
    for (const [status, color] of Object.entries(COLORS)) {
      const height = ((b.counts[status] || 0) / max) * 180;
      if (!height) continue;
      y -= height;
      const rect = s("rect", { x: 10 + i * width, y, width: Math.max(1, width - 2), height, fill: color });
      rect.append(s("title", {}), "");
      rect.firstChild.textContent = `${new Date(b.start).toLocaleString(locale())} ${t(`status_${status}`)}: ${b.counts[status]}`;
      svg.append(rect);
    }
  });
  svg.append(s("line", { x1: 10, y1: 200, x2: 590, y2: 200, stroke: "#8c959f" }));
  return svg;
}

function line(series) {
  const svg = s("svg", {
    class: "chart",
    viewBox: "0 0 600 220",
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": t("p95_latency"),
  });
  const points = series.buckets.map((b, i) => [i, b.p95_total_ms]).filter(([, v]) => v !== null);
  const max = Math.max(1, ...points.map(([, v]) => v));
  const step = 580 / Math.max(1, series.buckets.length - 1);
  // hours without photos break the line (nothing is drawn across them); a lone hour is a short level tick at its place
  const runs = [];
  for (const p of points) {
    if (runs.length && p[0] === runs.at(-1).at(-1)[0] + 1) runs.at(-1).push(p);
    else runs.push([p]);
  }
  const half = Math.max(4, step / 2);
  const y = (v) => 200 - (v / max) * 180;
  for (const run of runs) {
    const xy =
      run.length > 1
        ? run.map(([i, v]) => [10 + i * step, y(v)])
        : [-half, half].map((d) => [10 + run[0][0] * step + d, y(run[0][1])]);
    svg.append(
      s("polyline", {
        fill: "none",
        stroke: "#0a58ca",
        "stroke-width": 3,
        "vector-effect": "non-scaling-stroke",
        points: xy.map(([px, py]) => `${Math.min(590, Math.max(10, px))},${py}`).join(" "),
      }),
    );
  }
  svg.append(s("line", { x1: 10, y1: 200, x2: 590, y2: 200, stroke: "#8c959f" }));
  return h(
    "figure",
    { class: "chart-box" },
    h("figcaption", { class: "muted" }, `${t("maximum")}: ${duration(points.length ? max : null)}`),
    svg,
  );
}

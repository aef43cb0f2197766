// @ts-check
// Settings: ingest password (show, copy, rotate), deadline, TTL, concurrency, webhooks (alerts; the
// photo webhook with its secret, a test delivery and the delivery log), write-only keys, cleanup.
import { api } from "../api.js";
import { copy, field, h, toast, when } from "../dom.js";
import { duration, reason, t } from "../i18n.js";

/** The ``model_prices`` textarea as JSON (a clear message when it is not). */
function parsePrices(text) {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(t("model_prices_invalid"));
  }
}

/** The photo webhook: its signing secret (copy), a test delivery and the delivery log. */
function webhookSection(current) {
  const log = h("div", { class: "table-wrap", id: "webhook-log" });
  const outcome = h("p", { role: "status", id: "webhook-test-outcome" });
  const columns = () => [t("received"), t("webhook_event"), t("status"), t("webhook_tries"), t("webhook_answer")];
  async function drawLog() {
    const rows = await api("/api/webhooks/deliveries?limit=20");
    log.replaceChildren(
      rows.length
        ? h(
            "table",
            { class: "cards-on-phone" },
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
              rows.map((d) =>
                h(
                  "tr",
                  {},
                  [
                    when(d.created_at),
                    d.event,
                    t(`delivery_${d.state}`),
                    d.attempts,
                    d.last_status ? `HTTP ${d.last_status}` : d.last_error || "—",
                  ].map((c, i) => h("td", { "data-label": columns()[i] }, String(c))),
                ),
              ),
            ),
          )
        : h("p", { class: "muted" }, t("webhook_none")),
    );
  }
  drawLog().catch(() => {});
  return h(
    "section",
    { class: "card", id: "photo-webhook" },
    h("h2", {}, t("photo_webhook")),
    h(
      "p",
      { class: "row" },
      h("strong", {}, `${t("webhook_secret")}:`),
      h("code", { id: "webhook-secret" }, current.webhook_secret ? `${current.webhook_secret.slice(0, 6)}…` : "—"),
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            await copy(current.webhook_secret || "");
            toast(t("copied"));
          },
        },
        t("copy"),
      ),
    ),
    h("p", { class: "muted" }, t("webhook_signature_hint")),
    h(
      "button",
      {
        type: "button",
        id: "webhook-test",
        onclick: async () => {
          try {
            const d = await api("/api/webhooks/test", { method: "POST" });
            outcome.textContent =
              d.state === "delivered"
                ? t("webhook_test_ok", { status: d.last_status })
                : t("webhook_test_failed", { error: d.last_status ? `HTTP ${d.last_status}` : d.last_error || "" });
          } catch (exc) {
            outcome.textContent = exc.message;
          }
          await drawLog();
        },
      },
      t("webhook_send_test"),
    ),
    outcome,
    h("h3", {}, t("webhook_log")),
    log,
  );
}

/** A provider's key: its state, a write-only input and a Test button (one real request through
 * each active slot route of that provider, as the warm-up does). */
function keyField(name, input, key, onSave) {
  const outcome = h("p", { class: "muted", id: `key-test-${name}`, role: "status" });
  const test = h(
    "button",
    {
      type: "button",
      id: `test-key-${name}`,
      onclick: async () => {
        test.disabled = true;
        outcome.textContent = t("warming_up");
        try {
          const results = await api(`/api/routes/warmup?provider=${name}`, { method: "POST" });
          outcome.textContent = results.length
            ? results
                .map(
                  (r) =>
                    `${r.slot_id} · ${r.route_key}: ${t(`outcome_${r.outcome}`)}${r.failure_code ? ` (${reason(r.failure_code)})` : ""}, ${duration(r.latency_ms)}`,
                )
                .join("; ")
            : t("key_test_no_slot", { provider: name });
        } catch (exc) {
          outcome.textContent = exc.message;
        } finally {
          test.disabled = false;
        }
      },
    },
    t("test"),
  );
  const box = h("div", { id: `key-box-${name}` });
  /** Draw the key's state (after a save too: no reload needed); a key stored in the database can be removed. */
  const draw = (/** @type {any} */ view) => {
    const state = view.configured ? `${t("configured")} (…${view.last4.join(", …")})` : t("not_configured");
    const remove =
      view.configured && view.source !== "environment"
        ? h(
            "button",
            {
              type: "button",
              class: "danger",
              id: `remove-key-${name}`,
              onclick: async () => {
                if (!confirm(t("confirm_remove_key", { provider: name }))) return;
                const updated = await onSave({ provider_keys: { [name]: "" } });
                if (updated) draw(updated.provider_keys[name]);
              },
            },
            t("remove_key"),
          )
        : null;
    box.replaceChildren(field(`${name}: ${state}`, input), h("div", { class: "row" }, test, remove, outcome));
  };
  draw(key);
  return { element: box, draw };
}

export async function render(main) {
  const current = await api("/api/settings");
  let dirty = false;
  const mark = () => {
    dirty = true;
  };
  const password = h("input", {
    id: "ingest_password",
    type: "password",
    value: current.ingest_password,
    readonly: true,
  });
  const deadline = h("input", {
    id: "sync_response_seconds",
    type: "range",
    min: 10,
    max: 60,
    value: current.sync_response_seconds,
    oninput: () => {
      out.textContent = `${deadline.value} ${t("s")}`;
      mark();
    },
  });
  const out = h("output", { for: "sync_response_seconds" }, `${current.sync_response_seconds} ${t("s")}`);
  const ttl = h("input", {
    id: "result_ttl_hours",
    type: "number",
    min: 1,
    max: 720,
    value: current.result_ttl_hours,
    oninput: mark,
  });
  const slotLimit = h("input", {
    id: "slot_max_in_flight",
    type: "number",
    min: 1,
    max: 64,
    value: current.slot_max_in_flight,
    oninput: mark,
  });
  const providerLimit = h("input", {
    id: "provider_max_in_flight",
    type: "number",
    min: 1,
    max: 256,
    value: current.provider_max_in_flight,
    oninput: mark,
  });
  const webhook = h("input", {
    id: "alert_webhook_url",
    type: "url",
    placeholder: "https://",
    value: current.alert_webhook_url || "",
    oninput: mark,
  });
  const spendCap = h("input", {
    id: "daily_spend_cap_usd",
    type: "number",
    min: 0,
    step: "0.01",
    placeholder: t("no_cap"),
    value: current.daily_spend_cap_usd ?? "",
    oninput: mark,
  });
  const spendWarning = h("input", {
    id: "spend_warning_percent",
    type: "number",
    min: 1,
    max: 100,
    value: current.spend_warning_percent,
    oninput: mark,
  });
  const modelPrices = h(
    "textarea",
    {
      id: "model_prices",
      rows: 3,
      class: "mono",
      spellcheck: "false",
      placeholder: '{"gemini-2.5-flash-image": [0.30, 0.30, 30.0]}',
      oninput: mark,
    },
    current.model_prices ? JSON.stringify(current.model_prices) : "",
  );
  const photoWebhook = h("input", {
    id: "photo_webhook_url",
    type: "url",
    placeholder: "https://",
    value: current.photo_webhook_url || "",
    oninput: mark,
  });
  const keyInputs = Object.entries(current.provider_keys).map(([name, key]) => [
    name,
    h("input", { id: `key-${name}`, type: "password", autocomplete: "off", placeholder: t("new_key"), oninput: mark }),
    key,
  ]);
  const report = h("p", { role: "status", id: "cleanup-report" });

  async function save(change) {
    try {
      const updated = await api("/api/settings", { method: "PUT", json: change });
      dirty = false;
      toast(t("saved"));
      return updated;
    } catch (exc) {
      toast(exc.message, "error");
      return null;
    }
  }

  const keyFields = keyInputs.map(([name, input, key]) => keyField(name, input, key, save));
  main.append(
    h("h1", {}, t("settings")),
    h(
      "div",
      { class: "form" },
      h(
        "section",
        { class: "card" },
        h("h2", {}, t("ingest_password")),
        field(
          t("ingest_password"),
          password,
          current.ingest_password_updated_at
            ? `${when(current.ingest_password_updated_at)} · ${current.ingest_password_updated_by || ""}`
            : null,
        ),
        h(
          "div",
          { class: "row" },
          h(
            "button",
            {
              type: "button",
              onclick: (e) => {
                password.type = password.type === "password" ? "text" : "password";
                e.target.textContent = password.type === "password" ? t("show") : t("hide");
              },
            },
            t("show"),
          ),
          h(
            "button",
            {
              type: "button",
              onclick: async () => {
                await copy(password.value);
                toast(t("copied"));
              },
            },
            t("copy"),
          ),
          h(
            "button",
            {
              type: "button",
              class: "danger",
              id: "rotate",
              onclick: async () => {
                if (!confirm(t("rotate_confirm"))) return;
                const fresh = Array.from(crypto.getRandomValues(new Uint8Array(9)), (b) =>
                  b.toString(36).padStart(2, "0"),
                )
                  .join("")
                  .slice(0, 16);
                const updated = await save({ ingest_password: fresh });
                if (updated) {
                  password.value = updated.ingest_password;
                }
              },
            },
            t("rotate"),
          ),
        ),
      ),
      h(
        "section",
        { class: "card" },
        h("h2", {}, t("deadline")),
        field(t("deadline"), deadline),
        out,
        field(t("ttl"), ttl),
        h("h2", {}, t("concurrency")),
        field(t("slot_limit"), slotLimit),
        field(t("provider_limit"), providerLimit),
        h("h2", {}, t("spend_cap")),
        field(t("daily_spend_cap_usd"), spendCap, t("spend_cap_hint")),
        field(t("spend_warning_percent"), spendWarning),
        field(t("model_prices"), modelPrices, t("model_prices_hint")),
        h("h2", {}, t("alerts")),
        field(t("alert_webhook_url"), webhook, t("alert_webhook_hint")),
        field(t("photo_webhook_url"), photoWebhook, t("photo_webhook_hint")),
        h("h2", {}, t("provider_keys")),
        keyFields.map((each) => each.element),
        h(
          "button",
          {
            class: "primary",
            type: "button",
            id: "save-settings",
            onclick: async () => {
              const change = {
                sync_response_seconds: Number(deadline.value),
                result_ttl_hours: Number(ttl.value),
                slot_max_in_flight: Number(slotLimit.value),
                provider_max_in_flight: Number(providerLimit.value),
                alert_webhook_url: webhook.value.trim(),
                photo_webhook_url: photoWebhook.value.trim(),
                daily_spend_cap_usd: spendCap.value === "" ? null : Number(spendCap.value),
                spend_warning_percent: Number(spendWarning.value),
                model_prices: modelPrices.value.trim() ? parsePrices(modelPrices.value) : null,
              };
              const keys = Object.fromEntries(
                keyInputs.filter(([, input]) => input.value.trim()).map(([name, input]) => [name, input.value.trim()]),
              );
              if (Object.keys(keys).length) change.provider_keys = keys;
              const updated = await save(change);
              if (updated) {
                keyInputs.forEach(([, input]) => {
                  input.value = "";
                });
                for (const [i, each] of keyFields.entries()) each.draw(updated.provider_keys[keyInputs[i][0]]); // at once
              }
            },
          },
          t("save"),
        ),
      ),
      webhookSection(current),
      h(
        "section",
        { class: "card" },
        h("h2", {}, t("cleanup")),
        h(
          "button",
          {
            type: "button",
            id: "cleanup",
            onclick: async () => {
              const r = await api("/api/media/cleanup", { method: "POST" });
              report.textContent = t("cleanup_report", {
                files: r.files,
                mb: (r.bytes / 1048576).toFixed(1),
                jobs: r.jobs,
              });
            },
          },
          t("cleanup"),
        ),
        report,
      ),
    ),
  );
  return { dirty: () => dirty };
}

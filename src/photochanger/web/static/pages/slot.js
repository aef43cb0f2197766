// @ts-check
// Slot editor: fields follow the provider; templates by drag and drop; a test run from a photo.
import { api, authorisedImage } from "../api.js";
import { field, h, toast } from "../dom.js";
import { duration, failureClass, lang, outcome, reason, slotName, t, tOr } from "../i18n.js";

// The provider catalogue (GET /api/providers): each provider's settings as JSON Schema; the
// fields below are built from it, and the server validates again on save.
let CATALOGUE = {};
const LABELS = {
  look: "look",
  overlay: "overlay",
  background: "background",
  aspect_ratio: "aspect_ratio",
  image_size: "image_size",
  quality: "quality",
  method: "method",
  strength: "strength",
  model: "model",
};

// What input a JSON Schema property becomes: a select for enums (with "default" when optional),
// a checkbox for booleans, a number input for numbers, else text.
function fieldSpec(prop) {
  const variants = prop.anyOf || [prop];
  const optional = variants.some((v) => v.type === "null");
  const main = variants.find((v) => v.type !== "null") || {};
  if (main.enum) return { kind: "select", options: [...(optional ? [""] : []), ...main.enum] };
  if (main.type === "boolean") return { kind: "checkbox" };
  if (main.type === "number" || main.type === "integer")
    return { kind: "number", min: main.minimum, max: main.maximum };
  return { kind: "text" };
}

function settingInputs(provider, values, prefix = "setting") {
  const schema = CATALOGUE[provider]?.settings_schema || { properties: {} };
  const entries = Object.entries(schema.properties); // the shared per-attempt cap goes last
  entries.sort(([a], [b]) => Number(a === "attempt_timeout_seconds") - Number(b === "attempt_timeout_seconds"));
  return entries.map(([name, prop]) => {
    const id = `${prefix}-${name}`;
    const spec = fieldSpec(prop);
    let input;
    if (spec.kind === "select") {
      const current = String(values[name] ?? prop.default ?? "");
      input = h(
        "select",
        { id, name },
        spec.options.map((o) =>
          h("option", { value: o, selected: current === o }, o ? tOr(`${name}_${o}`, o) : `— ${t("default")} —`),
        ),
      );
    } else if (spec.kind === "checkbox") {
      input = h("input", { id, name, type: "checkbox", checked: values[name] ?? prop.default ?? false });
    } else {
      input = h("input", {
        id,
        name,
        type: spec.kind,
        value: values[name] ?? "",
        step: "any",
        min: spec.min,
        max: spec.max,
        placeholder: prop.default ?? "",
      });
    }
    input.dataset.kind = spec.kind;
    const label = LABELS[name] ? t(LABELS[name]) : tOr(`setting_${name}`, name.replaceAll("_", " "));
    const missing = CATALOGUE[provider]?.unavailable_settings?.[name];
    if (missing) {
      input.disabled = true; // needs an optional extra that is not installed: shown, not offered
      return field(label, input, t("needs_local_ai"));
    }
    return field(label, input, tOr(`hint_${name}`, lang === "en" ? prop.description : null));
  });
}

function readSettings(box) {
  const settings = {};
  for (const input of box.querySelectorAll("[data-kind]")) {
    if (input.dataset.kind === "checkbox") settings[input.name] = input.checked;
    else if (input.value !== "")
      settings[input.name] = input.dataset.kind === "number" ? Number(input.value) : input.value;
  }
  return settings;
}

export async function render(main, slotId) {
  const [slot, providers, settings] = await Promise.all([
    api(`/api/slots/${slotId}`),
    api("/api/providers"),
    api("/api/settings"),
  ]);
  CATALOGUE = Object.fromEntries(providers.map((p) => [p.name, p]));
  let version = slot.version;
  const name = h("input", { id: "display_name", value: slot.display_name });
  const active = h("input", { id: "is_active", type: "checkbox", checked: slot.is_active });
  const provider = h(
    "select",
    { id: "provider" },
    Object.keys(CATALOGUE).map((p) => h("option", { value: p, selected: p === slot.provider }, p)),
  );
  const prompt = h("textarea", { id: "prompt" }, slot.prompt);
  const settingsBox = h("div", { id: "provider-settings" }, settingInputs(slot.provider, slot.settings));
  const keyNote = h("p", { class: "field-error", id: "key-missing" });
  const keyCheck = () => {
    // a provider without a key fails every photo: say so, and where to add one
    const needs = CATALOGUE[provider.value]?.key_variable && !settings.provider_keys?.[provider.value]?.configured;
    keyNote.replaceChildren(
      ...(needs
        ? [t("key_missing", { provider: provider.value }), " ", h("a", { href: "#/settings" }, t("settings"))]
        : []),
    );
  };
  provider.addEventListener("change", keyCheck);
  keyCheck();
  const promptNeeded = () => {
    prompt.closest(".field")?.toggleAttribute("hidden", provider.value === "local");
  };
  provider.addEventListener("change", () => {
    settingsBox.replaceChildren(...settingInputs(provider.value, {}));
    promptNeeded();
  });
  const peopleCheck = h(
    "select",
    { id: "people_check" },
    ["auto", "on", "off"].map((v) =>
      h(
        "option",
        {
          value: v,
          selected: v === (slot.people_check || "auto"),
          disabled: v === "on" && !slot.people_check_available,
        },
        t(`people_${v}`),
      ),
    ),
  );
  const tolerance = h("input", {
    id: "people_tolerance",
    type: "number",
    min: 0,
    max: 5,
    value: slot.people_tolerance ?? 0,
  });
  const lateMinutes = h("input", {
    id: "late_delivery_minutes",
    type: "number",
    min: 0,
    max: 60,
    value: slot.late_delivery_minutes ?? 0,
  });
  const slotCap = h("input", {
    id: "slot_daily_spend_cap_usd",
    type: "number",
    min: 0,
    step: "0.01",
    placeholder: t("no_cap"),
    value: slot.daily_spend_cap_usd ?? "",
  });
  const fieldsHint = t("prompt_fields", { fields: (slot.booth_fields || []).map((f) => `{${f}}`).join(", ") });
  const hedging = h(
    "select",
    { id: "hedging" },
    ["auto", "on", "off"].map((v) =>
      h("option", { value: v, selected: v === (slot.hedging || "auto") }, t(`hedging_${v}`)),
    ),
  );
  const hedgeCost = h("p", { class: "muted", id: "hedge-cost" });
  api("/api/stats/overview?window=24h")
    .then((o) => {
      const st = o.slots[slotId];
      if (st)
        hedgeCost.textContent = t("hedge_cost", { n: st.hedges_lost, usd: st.estimated_hedge_cost_usd.toFixed(3) });
    })
    .catch(() => {});
  const onFailure = h(
    "select",
    { id: "on_failure" },
    ["error", "original"].map((v) => h("option", { value: v, selected: v === slot.on_failure }, t(`on_failure_${v}`))),
  );
  const uploadLimit = h("input", {
    id: "upload_limit_bytes",
    type: "number",
    min: 1,
    step: "any",
    value: slot.upload_limit_bytes ? slot.upload_limit_bytes / 1048576 : "",
  });
  const inFlight = h("input", {
    id: "max_in_flight",
    type: "number",
    min: 1,
    max: 64,
    value: slot.max_in_flight ?? "",
    placeholder: `${t("default")}: ${settings.slot_max_in_flight}`,
  });
  const fallbacks = h("div", { id: "fallbacks" });
  let fallbackCount = 0;
  const addFallback = (route = { provider: "local", settings: {} }) => {
    // a form per route: provider, its prompt and settings
    const n = ++fallbackCount;
    const kind = h(
      "select",
      { id: `fallback-${n}-provider` },
      Object.keys(CATALOGUE).map((p) => h("option", { value: p, selected: p === route.provider }, p)),
    );
    const routePrompt = h(
      "textarea",
      { id: `fallback-${n}-prompt`, rows: 2, placeholder: t("prompt") },
      route.prompt || "",
    );
    const promptField = field(t("prompt"), routePrompt);
    const box = h(
      "div",
      { class: "fallback-settings" },
      settingInputs(route.provider, route.settings || {}, `fallback-${n}`),
    );
    const showPrompt = () => {
      promptField.hidden = kind.value === "local";
    }; // local takes no prompt
    kind.addEventListener("change", () => {
      box.replaceChildren(...settingInputs(kind.value, {}, `fallback-${n}`));
      showPrompt();
    });
    showPrompt();
    const row = h(
      "fieldset",
      { class: "card fallback" },
      h("legend", {}, t("fallback_n", { n })),
      field(t("provider"), kind),
      promptField,
      box,
      h("button", { type: "button", onclick: () => row.remove() }, t("remove")),
    );
    row.read = () => {
      const read = { provider: kind.value, settings: readSettings(box) };
      if (kind.value !== "local" && routePrompt.value.trim()) read.prompt = routePrompt.value;
      return read;
    };
    fallbacks.append(row);
  };
  (slot.fallbacks || []).forEach(addFallback);
  const general = h("p", { class: "field-error", role: "alert", id: "form-error" });

  const payload = () => {
    const change = {
      display_name: name.value,
      is_active: active.checked,
      provider: provider.value,
      prompt: prompt.value,
      settings: readSettings(settingsBox),
      on_failure: onFailure.value,
      hedging: hedging.value,
      people_check: peopleCheck.value,
      people_tolerance: Number(tolerance.value || 0),
      late_delivery_minutes: Number(lateMinutes.value || 0),
      daily_spend_cap_usd: slotCap.value === "" ? null : Number(slotCap.value),
      upload_limit_bytes: uploadLimit.value ? Math.round(Number(uploadLimit.value) * 1048576) : null,
      max_in_flight: inFlight.value ? Number(inFlight.value) : null,
    };
    change.fallbacks = [...fallbacks.querySelectorAll(".fallback")].map((row) => row.read());
    return change;
  };
  let saved = JSON.stringify(payload());

  /** Show ``detail`` under the field the server's ``problem`` names (else above the form). */
  function showErrors(detail, problem = null) {
    main.querySelectorAll(".field-error").forEach((e) => {
      e.textContent = "";
    });
    const target = problem?.fallback
      ? null
      : problem?.code === "prompt_required" || problem?.code === "unknown_prompt_fields"
        ? "prompt"
        : problem?.problems?.[0]?.field;
    const box =
      target && (document.getElementById(`${target}-error`) || document.getElementById(`setting-${target}-error`));
    (box || general).textContent = detail;
  }

  const saveButton = h("button", { class: "primary", type: "submit", id: "save-slot" }, t("save"));
  const heading = h("h1", {}, `${slotName(slot.display_name)} (${slot.id})`);
  const form = h(
    "form",
    {
      class: "form card",
      onsubmit: async (event) => {
        event.preventDefault();
        let change;
        try {
          change = payload();
        } catch (exc) {
          showErrors(exc.message);
          return;
        }
        try {
          const updated = await api(`/api/slots/${slotId}`, {
            method: "PUT",
            json: change,
            headers: { "If-Match": `"${version}"` },
          });
          version = updated.version;
          saved = JSON.stringify(payload());
          heading.textContent = `${slotName(updated.display_name)} (${slotId})`; // a rename shows at once
          showErrors("");
          toast(t("saved"));
        } catch (exc) {
          showErrors(exc.status === 412 ? t("conflict") : exc.message, exc.body?.problem);
        }
      },
    },
    field(t("name"), name),
    h("div", { class: "field row" }, active, h("label", { for: "is_active" }, t("active"))),
    field(t("provider"), provider),
    keyNote,
    field(t("prompt"), prompt, fieldsHint),
    h("h2", {}, t("settings_hint")),
    settingsBox,
    h("h2", {}, t("fallbacks")),
    fallbacks,
    h("button", { type: "button", onclick: () => addFallback() }, t("add_fallback")),
    field(t("people_check"), peopleCheck, slot.people_check_available ? t("people_hint") : t("people_unavailable")),
    field(t("people_tolerance"), tolerance),
    field(t("hedging"), hedging, t("hedging_hint")),
    hedgeCost,
    field(t("on_failure"), onFailure),
    field(t("late_delivery_minutes"), lateMinutes, t("late_delivery_hint")),
    field(t("slot_spend_cap"), slotCap, t("slot_spend_cap_hint")),
    field(t("upload_limit"), uploadLimit),
    field(t("max_in_flight"), inFlight),
    general,
    saveButton,
  );

  promptNeeded();
  const recent = h("div", { id: "recent-results" }, recentSection(slot.recent_results));
  /** After a test run: the slot's recent results again (the new one among them). */
  const refreshRecent = async () => {
    try {
      recent.replaceChildren(recentSection((await api(`/api/slots/${slotId}`)).recent_results));
    } catch {
      /* the next visit shows them */
    }
  };
  main.append(
    heading,
    h("p", {}, h("code", {}, slot.ingest_url)),
    form,
    templatesSection(slotId, slot.templates),
    testSection(slotId, payload, refreshRecent),
    recent,
  );
  return {
    dirty: () =>
      JSON.stringify(
        (() => {
          try {
            return payload();
          } catch {
            return null;
          }
        })(),
      ) !== saved,
  };
}

/** The pixel size of this slot's last booth photo, or null (none yet). */
async function lastBoothPhoto(slotId) {
  const page = await api(`/api/jobs?slot_id=${slotId}&source=ingest&limit=1`);
  if (!page.items.length) return null;
  const job = await api(`/api/jobs/${page.items[0].id}`);
  return job.input_width && job.input_height ? [job.input_width, job.input_height] : null;
}

function templatesSection(slotId, templates) {
  const list = h("div", { class: "templates", id: "templates" });
  const photo = lastBoothPhoto(slotId).catch(() => null);
  const role = h(
    "select",
    { id: "template-role" },
    ["template", "background", "style", "face"].map((r) => h("option", { value: r }, t(`role_${r}`))),
  );
  const show = async (tpl) => {
    const img = h("img", { class: "thumb whole", alt: `${tpl.role} ${tpl.width}×${tpl.height}` }); // whole, on a checkerboard
    authorisedImage(`/api/slots/${slotId}/templates/${tpl.id}`).then((url) => {
      img.src = url;
    });
    const warning = h("p", { class: "field-error aspect-warning" });
    photo.then((size) => {
      // a frame of other proportions than the booth's photos is cropped to or extended
      if (tpl.role !== "template" || !size) return;
      const [w, h2] = size;
      if (Math.abs(tpl.width / tpl.height - w / h2) / (w / h2) > 0.03) {
        warning.textContent = t("aspect_differs", { frame: `${tpl.width}×${tpl.height}`, photo: `${w}×${h2}` });
      }
    });
    const item = h(
      "figure",
      { class: "card", dataset: { template: tpl.id } },
      img,
      h("figcaption", { class: "muted" }, `${t(`role_${tpl.role}`)} · ${tpl.width}×${tpl.height}`),
      warning,
      h(
        "button",
        {
          type: "button",
          class: "danger",
          onclick: async () => {
            if (!confirm(t("confirm_remove_template"))) return;
            await api(`/api/slots/${slotId}/templates/${tpl.id}`, { method: "DELETE" });
            item.remove();
          },
        },
        t("remove"),
      ),
    );
    list.append(item);
  };
  templates.forEach(show);
  const upload = async (files) => {
    for (const file of files) {
      const form = new FormData();
      form.append("file", file);
      form.append("role", role.value);
      try {
        await show(await api(`/api/slots/${slotId}/templates`, { method: "POST", form }));
      } catch (exc) {
        toast(exc.message, "error");
      }
    }
  };
  const picker = h("input", {
    type: "file",
    id: "template-file",
    accept: "image/jpeg,image/png,image/webp",
    multiple: true,
    onchange: () => upload(picker.files),
  });
  const zone = h(
    "div",
    {
      class: "dropzone",
      id: "dropzone",
      ondragover: (e) => {
        e.preventDefault();
        zone.classList.add("over");
      },
      ondragleave: () => zone.classList.remove("over"),
      ondrop: (e) => {
        e.preventDefault();
        zone.classList.remove("over");
        upload(e.dataTransfer.files);
      },
    },
    h("p", {}, t("drop_here")),
    field(t("role"), role),
    field(t("templates"), picker),
  );
  return h("section", { class: "card" }, h("h2", {}, t("templates")), zone, list);
}

function testSection(slotId, payload, onTested = async () => {}) {
  const photo = h("input", { type: "file", id: "test-file", accept: "image/*" });
  const camera = h("input", { type: "file", id: "test-camera", accept: "image/*", capture: "environment" });
  const progress = h("p", { role: "status", id: "test-progress" });
  const output = h("div", { id: "test-output" });
  const samples = h("textarea", {
    id: "sample-fields",
    rows: 2,
    class: "mono",
    placeholder: "name=Anna\nteam=Spartak",
  });
  const run = h(
    "button",
    {
      class: "primary",
      type: "button",
      id: "run-test",
      onclick: async () => {
        const file = photo.files[0] || camera.files[0];
        if (!file) {
          photo.focus();
          return;
        }
        const form = new FormData();
        form.append("test_image", file);
        try {
          form.append("slot_payload", JSON.stringify(payload()));
        } catch {
          /* unsaved JSON error: test the saved slot */
        }
        const values = Object.fromEntries(
          samples.value
            .split("\n")
            .map((line) => line.split("="))
            .filter((kv) => kv.length > 1 && kv[0].trim())
            .map(([k, ...v]) => [k.trim(), v.join("=").trim()]),
        );
        form.append("sample_fields", JSON.stringify(values));
        run.disabled = true;
        output.replaceChildren();
        const started = Date.now();
        const tick = setInterval(() => {
          progress.textContent = t("running", { s: Math.round((Date.now() - started) / 1000) });
        }, 250);
        try {
          const result = await api(`/api/slots/${slotId}/test-run`, { method: "POST", form });
          output.append(
            h(
              "div",
              { class: "side-by-side" },
              h(
                "figure",
                {},
                h("img", { src: URL.createObjectURL(file), alt: t("original") }),
                h("figcaption", {}, t("original")),
              ),
              h(
                "figure",
                {},
                h("img", { src: result.result_url, alt: t("result"), id: "test-result" }),
                h("figcaption", {}, t("result")),
              ),
            ),
            h(
              "p",
              {},
              `${t("duration")}: ${duration(result.duration_ms)} · ${t("attempts")}: `,
              result.attempts
                .map(
                  (a) =>
                    `${a.provider}${a.model ? `/${a.model}` : ""} ${outcome(a.outcome)}${a.failure_class ? ` · ${failureClass(a.failure_class, null)}` : ""} (${duration(a.latency_ms)}${a.faces_expected == null ? "" : `, ${t("faces")} ${a.faces_expected} → ${a.faces_found}`})`,
                )
                .join(", "),
            ),
          );
          await onTested();
        } catch (exc) {
          output.append(
            h(
              "p",
              { class: "field-error", role: "alert" },
              `${exc.body?.failure_reason ? reason(exc.body.failure_reason) : t("error")}: ${exc.message}`,
            ),
          );
        } finally {
          clearInterval(tick);
          progress.textContent = "";
          run.disabled = false;
        }
      },
    },
    t("run_test"),
  );
  return h(
    "section",
    { class: "card" },
    h("h2", {}, t("test")),
    field(t("test_photo"), photo),
    field(t("camera"), camera),
    field(t("sample_fields"), samples, t("sample_fields_hint")),
    run,
    progress,
    output,
  );
}

function recentSection(results) {
  return h(
    "section",
    { class: "card" },
    h("h2", {}, t("recent_results")),
    results.length
      ? h(
          "div",
          { class: "templates" },
          results.map((job) =>
            h(
              "figure",
              { class: "card" },
              h(
                "a",
                { href: job.result_url, target: "_blank", rel: "noopener" },
                h("img", { class: "thumb", src: job.thumbnail_url, alt: t("result"), loading: "lazy" }),
              ),
              h(
                "div",
                { class: "row" },
                h("a", { href: `/r/${job.id}`, target: "_blank", rel: "noopener" }, t("open")),
                h("a", { href: `${job.result_url}?download=1` }, t("download")),
                h(
                  "button",
                  {
                    type: "button",
                    class: "rerun",
                    onclick: async (event) => {
                      const button = event.currentTarget;
                      button.disabled = true;
                      try {
                        const again = await api(`/api/jobs/${job.id}/rerun`, { method: "POST" });
                        const card = button.closest("figure");
                        card.before(
                          h(
                            "figure",
                            { class: "card rerun-result" },
                            h(
                              "a",
                              { href: `/r/${again.job_id}`, target: "_blank", rel: "noopener" },
                              h("img", {
                                class: "thumb",
                                src: again.thumbnail_url || again.result_url,
                                alt: t("result"),
                              }),
                            ),
                            h("figcaption", { class: "muted" }, t("rerun_done")),
                          ),
                        );
                        toast(t("rerun_done"));
                      } catch (exc) {
                        toast(exc.message, "error");
                      } finally {
                        button.disabled = false;
                      }
                    },
                  },
                  t("rerun"),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("no_results")),
  );
}

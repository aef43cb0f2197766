// @ts-check
// English and Russian texts (one file per language in i18n/); the language follows the browser and can be
// switched (saved locally).
import en from "./i18n/en.js";
import ru from "./i18n/ru.js";

const TEXTS = { en, ru };

const KEY = "photochanger.lang";
export let lang = localStorage.getItem(KEY) || (navigator.language || "en").slice(0, 2);
if (!TEXTS[lang]) lang = "en";

export function t(key, values = {}) {
  const text = TEXTS[lang][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
}

/** The text of ``key`` in the current language (English when only that exists), else ``fallback``. */
export function tOr(key, fallback) {
  return key in TEXTS[lang] || key in TEXTS.en ? t(key) : fallback;
}

const VALIDATION = [
  [/greater than or equal to (\S+)/, "v_ge"],
  [/less than or equal to (\S+)/, "v_le"],
  [/greater than (\S+)/, "v_gt"],
  [/less than (\S+)/, "v_lt"],
  [/Field required/, "v_required"],
  [/valid integer/, "v_int"],
  [/valid number/, "v_number"],
  [/at most \d+ character/, "v_long"],
  [/at least \d+ character/, "v_short"],
  [/Input should be '/, "v_choice"],
  [/must be an http:\/\/ or https:\/\/ URL/, "v_url"],
  [/String should match pattern/, "v_pattern"],
];

/** An API error as a sentence for people: a known failure_reason in words; each
 * "body.field: pydantic message" of a 422 as "Field label must be at least 1" (the server's own
 * words when no rule matches). */
export function humanError(status, body) {
  const detail = body?.detail || `HTTP ${status}`;
  if (body?.problem?.code) return problemText(body.problem) ?? detail;
  if (body?.failure_reason !== "invalid_request" && body?.failure_reason !== "invalid_settings") {
    const words = body?.failure_reason ? reason(body.failure_reason) : "";
    return words && words !== body.failure_reason ? `${words[0].toUpperCase()}${words.slice(1)}.` : detail;
  }
  return detail
    .split("; ")
    .map((problem) => {
      const match = problem.match(/^(?:body|query|path)\.([\w.]+): (.*)$/);
      if (!match) return problem;
      const name = match[1].split(".").pop();
      const label = tOr(`field_${name}`, name.replaceAll("_", " "));
      for (const [pattern, key] of VALIDATION) {
        const found = match[2].match(pattern);
        if (found) return `${label}: ${t(key, { n: found[1] ?? "" })}`;
      }
      return `${label}: ${match[2]}`;
    })
    .join("; ");
}

/** A slot's invalid settings (``problem``: a stable code and its values) in the current language;
 * null for a code this page does not know (the server's English then). */
function problemText(problem) {
  const prefix = problem.fallback ? t("problem_fallback", { n: problem.fallback }) : "";
  const list = (values) => (values || []).join(", ");
  const key = `problem_${problem.code}`;
  if (!(key in TEXTS.en)) return null;
  if (problem.code === "invalid_values") {
    const each = (problem.problems || []).map((p) => {
      const label = tOr(`field_${p.field}`, tOr(`setting_${p.field}`, p.field.replaceAll("_", " ")));
      if (p.rule === "unknown") return `${label}: ${t("v_unknown_setting")}`;
      for (const [pattern, rule] of VALIDATION) {
        const found = String(p.message).match(pattern);
        if (found) return `${label}: ${t(rule, { n: found[1] ?? "" })}`;
      }
      return `${label}: ${p.message}`;
    });
    return `${prefix}${t(key, { provider: problem.provider })}: ${each.join("; ")}`;
  }
  return `${prefix}${t(key, {
    provider: problem.provider,
    fields: list((problem.fields || []).map((f) => `{${f}}`)),
    known: list(problem.known),
  })}`;
}

/** The host the page was reached on when it is a loopback address (links built from it will not
 * open on a guest's phone), else null. */
export function loopbackHost(url = location.href) {
  const host = new URL(url).hostname;
  return ["127.0.0.1", "localhost", "[::1]", "::1"].includes(host) || host.startsWith("127.") ? host : null;
}

/** An attempt's failure class and code (``server_error``, ``connection_error``) in words: the
 * class translated, the provider's own code kept as it came (the code itself when unknown). */
export function failureClass(kind, code) {
  const words = kind ? (TEXTS[lang][`class_${kind}`] ?? TEXTS.en[`class_${kind}`] ?? kind) : "";
  return [words, code && code !== kind ? `(${code})` : ""].filter(Boolean).join(" ");
}

/** A slot's name as shown: the seeded "Slot 7" in the current language, any other name as given. */
export function slotName(displayName) {
  const seeded = /^Slot (\d+)$/.exec(displayName || "");
  return seeded ? t("slot_n", { n: seeded[1] }) : displayName;
}

/** An attempt's outcome (``success``, ``failed``…) in words. */
export function outcome(value) {
  return value ? (TEXTS[lang][`outcome_${value}`] ?? TEXTS.en[`outcome_${value}`] ?? value) : "";
}

/** A failure_reason as a sentence in the current language (the code itself when unknown). */
export function reason(code) {
  return code ? (TEXTS[lang][`reason_${code}`] ?? TEXTS.en[`reason_${code}`] ?? code) : "";
}

/** Milliseconds as "850 ms" / "2.4 s" (units and decimal mark of the current language). */
export function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  const number = (value, digits) => value.toLocaleString(locale(), { maximumFractionDigits: digits });
  return ms < 1000 ? `${number(ms, 0)} ${t("ms")}` : `${number(ms / 1000, 1)} ${t("s")}`;
}

/** The BCP 47 locale for dates and numbers of the current language. */
export function locale() {
  if (lang === "ru") return "ru-RU";
  // English dates and numbers in the browser's own region (en-US: 12/2/2026, en-GB: 02/12/2026)
  const english = (navigator.languages || [navigator.language]).find((tag) => /^en-/i.test(tag));
  return english || "en-GB";
}

export function setLang(value) {
  lang = TEXTS[value] ? value : "en";
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang;
}

export const LANGUAGES = { en: "English", ru: "Русский" };
document.documentElement.lang = lang;

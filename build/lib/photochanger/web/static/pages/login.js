// @ts-check
// Login: wrong password and throttling (with the wait) are shown next to the form.
import { ApiError, api, auth } from "../api.js";
import { field, h } from "../dom.js";
import { t } from "../i18n.js";

export function render(main) {
  const user = h("input", { name: "username", autocomplete: "username", required: true });
  const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "field-error", role: "alert", id: "login-error" });
  const button = h("button", { class: "primary", type: "submit" }, t("login"));
  const form = h(
    "form",
    {
      class: "card login",
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        error.textContent = "";
        try {
          const body = await api("/api/login", {
            method: "POST",
            json: { username: user.value, password: pass.value },
          });
          auth.token = body.access_token;
          location.hash = "#/dashboard";
        } catch (exc) {
          const wait = exc instanceof ApiError ? exc.headers?.get("Retry-After") : null;
          error.textContent = exc.status === 429 ? t("throttled", { s: wait || "?" }) : t("wrong_login");
          button.disabled = false;
          pass.select();
        }
      },
    },
    h("h1", {}, t("login")),
    field(t("username"), user),
    field(t("password"), pass),
    error,
    button,
  );
  main.append(form);
  user.focus();
}

// @ts-check
import { humanError } from "./i18n.js";

// JSON API client: bearer token in localStorage (every tab of the admin shares the session; logging
// out in one tab logs out all), errors as ApiError with the server's body.
const TOKEN = "photochanger.token";

export class ApiError extends Error {
  constructor(status, body, headers) {
    super(humanError(status, body));
    this.status = status;
    this.body = body || {};
    this.headers = headers;
  }
}

export const auth = {
  get token() {
    return localStorage.getItem(TOKEN);
  },
  set token(value) {
    value ? localStorage.setItem(TOKEN, value) : localStorage.removeItem(TOKEN);
  },
};

window.addEventListener("storage", (event) => {
  // another tab logged in or out
  if (event.key === TOKEN && !event.newValue) location.hash = "#/login";
});

/**
 * One call to the JSON API. Resolves to the parsed JSON body (the ``Response`` itself with ``raw``);
 * rejects with an {@link ApiError} for an error status (401 also ends the session).
 * @param {string} path
 * @param {{method?: string, json?: unknown, form?: FormData, headers?: Record<string, string>, raw?: boolean}} [request]
 * @returns {Promise<any>}
 */
export async function api(path, { method = "GET", json, form, headers = {}, raw = false } = {}) {
  /** @type {RequestInit & {headers: Record<string, string>}} */
  const options = { method, headers: { ...headers } };
  if (auth.token) options.headers.Authorization = `Bearer ${auth.token}`;
  if (json !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(json);
  }
  if (form) options.body = form;
  const response = await fetch(path, options);
  if (response.status === 401 && !path.endsWith("/login")) {
    auth.token = null;
    location.hash = "#/login";
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, body, response.headers);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

// Images behind the bearer token (originals, templates) become object URLs.
export async function authorisedImage(path) {
  const response = await api(path, { raw: true });
  return URL.createObjectURL(await response.blob());
}

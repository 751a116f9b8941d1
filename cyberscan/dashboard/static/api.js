// The admin REST API client: same-origin fetch with the HttpOnly session cookie;
// state-changing calls carry the CSRF header of flask-jwt-extended's double submit.
// While the admin is active the session slides (keepAlive), so it ends only when idle.

import { SESSION_ENDED } from "./session-keys.js";

export const LOGIN_URL = "/admin/login";

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrf_access_token=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export function api(path, options) {
  options = options || {};
  const method = options.method || "GET";
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRF-TOKEN"] = csrfToken();
  }
  const sent = fetch(path, {
    method: method,
    credentials: "same-origin",
    headers: headers,
    body: method === "GET" ? undefined : JSON.stringify(options.body || {}),
  }).catch(function () {
    // The browser's own words ("Failed to fetch") tell a moderator nothing.
    throw new Error("The server cannot be reached. Check the connection and try again.");
  });
  return sent.then(function (response) {
    if (response.status === 401) {
      // Before the page goes: the login form says why, and an unfinished action is kept
      // (actions.js listens), so nothing typed is lost without a word.
      try {
        sessionStorage.setItem(SESSION_ENDED, "1");
      } catch (error) {
        // Storage refused: the login form just asks to log in.
      }
      window.dispatchEvent(new Event("cyberscan:session-ended"));
      window.location.assign(LOGIN_URL);
      throw new Error("Your session has ended; log in again.");
    }
    return response.json().then(
      function (data) {
        if (!response.ok) {
          throw new Error((data && data.message) || "Request failed (" + response.status + ").");
        }
        return data;
      },
      function () {
        throw new Error("Request failed (" + response.status + ").");
      }
    );
  });
}

export function query(params) {
  const parts = [];
  Object.keys(params).forEach(function (key) {
    const value = params[key];
    if (value !== null && value !== undefined && value !== "") {
      parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(value));
    }
  });
  return parts.length ? "?" + parts.join("&") : "";
}

export function userPath(username, action) {
  return "/api/admin/users/" + encodeURIComponent(username) + "/" + action;
}

// The page's polling alone must not keep a forgotten tab signed in: only the admin's own
// clicks, keys and scrolls renew the session, at most once per `everyMs`.
export function keepAlive(everyMs) {
  let last = Date.now();
  function renew() {
    if (document.visibilityState !== "visible" || Date.now() - last < everyMs) return;
    last = Date.now();
    api("/admin/session", { method: "POST" }).catch(function (error) {
      console.warn("session renewal failed:", error.message);
    });
  }
  ["click", "keydown", "scroll", "pointermove"].forEach(function (type) {
    window.addEventListener(type, renew, { passive: true, capture: true });
  });
}

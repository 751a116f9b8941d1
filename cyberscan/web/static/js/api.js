// REST client for the contract (API.md §1, §2): Bearer tokens, one error shape.
// The refresh token is kept in localStorage so a reload keeps the session; the access
// token lives in memory and is refreshed when it is missing or expired.

const REFRESH_KEY = "cyberscan.refresh";
const USER_KEY = "cyberscan.username";
// Why the last session of this browser ended ("logout" or "ended"), for its other tabs.
const ENDED_KEY = "cyberscan.ended";

export class ApiError extends Error {
  constructor(status, body) {
    const data = body && typeof body === "object" ? body : {};
    super(data.message || `The server answered ${status || "nothing"}.`);
    this.status = status;
    this.code = data.error || (status ? `http_${status}` : "network");
    this.body = data;
  }

  // Extra fields of the error body (e.g. `reason`, `appeal_token` of a blocked login).
  detail(name) {
    if (this.body[name] !== undefined) return this.body[name];
    const errors = this.body.errors;
    return errors && typeof errors === "object" ? errors[name] : undefined;
  }
}

export const session = {
  access: null,
  refresh: localStorage.getItem(REFRESH_KEY),
  username: localStorage.getItem(USER_KEY),

  save(tokens, username) {
    this.access = tokens.access_token || this.access;
    if (tokens.refresh_token) {
      this.refresh = tokens.refresh_token;
      localStorage.setItem(REFRESH_KEY, this.refresh);
    }
    if (username) {
      this.username = username;
      localStorage.setItem(USER_KEY, username);
    }
  },

  // An ended session keeps the name (the login form offers it again); a logout
  // forgets it, so the next person at this browser is not offered it.
  clear(why = "ended") {
    this.access = null;
    this.refresh = null;
    localStorage.setItem(ENDED_KEY, why);
    localStorage.removeItem(REFRESH_KEY);
    if (why === "logout") {
      this.username = null;
      localStorage.removeItem(USER_KEY);
    }
  },
};

const listeners = { ended: () => {}, blocked: () => {}, elsewhere: () => {} };

// `ended(error)`: the session cannot be renewed; `blocked(error)`: the account is blocked;
// `elsewhere(loggedOut)`: another tab of this browser logged out (true) or saw the
// session end (false).
export function onSessionTrouble(handlers) {
  Object.assign(listeners, handlers);
}

// Tabs of one browser share the refresh token: when another tab drops it, this one
// logs out too, at once, and revokes its own tokens (they may be of an older login,
// from before a password change in that tab), rather than chatting on unseen until
// its access token runs out.
window.addEventListener("storage", (event) => {
  if (event.key !== REFRESH_KEY || event.newValue !== null || !session.refresh) return;
  const token = session.access;
  session.access = null;
  session.refresh = null;
  if (token) request("POST", "/api/logout", undefined, token).catch(() => {});
  listeners.elsewhere(localStorage.getItem(ENDED_KEY) === "logout");
});

export async function request(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // Bearer only: never the admin dashboard's cookie, whoever is logged in there.
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, {
      error: "network",
      message: "The server cannot be reached. Check your connection.",
    });
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

let refreshing = null;

// A new access token from the refresh token; one request at a time however many wait.
export function refreshAccess() {
  if (!refreshing) {
    refreshing = (async () => {
      if (!session.refresh) {
        throw new ApiError(401, { error: "unauthorized", message: "Log in to continue." });
      }
      try {
        const data = await request("POST", "/api/token/refresh", undefined, session.refresh);
        session.access = data.access_token;
        return session.access;
      } catch (error) {
        if (error.code === "blocked") listeners.blocked(error);
        else if (error.status === 401) {
          session.clear();
          listeners.ended(error);
        }
        throw error;
      }
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

// An authenticated call; an expired access token is renewed once and the call retried.
// A 401 that names a field (a wrong current password on POST /api/me/password) is the
// answer itself, never a reason to renew and send the same request again.
export async function api(method, path, body) {
  if (!session.access) await refreshAccess();
  try {
    return await request(method, path, body, session.access);
  } catch (error) {
    if (error.status === 401 && session.refresh && !error.detail("errors")) {
      await refreshAccess();
      return request(method, path, body, session.access);
    }
    if (error.code === "blocked") listeners.blocked(error);
    throw error;
  }
}

export function login(name, password) {
  const body = { password };
  body[name.includes("@") ? "email" : "username"] = name;
  return request("POST", "/api/login", body);
}

export function register(username, email, password) {
  return request("POST", "/api/register", { username, email, password });
}

export async function logout() {
  try {
    if (session.access) await request("POST", "/api/logout", undefined, session.access);
  } finally {
    session.clear("logout");
  }
}

export const enc = encodeURIComponent;

// The server's message, then a line for each field that is wrong and why, named as its
// form names it ("new_password" reads "New password"). A field whose problem the message
// already says (e.g. a wrong current password) adds nothing.
export function fieldErrors(error) {
  const fields = error.body && error.body.errors && error.body.errors.json;
  if (!fields || typeof fields !== "object") return error.message;
  const parts = Object.entries(fields)
    .map(([field, problems]) => [field, [].concat(problems).join(" ")])
    .filter(([, problem]) => problem !== error.message)
    .map(([field, problem]) => `${fieldName(field)}: ${problem}`);
  return [error.message, ...parts].join("\n");
}

function fieldName(field) {
  const words = field.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

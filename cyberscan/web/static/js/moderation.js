// Moderation in the open (API.md §6, §9): the warning after a flagged message, the
// strikes a person can read and contest, the blocked screen with its appeal form, and
// the appeal's outcome.

import { ApiError, api, fieldErrors, login, request } from "./api.js";
import {
  $,
  button,
  el,
  formatTime,
  hide,
  showError,
  textForm,
  toast,
  whileBusy,
  words,
} from "./dom.js";

const POLL_MS = 5000;
const STATUS_LABELS = {
  active: "Active",
  expired: "Expired",
  dismissed: "Removed",
  upheld: "Upheld",
};
// An appeal's `status` as GET /api/me/strikes gives it (docs/api.md).
const APPEAL_LABELS = {
  open: "Appeal sent: a moderator will decide.",
  accepted: "Appeal accepted: this strike no longer counts.",
  rejected: "Appeal rejected: the strike stays.",
};

let hooks = { loggedIn: () => {}, leave: () => {} };
let blocked = { token: null, name: "", timer: null, waiting: new Set() };

function strikesText(count, max, remaining) {
  if (typeof remaining !== "number") return "";
  if (remaining <= 0) return `${count} of ${max} strikes: the limit is reached.`;
  const left =
    remaining === 1
      ? "1 more flagged message, post or comment"
      : `${remaining} more flagged messages, posts or comments`;
  return `${count} of ${max} strikes. ${left} and your account is blocked.`;
}

// What the blocked screen says of the standing (GET /api/me/strikes): the block as it
// is, whatever the count (a moderator may block with no strikes), then the count.
function standingText(data) {
  const count = `${data.bullying_count} of ${data.max_bullying_count} strikes`;
  if (!data.is_blocked) return `Your account is unblocked (${count}).`;
  if (data.bullying_count === 0) {
    return "Your account is blocked by a moderator. You have no strikes: there is none to contest.";
  }
  if (data.remaining <= 0) return `Your account is blocked: ${count}, the limit is reached.`;
  return `Your account is blocked (${count}).`;
}

// Each strike's appeal state by strike id.
function appealStates(data) {
  const states = new Map();
  for (const strike of data.strikes || []) {
    if (strike.appeal) states.set(strike.id, strike.appeal.status);
  }
  return states;
}

// ------------------------------------------------------------------ warning banner

// What the banner says was flagged: the last message, post or comment the person sent
// that came back flagged (`moderation_warning` itself does not say which).
export function flagged(what) {
  $("moderation-banner-title").textContent = `Your last ${what} was flagged as possibly hurtful.`;
}

// The title already says it was flagged; the server's message would say it again, so
// the text is the standing alone, from the payload's numbers.
export function warning(payload) {
  $("moderation-banner-text").textContent = strikesText(
    payload.bullying_count,
    payload.max_bullying_count,
    payload.remaining,
  );
  $("moderation-banner").hidden = false;
}

// A moderator's mute (API.md §9): the banner says until when, in the person's own time.
const UNMUTED_SHOWN_MS = 10000;
const LONGEST_TIMER_MS = 2 ** 31 - 1;
let muteTimer = null;

export function muteText(until) {
  const when = new Date(until).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  return `You are muted until ${when}: you cannot send messages, post or comment until then.`;
}

// A refusal because of a mute (a socket acknowledgement or an ApiError) in the person's
// own time, with the banner shown; null for any other error.
export function refusal(error) {
  const body = error instanceof ApiError ? error.body : error;
  const until =
    body && body.error === "muted" && (body.muted_until || (body.errors || {}).muted_until);
  if (!until) return null;
  muted({ muted_until: until });
  return muteText(until);
}

// `muted` from the server (or the user at login): a future `muted_until` shows the
// banner until then; none says the mute is over, unless `quiet` (nothing to announce).
export function muted(payload, quiet = false) {
  const banner = $("muted-banner");
  const until = payload && payload.muted_until ? new Date(payload.muted_until) : null;
  clearTimeout(muteTimer);
  if (until && until.getTime() > Date.now()) {
    $("muted-banner-text").textContent = muteText(payload.muted_until);
    $("muted-banner-close").hidden = true;
    banner.dataset.state = "muted";
    banner.hidden = false;
    const left = until.getTime() - Date.now();
    if (left < LONGEST_TIMER_MS) muteTimer = setTimeout(() => muted({ muted_until: null }), left);
    return;
  }
  if (quiet) {
    banner.hidden = true;
    return;
  }
  $("muted-banner-text").textContent = "You can send messages again.";
  $("muted-banner-close").hidden = false;
  banner.dataset.state = "unmuted";
  banner.hidden = false;
  muteTimer = setTimeout(() => {
    banner.hidden = true;
  }, UNMUTED_SHOWN_MS);
}

// ------------------------------------------------------------------ strikes

// Draw `data` (GET /api/me/strikes) into `list`; `appeal(strikeId, reason)` sends one.
function renderStrikes(list, data, appeal) {
  const strikes = data.strikes || [];
  const items = strikes.map((strike) => {
    const li = el("li", "strike");
    li.dataset.strikeId = String(strike.id);
    li.dataset.status = strike.status || "";
    const head = el("div", "strike-head");
    head.append(
      el("span", `badge badge-${strike.status}`, STATUS_LABELS[strike.status] || strike.status),
      el("span", "strike-kind", strike.kind || "message"),
      el("time", "strike-time", formatTime(strike.created_at)),
    );
    if (typeof strike.probability === "number") {
      head.append(el("span", "strike-score", `score ${Math.round(strike.probability * 100)}%`));
    }
    li.append(head, words("blockquote", "quote", strike.content || ""));
    if (strike.appeal) {
      const outcome = strike.appeal.status;
      const text = APPEAL_LABELS[outcome] || `Appeal: ${outcome}`;
      const note = strike.appeal.note ? ` “${strike.appeal.note}”` : "";
      li.append(el("p", `appeal-state appeal-${outcome}`, text + note));
    } else if (strike.status === "active") {
      li.append(appealForm(list, strike, appeal));
    }
    return li;
  });
  if (!items.length) items.push(el("li", "empty", "No strikes. Nothing you wrote was flagged."));
  const kept = writingIn(list);
  list.replaceChildren(...items);
  restoreWriting(list, kept);
}

// The blocked screen draws the strikes again every few seconds (and the account dialog
// when an appeal is decided): an appeal being written stays open with its text, and the
// focus stays where it was, rather than both vanishing mid-sentence.
function controls(li) {
  return [...li.querySelectorAll("button, textarea")];
}

function writingIn(list) {
  const kept = new Map();
  for (const li of list.querySelectorAll("li.strike")) {
    const form = li.querySelector(".appeal-form");
    const open = Boolean(form && !form.hidden);
    const focus = controls(li).indexOf(document.activeElement);
    if (open || focus >= 0) {
      kept.set(li.dataset.strikeId, { open, text: open ? form.elements[0].value : "", focus });
    }
  }
  return kept;
}

function restoreWriting(list, kept) {
  for (const [id, was] of kept) {
    const li = list.querySelector(`li.strike[data-strike-id="${id}"]`);
    if (!li) continue;
    const form = li.querySelector(".appeal-form");
    if (form && was.open) {
      li.querySelector(".appeal > button").hidden = true;
      form.hidden = false;
      form.elements[0].value = was.text;
    }
    if (was.focus < 0) continue;
    const target = controls(li)[was.focus];
    if (target && target.getClientRects().length) target.focus();
  }
}

function appealForm(list, strike, appeal) {
  const box = el("div", "appeal");
  const open = button("Contest this strike", "btn btn-sm btn-ghost", () => {
    open.hidden = true;
    form.hidden = false;
    textarea.focus();
  });
  const parts = textForm("appeal-form", {
    id: `${list.id}-reason-${strike.id}`,
    label: "Why was this not bullying?",
    rows: 3,
    submit: "Send appeal",
  });
  const { form, input: textarea, error, submit } = parts;
  form.hidden = true;
  textarea.maxLength = 1000;
  form.append(parts.caption, textarea, error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = textarea.value.trim();
    if (!reason) {
      showError(error, "Say in a few words why the filter got it wrong.");
      return;
    }
    // Sent, the strike is drawn again with the appeal's state: the focus goes there.
    await whileBusy(
      submit,
      async () => {
        try {
          await appeal(strike.id, reason);
        } catch (err) {
          showError(error, fieldErrors(err));
        }
      },
      () => {
        const state = document.querySelector(
          `#${list.id} li[data-strike-id="${strike.id}"] .appeal-state`,
        );
        if (state) state.tabIndex = -1;
        return state;
      },
    );
  });
  box.append(open, form);
  return box;
}

// The strikes section of the account dialog (a person who is not blocked).
export async function loadMyStrikes() {
  const error = $("strikes-error");
  error.hidden = true;
  try {
    const data = await api("GET", "/api/me/strikes");
    $("strikes-summary").textContent =
      strikesText(data.bullying_count, data.max_bullying_count, data.remaining) ||
      "No strikes.";
    renderStrikes($("strikes"), data, async (strikeId, reason) => {
      await api("POST", "/api/appeals", { strike_id: strikeId, reason });
      toast("Appeal sent. You will see the decision here.", "ok");
      await loadMyStrikes();
    });
  } catch (err) {
    $("strikes").replaceChildren();
    $("strikes-summary").textContent = "";
    showError(error, `Your strikes could not be loaded: ${err.message}`);
  }
}

export function appealDecided(payload) {
  const accepted = payload.decision === "accept" || payload.decision === "accepted";
  const note = payload.note ? ` Moderator: “${payload.note}”` : "";
  const left =
    typeof payload.remaining === "number" ? ` Strikes left before a block: ${payload.remaining}.` : "";
  toast(
    (accepted
      ? "Your appeal was accepted: the strike is removed."
      : "Your appeal was rejected: the strike stays.") + left + note,
    accepted ? "ok" : "info",
  );
  followStrikes(payload);
  if ($("settings-dialog").open) loadMyStrikes();
}

// The warning banner, when it shows, says the standing after the decision: fewer
// strikes after an accepted appeal, or none, and then nothing to warn of.
function followStrikes(payload) {
  const { bullying_count: count, remaining } = payload;
  if ($("moderation-banner").hidden || typeof count !== "number") return;
  if (count <= 0) {
    $("moderation-banner").hidden = true;
    return;
  }
  $("moderation-banner-text").textContent = strikesText(count, count + remaining, remaining);
}

// ------------------------------------------------------------------ blocked screen

// Show why the account is blocked; with an appeal token, its strikes and the appeal form.
export function showBlocked({ reason, appealToken, name }) {
  stopPolling();
  blocked = { token: appealToken || null, name: name || "", timer: null, waiting: new Set() };
  showStanding(true);
  $("blocked-reason").textContent =
    reason || "Too many of your messages were flagged as hurtful.";
  hide($("blocked-error"), $("blocked-outcome"), $("blocked-relogin"), $("blocked-count"));
  $("blocked-strikes").replaceChildren();
  $("blocked-strikes-section").hidden = true;
  $("blocked-name").value = blocked.name;
  $("blocked-password").value = "";
  $("blocked-login").hidden = Boolean(blocked.token);
  if (blocked.token) loadBlockedStrikes();
  $("blocked-title").focus();
}

// The screen's title, icon and reason say the account is blocked, or no longer is.
function showStanding(isBlocked) {
  $("screen-blocked").classList.toggle("unblocked", !isBlocked);
  $("blocked-icon").textContent = isBlocked ? "!" : "✓";
  $("blocked-title").textContent = isBlocked
    ? "Your account is blocked"
    : "Your account is unblocked";
  $("blocked-reason").hidden = !isBlocked;
  $("blocked-hint").hidden = true; // until strikes are known to be there (showStrikeHint)
}

// The filter's mistakes are worth a word only when it counted strikes: a moderator may
// block an account the filter never flagged.
function showStrikeHint(data) {
  $("blocked-hint").hidden = !(data.is_blocked && data.bullying_count > 0);
}

function stopPolling() {
  clearTimeout(blocked.timer);
  blocked.timer = null;
}

async function loadBlockedStrikes() {
  stopPolling();
  let data;
  try {
    data = await request("GET", "/api/me/strikes", undefined, blocked.token);
  } catch (error) {
    if (error.status === 401) {
      blocked.token = null;
      $("blocked-login").hidden = false;
      showError($("blocked-error"), "Enter your password again to continue.");
    } else {
      showError($("blocked-error"), error);
      blocked.timer = setTimeout(loadBlockedStrikes, POLL_MS);
    }
    return;
  }
  $("blocked-error").hidden = true;
  if (data.block_reason) $("blocked-reason").textContent = data.block_reason;
  $("blocked-count").textContent = standingText(data);
  $("blocked-count").hidden = false;
  showStrikeHint(data);
  $("blocked-strikes-section").hidden = !(data.strikes || []).length;
  renderStrikes($("blocked-strikes"), data, async (strikeId, reason) => {
    if (!blocked.token) {
      // The appeal token ran out: the password form above gets a new one; the text stays.
      $("blocked-password").focus();
      throw new Error("Enter your password above first, then send the appeal.");
    }
    await request("POST", "/api/appeals", { strike_id: strikeId, reason }, blocked.token);
    await loadBlockedStrikes();
  });
  const appealsNow = appealStates(data);
  if (!data.is_blocked) {
    // Unblocked: the outcome and *Log in again* come first; the strikes (and their
    // appeals) are in the account dialog once logged in.
    showStanding(false);
    hide($("blocked-count"), $("blocked-strikes-section"));
    // Only an appeal seen waiting on this screen and now accepted let the person back in.
    const byAppeal = [...blocked.waiting].some((id) => appealsNow.get(id) === "accepted");
    $("blocked-outcome").textContent = byAppeal
      ? "Your appeal was accepted and your account is unblocked. You can log in again."
      : "Your account is unblocked. You can log in again.";
    $("blocked-outcome").hidden = false;
    $("blocked-relogin").hidden = false;
    $("blocked-relogin").focus();
    return;
  }
  for (const [id, state] of appealsNow) if (state === "open") blocked.waiting.add(id);
  // A blocked person has no socket: look for the moderator's decision now and then.
  blocked.timer = setTimeout(loadBlockedStrikes, POLL_MS);
}

async function unlock(event) {
  event.preventDefault();
  const name = $("blocked-name").value.trim();
  const password = $("blocked-password").value;
  $("blocked-error").hidden = true;
  if (!name || !password) {
    showError($("blocked-error"), "Enter your username or email and your password.");
    return;
  }
  // With the token, the form goes away: the focus goes to the screen's title.
  await whileBusy(
    $("blocked-login-submit"),
    async () => {
      try {
        const data = await login(name, password);
        stopPolling();
        hooks.loggedIn(data); // unblocked meanwhile: straight into the chat
      } catch (error) {
        const token =
          error instanceof ApiError && error.code === "blocked" && error.detail("appeal_token");
        if (token) {
          blocked.token = token;
          blocked.name = name;
          if (error.detail("reason")) $("blocked-reason").textContent = error.detail("reason");
          $("blocked-login").hidden = true;
          $("blocked-password").value = "";
          loadBlockedStrikes();
        } else {
          showError($("blocked-error"), error);
        }
      }
    },
    () => $("blocked-title"),
  );
}

// `loggedIn(loginAnswer)` starts a session; `leave(name)` goes back to the login form.
export function setup(on) {
  hooks = on;
  $("blocked-login").addEventListener("submit", unlock);
  $("blocked-relogin").addEventListener("click", () => {
    stopPolling();
    hooks.leave(blocked.name, "Your account is unblocked. Log in again.");
  });
  $("blocked-leave").addEventListener("click", () => {
    stopPolling();
    hooks.leave(blocked.name);
  });
  $("moderation-banner-close").addEventListener("click", () => {
    $("moderation-banner").hidden = true;
  });
  $("muted-banner-close").addEventListener("click", () => {
    clearTimeout(muteTimer);
    $("muted-banner").hidden = true;
  });
}

export function leaveBlocked() {
  stopPolling();
}

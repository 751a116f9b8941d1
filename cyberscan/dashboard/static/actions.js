// Admin actions behind the buttons: confirm in the dialog, call the API, say what
// happened, and reload what it changed.
import { api, query, userPath } from "./api.js";
import { PENDING_ACTION } from "./session-keys.js";
import { $, formatTime, sameOnPage, toast } from "./dom.js";
import { refresh } from "./state.js";

// The check the open dialog's fields must pass before it closes with "ok": answers the
// words that say what is wrong, or "" when all is well.
let validate = null;
// What the open dialog is for ({kind, username, verb}), to keep if the session ends.
let opened = null;

function confirmAction(options) {
  const dialog = $("confirm");
  $("confirm-title").textContent = options.title;
  $("confirm-text").textContent = options.text;
  $("confirm-ok").textContent = options.ok || "Confirm";
  $("confirm-ok").className = "btn " + (options.danger === false ? "btn-primary" : "btn-danger");
  $("confirm-reason-row").hidden = !options.reason;
  const prefill = options.prefill || {};
  $("confirm-reason").value = prefill.reason || "";
  $("confirm-minutes-row").hidden = !options.minutes;
  $("confirm-minutes").value = prefill.minutes || options.minutes || 60;
  $("confirm-reset-row").hidden = !options.reset;
  $("confirm-reset").checked = prefill.reset === undefined ? true : prefill.reset;
  opened = options.pending || null;
  $("confirm-error").hidden = true;
  $("confirm-error").textContent = "";
  $("confirm-minutes").removeAttribute("aria-invalid");
  validate = options.validate || null;
  dialog.returnValue = "";
  // The browser gives focus back to the button that opened the dialog; when a live
  // reload rebuilt its row meanwhile, that button is gone, so its new twin gets it.
  const opener = document.activeElement;
  const rows = opener && opener.closest ? opener.closest("tbody") : null;
  return new Promise(function (resolve) {
    dialog.addEventListener(
      "close",
      function () {
        opened = null;
        const back = sameOnPage(opener, rows);
        if (back && back !== opener) back.focus();
        if (dialog.returnValue !== "ok") return resolve(null);
        resolve({
          reason: $("confirm-reason").value.trim(),
          minutes: Number($("confirm-minutes").value),
          reset: $("confirm-reset").checked,
        });
      },
      { once: true }
    );
    dialog.showModal();
    (options.reason ? $("confirm-reason") : $("confirm-ok")).focus();
  });
}

// Reloaded after an action, and after a refused one too: a 409 means another admin
// acted first, and the rows should then show what they did.
function act(description, path, body) {
  return api(path, { method: "POST", body: body })
    .then(
      function () { toast(description, "ok"); },
      function (error) { toast(error.message, "error"); }
    )
    .then(function () {
      refresh({ summary: true, queue: true, users: true, audit: true, stats: true, appeals: true, reports: true });
    });
}

// The user as the server sees them now (GET /api/admin/users filtered to the name), or
// null when no account has that name any more.
function currentUser(username) {
  const wanted = username.toLowerCase();
  return api("/api/admin/users" + query({ q: username, limit: 100 })).then(function (page) {
    return (page.items || []).find(function (user) { return user.username.toLowerCase() === wanted; }) || null;
  });
}

function mutedNow(user) {
  return Boolean(user.muted_until && new Date(user.muted_until) > new Date());
}

// A dialog may stay open while another moderator acts on the same person. On confirm the
// user's state is read again; when what the dialog was opened for no longer holds
// (`stale` answers why), nothing is sent: the page says so and shows what is true now.
function actIfStill(username, stale, description, path, body) {
  return currentUser(username).then(
    function (user) {
      const why = user ? stale(user) : username + " no longer exists; nothing was changed.";
      if (!why) return act(description, path, body);
      toast(why, "info");
      refresh({ summary: true, queue: true, users: true, audit: true, stats: true, appeals: true, reports: true });
      return null;
    },
    function (error) { toast(error.message, "error"); }
  );
}

export function blockUser(username, prefill) {
  return confirmAction({
    pending: { kind: "block", username: username, verb: "block" },
    prefill: prefill,
    title: "Block " + username + "?",
    text: "They will be logged out everywhere and can no longer log in, send, post or comment.",
    ok: "Block",
    reason: true,
  }).then(function (answer) {
    if (!answer) return null;
    const body = answer.reason ? { reason: answer.reason } : {};
    return actIfStill(
      username,
      function (user) { return user.is_blocked ? username + " was already blocked by another moderator; nothing was changed." : ""; },
      username + " is blocked.",
      userPath(username, "block"),
      body
    );
  });
}

export function unblockUser(username, prefill) {
  return confirmAction({
    pending: { kind: "unblock", username: username, verb: "unblock" },
    prefill: prefill,
    title: "Unblock " + username + "?",
    text: "They will be able to log in and write again.",
    ok: "Unblock",
    danger: false,
    reset: true,
  }).then(function (answer) {
    if (!answer) return null;
    return actIfStill(
      username,
      function (user) { return user.is_blocked ? "" : username + " was already unblocked by another moderator; nothing was changed."; },
      username + " is unblocked.",
      userPath(username, "unblock"),
      { reset_count: answer.reset }
    );
  });
}

export const MAX_MUTE_MINUTES = 10080;

// The minutes field as a number (Number, not parseInt: "1e3" is 1000, not 1): a whole
// number from 1 to 10080 (a week), or the words that say what is wrong.
function minutesProblem() {
  const text = $("confirm-minutes").value.trim();
  const minutes = Number(text);
  if (text === "" || !Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MUTE_MINUTES) {
    return "Give the minutes as a whole number from 1 to " + MAX_MUTE_MINUTES + " (a week).";
  }
  return "";
}

// `wasMuted`: whether the row the dialog was opened from showed them muted. Unknown in
// the queue, which does not show mutes (and after a login brings a dialog back): the
// user is read first, because a new mute replaces the end of one in force, and a
// moderator must see that before a week's mute becomes an hour's.
export function muteUser(username, minutes, wasMuted, prefill, mutedUntil) {
  if (wasMuted === undefined) {
    return currentUser(username).then(
      function (user) {
        const muted = Boolean(user && mutedNow(user));
        return muteUser(username, minutes, muted, prefill, muted ? user.muted_until : null);
      },
      function (error) { toast(error.message, "error"); return null; }
    );
  }
  return confirmAction({
    pending: { kind: "mute", username: username, verb: "mute" },
    prefill: prefill,
    title: "Mute " + username + (mutedUntil ? " again?" : "?"),
    text: mutedUntil
      ? username + " is muted until " + formatTime(mutedUntil) + ". A new mute replaces that end: " +
        "they cannot send, post or comment until the new time is up."
      : "They cannot send, post or comment until the time is up.",
    ok: "Mute",
    minutes: minutes || 60,
    validate: minutesProblem,
  }).then(function (answer) {
    if (!answer) return null;
    return actIfStill(
      username,
      function (user) {
        if (user.is_blocked) return username + " was blocked by another moderator meanwhile; nothing was changed.";
        if (wasMuted === false && mutedNow(user)) return username + " was already muted by another moderator; nothing was changed.";
        return "";
      },
      username + " is muted for " + answer.minutes + " min.",
      userPath(username, "mute"),
      { minutes: answer.minutes }
    );
  });
}

export function unmuteUser(username) {
  return actIfStill(
    username,
    function (user) { return mutedNow(user) ? "" : username + " was already unmuted by another moderator; nothing was changed."; },
    username + " is unmuted.",
    userPath(username, "unmute"),
    {}
  );
}

const MESSAGE_REMOVED = "The receiver no longer sees it; its sender still does.";

// A review: "dismiss" at once; "remove" cannot be undone, so only once the dialog's
// question (`kind`, `text`) is answered.
function reviewItem(path, action, done, kind, text) {
  const run = function () {
    return act(done, path, { action: action });
  };
  if (action !== "remove") return run();
  const pending = { kind: "remove", verb: "remove a " + kind };
  return confirmAction({ title: "Remove this " + kind + "?", text: text, ok: "Remove", pending: pending }).then(function (answer) {
    return answer ? run() : null;
  });
}

// What removing does to the flag's strike, by its status (an unblock with a reset, an
// accepted appeal or a dismissal may already have given it back).
function strikeNote(status) {
  if (status === "dismissed") return "Its strike was already dismissed; removing does not count it again.";
  if (status === "expired") return "Its strike has expired; removing does not count it again.";
  return "The author's strike stays.";
}

export function review(flag, action) {
  return reviewItem(
    "/api/admin/flagged/" + encodeURIComponent(flag.id) + "/review",
    action,
    action === "remove" ? "The " + flag.item_type + " was removed." : "The flag was dismissed.",
    flag.item_type,
    (flag.item_type === "message" ? MESSAGE_REMOVED : "It is deleted for everyone.") + " " + strikeNote(flag.strike_status)
  );
}

// A person's report (API.md §9): "remove" withholds the reported message.
export function reviewReport(report, action) {
  return reviewItem(
    "/api/admin/reports/" + encodeURIComponent(report.id) + "/review",
    action,
    action === "remove" ? "The reported message was removed." : "The report was dismissed.",
    "message",
    MESSAGE_REMOVED
  );
}

// Cancel is not a submit button, so Enter in the reason field confirms.
export function wireDialog() {
  $("confirm-cancel").addEventListener("click", function () {
    $("confirm").close("cancel");
  });
  // A field the dialog checks (the minutes) keeps it open, saying what is wrong.
  $("confirm-form").addEventListener("submit", function (event) {
    const problem = validate ? validate() : "";
    $("confirm-error").textContent = problem;
    $("confirm-error").hidden = !problem;
    if (!problem) return;
    event.preventDefault();
    $("confirm-minutes").setAttribute("aria-invalid", "true");
    $("confirm-minutes").focus();
  });
  $("confirm-minutes").addEventListener("input", function () {
    $("confirm-minutes").removeAttribute("aria-invalid");
  });
}

// The session ended with a dialog open: keep what it was for and what was typed in it
// (this tab only), for login.js to say and restorePending() to reopen.
function keepPending() {
  if (!opened || !$("confirm").open) return;
  const kept = Object.assign({}, opened, {
    admin: $("admin-name").textContent,
    reason: $("confirm-reason").value,
    minutes: $("confirm-minutes").value,
    reset: $("confirm-reset").checked,
  });
  try {
    sessionStorage.setItem(PENDING_ACTION, JSON.stringify(kept));
  } catch (error) {
    // Storage refused: the login form still says the session ended.
  }
}

function takePending() {
  try {
    const text = sessionStorage.getItem(PENDING_ACTION);
    sessionStorage.removeItem(PENDING_ACTION);
    return text ? JSON.parse(text) : null;
  } catch (error) {
    return null;
  }
}

const REOPEN = {
  block: blockUser,
  unblock: unblockUser,
  mute: function (username, prefill) { return muteUser(username, 60, undefined, prefill); },
};

// After logging in again: the action the session's end interrupted, for the same admin
// only. A block, unblock or mute reopens its dialog as it was; a removal is said (its row
// is in the queue to click again).
export function restorePending(admin) {
  const kept = takePending();
  if (!kept || kept.admin !== admin) return;
  const reason = kept.reason ? "; your reason is kept." : ".";
  if (!REOPEN[kept.kind] || !kept.username) {
    toast("You were about to " + kept.verb + " when your session ended; it was not done. Its row is still in the list.", "info");
    return;
  }
  toast("You were about to " + kept.verb + " " + kept.username + reason, "info");
  const prefill = { reason: kept.reason, minutes: kept.minutes, reset: kept.reset };
  REOPEN[kept.kind](kept.username, prefill);
}

window.addEventListener("cyberscan:session-ended", keepPending);

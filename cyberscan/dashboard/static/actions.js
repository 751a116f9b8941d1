// Admin actions behind the buttons: confirm in the dialog, call the API, say what
// happened, and reload what it changed.
import { api, userPath } from "./api.js";
import { $, sameOnPage, toast } from "./dom.js";
import { refresh } from "./state.js";

function confirmAction(options) {
  const dialog = $("confirm");
  $("confirm-title").textContent = options.title;
  $("confirm-text").textContent = options.text;
  $("confirm-ok").textContent = options.ok || "Confirm";
  $("confirm-ok").className = "btn " + (options.danger === false ? "btn-primary" : "btn-danger");
  $("confirm-reason-row").hidden = !options.reason;
  $("confirm-reason").value = "";
  $("confirm-minutes-row").hidden = !options.minutes;
  $("confirm-minutes").value = options.minutes || 60;
  $("confirm-reset-row").hidden = !options.reset;
  $("confirm-reset").checked = true;
  dialog.returnValue = "";
  // The browser gives focus back to the button that opened the dialog; when a live
  // reload rebuilt its row meanwhile, that button is gone, so its new twin gets it.
  const opener = document.activeElement;
  const rows = opener && opener.closest ? opener.closest("tbody") : null;
  return new Promise(function (resolve) {
    dialog.addEventListener(
      "close",
      function () {
        const back = sameOnPage(opener, rows);
        if (back && back !== opener) back.focus();
        if (dialog.returnValue !== "ok") return resolve(null);
        resolve({
          reason: $("confirm-reason").value.trim(),
          minutes: parseInt($("confirm-minutes").value, 10),
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

export function blockUser(username) {
  return confirmAction({
    title: "Block " + username + "?",
    text: "They will be logged out everywhere and can no longer log in, send, post or comment.",
    ok: "Block",
    reason: true,
  }).then(function (answer) {
    if (!answer) return null;
    const body = answer.reason ? { reason: answer.reason } : {};
    return act(username + " is blocked.", userPath(username, "block"), body);
  });
}

export function unblockUser(username) {
  return confirmAction({
    title: "Unblock " + username + "?",
    text: "They will be able to log in and write again.",
    ok: "Unblock",
    danger: false,
    reset: true,
  }).then(function (answer) {
    if (!answer) return null;
    return act(username + " is unblocked.", userPath(username, "unblock"), { reset_count: answer.reset });
  });
}

export function muteUser(username, minutes) {
  return confirmAction({
    title: "Mute " + username + "?",
    text: "They cannot send, post or comment until the time is up.",
    ok: "Mute",
    minutes: minutes || 60,
  }).then(function (answer) {
    if (!answer) return null;
    if (!(answer.minutes > 0)) {
      toast("Give a number of minutes.", "error");
      return null;
    }
    return act(username + " is muted for " + answer.minutes + " min.", userPath(username, "mute"), {
      minutes: answer.minutes,
    });
  });
}

export function unmuteUser(username) {
  return act(username + " is unmuted.", userPath(username, "unmute"), {});
}

const MESSAGE_REMOVED = "The receiver no longer sees it; its sender still does.";

// A review: "dismiss" at once; "remove" cannot be undone, so only once the dialog's
// question (`kind`, `text`) is answered.
function reviewItem(path, action, done, kind, text) {
  const run = function () {
    return act(done, path, { action: action });
  };
  if (action !== "remove") return run();
  return confirmAction({ title: "Remove this " + kind + "?", text: text, ok: "Remove" }).then(function (answer) {
    return answer ? run() : null;
  });
}

export function review(flag, action) {
  return reviewItem(
    "/api/admin/flagged/" + encodeURIComponent(flag.id) + "/review",
    action,
    action === "remove" ? "The " + flag.item_type + " was removed." : "The flag was dismissed.",
    flag.item_type,
    (flag.item_type === "message" ? MESSAGE_REMOVED : "It is deleted for everyone.") + " The author's strike stays."
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
}

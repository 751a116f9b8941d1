// A person's own controls (API.md §9): block, mute and report, from a conversation or
// from a single message.

import { api, enc, fieldErrors } from "./api.js";
import { $, showError, toast, whileBusy } from "./dom.js";
import { state } from "./state.js";

let changed = () => {};
let reporting = null;

// `onChange()` redraws whatever shows blocks and mutes.
export function setup(onChange) {
  changed = onChange;
  const dialog = $("report-dialog");
  $("report-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitReport();
  });
  for (const close of dialog.querySelectorAll(".dialog-close")) {
    close.addEventListener("click", () => dialog.close());
  }
}

async function usernames(path) {
  try {
    const data = await api("GET", path);
    const items = Array.isArray(data) ? data : data.items || [];
    return new Set(items.map((item) => (typeof item === "string" ? item : item.username)));
  } catch {
    return new Set(); // a server without these controls: nothing to show
  }
}

// Whom I have blocked and muted, for the list's tags and the conversation's menu.
export async function load() {
  [state.blocked, state.muted] = await Promise.all([
    usernames("/api/me/blocks"),
    usernames("/api/me/mutes"),
  ]);
}

// Read them again and redraw: after a reconnect (the events of a change made while
// this device was offline are lost), or when the server refuses a message.
export async function reload() {
  await load();
  changed();
}

// One of my sets (state.blocked or state.muted) now holds `name` or not: redraw. This
// tab's own action and the event of any device's action (API.md §9) both come here.
function mark(set, name, on) {
  if (on) set.add(name);
  else set.delete(name);
  changed();
}

// `block_changed` {username, blocked} and `mute_changed` {username, muted}: a change of
// mine, made here or on another device; applying it twice changes nothing.
export function blockChanged(payload) {
  mark(state.blocked, payload.username, payload.blocked);
}

export function muteChanged(payload) {
  mark(state.muted, payload.username, payload.muted);
}

export async function block(name) {
  try {
    await api("PUT", `/api/me/blocks/${enc(name)}`);
    mark(state.blocked, name, true);
    toast(`You blocked ${name}. Neither of you can message the other.`, "info");
  } catch (error) {
    toast(error.message);
  }
}

export async function unblock(name) {
  try {
    await api("DELETE", `/api/me/blocks/${enc(name)}`);
    mark(state.blocked, name, false);
    toast(`You unblocked ${name}.`, "info");
  } catch (error) {
    toast(error.message);
  }
}

export async function toggleMute(name) {
  const muting = !state.muted.has(name);
  try {
    await api(muting ? "PUT" : "DELETE", `/api/me/mutes/${enc(name)}`);
    mark(state.muted, name, muting);
    toast(
      muting
        ? // No live event brings a muted person's messages (API.md §9): say when they show.
          `You muted ${name}: their new messages no longer come in live or count as unread. You see them when you open this conversation again.`
        : `You unmuted ${name}.`,
      "info",
    );
  } catch (error) {
    toast(error.message);
  }
}

// Report a message ({message}) or a person ({username}).
export function openReport(target) {
  reporting = target;
  const quote = $("report-quote");
  if (target.message) {
    $("report-title").textContent = "Report this message";
    $("report-what").textContent = `From ${target.message.sender}:`;
    quote.textContent = target.message.message;
    quote.hidden = false;
  } else {
    $("report-title").textContent = `Report ${target.username}`;
    $("report-what").textContent = "Tell the moderators what this person did.";
    quote.hidden = true;
  }
  $("report-reason").value = "";
  $("report-error").hidden = true;
  $("report-dialog").showModal();
  $("report-reason").focus();
}

async function submitReport() {
  const reason = $("report-reason").value.trim();
  if (!reason) {
    showError($("report-error"), "Say in a few words what is wrong.");
    return;
  }
  const body = { reason };
  if (reporting.message) body.message_id = reporting.message.id;
  else body.username = reporting.username;
  await whileBusy($("report-submit"), async () => {
    try {
      await api("POST", "/api/reports", body);
      $("report-dialog").close(); // the dialog gives the focus back to what opened it
      toast("Thank you. A moderator will look at your report.", "ok");
    } catch (error) {
      showError($("report-error"), fieldErrors(error));
    }
  });
}


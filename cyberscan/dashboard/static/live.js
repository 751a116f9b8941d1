// Live updates: Socket.IO with the session cookie, and polling as the fallback.
import { LOGIN_URL } from "./api.js";
import { $, name, toast } from "./dom.js";
import { refresh, state } from "./state.js";
import { loadSummary } from "./summary.js";

export const POLL_MS = 5000;
const STATS_EVERY_MS = 60000;

export function setLive(mode, detail) {
  var pill = $("live-status");
  pill.dataset.state = mode;
  pill.textContent = { live: "Live", polling: "Polling", offline: "Offline", connecting: "Connecting…" }[mode];
  pill.title = detail || "";
}

export function connectSocket() {
  if (typeof window.io !== "function") {
    setLive("polling", "Socket.IO client not loaded; polling every " + POLL_MS / 1000 + " s");
    return;
  }
  // Same origin: the browser sends the HttpOnly access cookie with the handshake.
  var socket = window.io({ withCredentials: true });
  socket.on("connect", function () {
    setLive("live", "Connected: new flags appear at once");
    refresh({ summary: true, queue: true });
  });
  socket.on("disconnect", function () {
    setLive("polling", "Disconnected; polling every " + POLL_MS / 1000 + " s");
  });
  socket.on("connect_error", function (error) {
    var reason = error && error.data && error.data.message ? error.data.message : error.message;
    setLive("polling", "Live updates unavailable (" + reason + "); polling every " + POLL_MS / 1000 + " s");
  });
  socket.on("flagged_item", function (flag) {
    var who = flag ? name(flag.author) : "";
    toast("New flagged " + ((flag && flag.item_type) || "item") + (who ? " from " + who : ""), "alert");
    refresh({ summary: true, queue: true, stats: true, users: true });
  });
  socket.on("appeal_filed", function (appeal) {
    toast("New appeal" + (appeal ? " from " + name(appeal.author) : ""), "alert");
    refresh({ summary: true, appeals: true });
  });
  socket.on("user_reported", function (report) {
    toast("New report" + (report ? " about " + name(report.username) : ""), "alert");
    refresh({ summary: true, reports: true });
  });
  socket.on("admin_summary_changed", function () {
    refresh({ summary: true });
  });
  socket.on("account_blocked", function () {
    window.location.assign(LOGIN_URL);
  });
}

export function poll() {
  loadSummary()
    .then(function () {
      if ($("live-status").dataset.state === "offline") setLive("polling");
    })
    .catch(function (error) {
      setLive("offline", error.message);
    });
  if (Date.now() - state.statsAt > STATS_EVERY_MS) refresh({ stats: true, audit: true });
}

// The moderation dashboard's entry module: reads the admin REST API with the HttpOnly
// session cookie, listens on Socket.IO for new flags, and polls the summary as a fallback.
import { keepAlive, api, LOGIN_URL } from "./api.js";
import { SESSION_ENDED } from "./session-keys.js";
import { restorePending, wireDialog } from "./actions.js";
import { drawCharts, loadStats } from "./activity.js";
import { loadAppeals } from "./appeals.js";
import { loadAudit } from "./audit.js";
import { $, toast } from "./dom.js";
import { connectSocket, poll, POLL_MS, setLive } from "./live.js";
import { loadQueue } from "./queue.js";
import { loadReports } from "./reports.js";
import { refresh, registerLoaders, state } from "./state.js";
import { loadSummary } from "./summary.js";
import { loadUsers } from "./users.js";

state.admin = $("admin-name").textContent;

registerLoaders({
  summary: loadSummary,
  queue: function () { return loadQueue(false); },
  users: function () { return loadUsers(false); },
  audit: loadAudit,
  stats: loadStats,
  appeals: function () { return loadAppeals(false); },
  reports: function () { return loadReports(false); },
});

function reportError(error) {
  toast(error.message, "error");
}

// The queue filter is a tab list (WAI-ARIA tabs, automatic activation): one tab stop,
// the selected tab; the arrow keys, Home and End move to another tab and select it.
const queueTabs = Array.from(document.querySelectorAll(".segmented .seg"));
const TAB_KEYS = {
  ArrowRight: function (i) { return (i + 1) % queueTabs.length; },
  ArrowLeft: function (i) { return (i + queueTabs.length - 1) % queueTabs.length; },
  Home: function () { return 0; },
  End: function () { return queueTabs.length - 1; },
};
function selectQueueTab(seg) {
  queueTabs.forEach(function (other) {
    other.classList.toggle("active", other === seg);
    other.setAttribute("aria-selected", other === seg ? "true" : "false");
    other.tabIndex = other === seg ? 0 : -1;
  });
  state.status = seg.dataset.status;
  loadQueue(false).catch(reportError);
}
queueTabs.forEach(function (seg, i) {
  seg.addEventListener("click", function () { selectQueueTab(seg); });
  seg.addEventListener("keydown", function (event) {
    const move = TAB_KEYS[event.key];
    if (!move) return;
    event.preventDefault();
    const next = queueTabs[move(i)];
    next.focus();
    selectQueueTab(next);
  });
});
$("queue-more").addEventListener("click", function () {
  loadQueue(true).catch(reportError);
});
$("appeals-more").addEventListener("click", function () {
  loadAppeals(true).catch(reportError);
});
$("appeal-status").addEventListener("change", function (event) {
  state.appealStatus = event.target.value;
  loadAppeals(false).catch(reportError);
});
$("reports-more").addEventListener("click", function () {
  loadReports(true).catch(reportError);
});
$("users-more").addEventListener("click", function () {
  loadUsers(true).catch(reportError);
});
let searchTimer = null;
$("user-search").addEventListener("input", function (event) {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(function () {
    state.query = event.target.value.trim();
    loadUsers(false).catch(reportError);
  }, 250);
});
$("stats-hours").addEventListener("change", function (event) {
  state.hours = parseInt(event.target.value, 10) || 24;
  loadStats().catch(reportError);
});
let resizeTimer = null;
window.addEventListener("resize", function () {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(function () {
    if (state.stats) drawCharts(state.stats);
  }, 150);
});
wireDialog();
// A skip link moves the keyboard focus to its panel's heading and shows it just below
// the sticky top bar. While that heading keeps the focus and the person has not scrolled,
// tables filling above it do not push it away (the browser's scroll anchoring holds the
// first node in view, not the focused one).
let skippedTo = null;
function showBelowTopbar(heading) {
  const bar = document.querySelector(".topbar").getBoundingClientRect().bottom;
  window.scrollBy(0, heading.getBoundingClientRect().top - bar - 12);
}
document.querySelectorAll(".skip-link").forEach(function (link) {
  link.addEventListener("click", function (event) {
    const target = $(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    target.focus({ preventScroll: true });
    showBelowTopbar(target);
    skippedTo = target;
  });
});
["wheel", "touchstart", "mousedown", "keydown"].forEach(function (type) {
  window.addEventListener(type, function () { skippedTo = null; }, { passive: true, capture: true });
});
new ResizeObserver(function () {
  if (skippedTo && document.activeElement === skippedTo) showBelowTopbar(skippedTo);
  else skippedTo = null;
}).observe(document.body);
$("logout").addEventListener("click", function () {
  api("/admin/logout", { method: "POST" })
    .catch(function () { return null; })
    .then(function () { window.location.assign(LOGIN_URL); });
});

// The session lasts session-seconds from the last renewal: renew after a third of it.
keepAlive((parseInt(document.body.dataset.sessionSeconds, 10) || 1800) * 1000 / 3);

// The summary first: the queue shows strikes out of its max_bullying_count.
loadSummary()
  .catch(function (error) { setLive("offline", error.message); })
  .then(function () { refresh({ queue: true, users: true, audit: true, stats: true, appeals: true, reports: true }); });
connectSocket();
setInterval(poll, POLL_MS);
try {
  sessionStorage.removeItem(SESSION_ENDED);
} catch (error) {
  // nothing kept
}
restorePending(state.admin);

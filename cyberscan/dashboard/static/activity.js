// The activity charts: flagged share and messages per hour, and the top offenders.
import { api, query } from "./api.js";
import { hbars, line, percent, stackedBars } from "./charts.js";
import { $ } from "./dom.js";
import { state } from "./state.js";

export function loadStats() {
  state.statsAt = Date.now();
  return api("/api/admin/stats" + query({ hours: state.hours })).then(drawCharts);
}

// Messages, posts and comments together (older servers: messages only).
function itemsOf(h) {
  return typeof h.items === "number" ? h.items : h.messages || 0;
}

function flaggedItemsOf(h) {
  return typeof h.flagged_items === "number" ? h.flagged_items : h.flagged || 0;
}

export function drawCharts(stats) {
  state.stats = stats;
  var hours = stats.hours || [];
  var dates = hours.map(function (h) { return new Date(h.hour); });
  var totalMessages = hours.reduce(function (sum, h) { return sum + (h.messages || 0); }, 0);
  var totalFlagged = hours.reduce(function (sum, h) { return sum + (h.flagged || 0); }, 0);
  var totalItems = hours.reduce(function (sum, h) { return sum + itemsOf(h); }, 0);
  var totalFlaggedItems = hours.reduce(function (sum, h) { return sum + flaggedItemsOf(h); }, 0);
  var period = state.hours === 24 ? "last 24 hours" : "last " + state.hours / 24 + " days";
  var byHour = {};
  hours.forEach(function (h) { byHour[h.hour] = h; });
  line($("chart-share"), {
    title: "Flagged share per hour",
    subtitle: totalItems
      ? percent(totalFlaggedItems / totalItems) + " of " + totalItems.toLocaleString() + " messages, posts and comments flagged"
      : "Nothing was written in this period",
    emptyText: "Nothing to measure in this period",
    points: (stats.flagged_share || []).map(function (point) {
      var h = byHour[point.hour];
      return {
        date: new Date(point.hour),
        value: h && !itemsOf(h) ? null : point.share || 0,
        detail: h ? flaggedItemsOf(h) + " of " + itemsOf(h) + " items" : "",
      };
    }),
  });
  stackedBars($("chart-messages"), {
    title: "Messages per hour",
    subtitle: totalMessages.toLocaleString() + " messages, " + totalFlagged.toLocaleString() + " flagged, " + period,
    dates: dates,
    series: [
      { name: "Clean", className: "bar-clean", values: hours.map(function (h) { return Math.max(0, (h.messages || 0) - (h.flagged || 0)); }) },
      { name: "Flagged", className: "bar-flagged", values: hours.map(function (h) { return h.flagged || 0; }) },
    ],
  });
  // The API's order (most flagged items first): the bar is the flagged items, the label
  // adds the strikes that count now (0 after a reset or accepted appeals).
  var offenders = stats.top_offenders || [];
  hbars($("chart-offenders"), {
    title: "Flagged items per user",
    subtitle: offenders.length ? "Users with the most flagged items, " + period + "; their current strikes beside" : "",
    legend: [
      { name: "Active", className: "bar-main" },
      { name: "Blocked", className: "bar-blocked" },
    ],
    emptyText: "No one has been flagged yet",
    items: offenders.map(function (o) {
      var flaggedItems = typeof o.flagged_items === "number" ? o.flagged_items : o.bullying_count || 0;
      var strikes = o.bullying_count || 0;
      return {
        label: o.username,
        value: flaggedItems,
        text: flaggedItems + " flagged · " + strikes + (strikes === 1 ? " strike" : " strikes") + (o.is_blocked ? " · blocked" : ""),
        className: o.is_blocked ? "bar-blocked" : "bar-main",
      };
    }),
  });
}

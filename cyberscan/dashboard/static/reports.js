// Reports people filed about a message or a user (API.md §9), beside the classifier's
// flags: who reported whom, why, and the reported text.
import { query } from "./api.js";
import { blockUser, reviewReport } from "./actions.js";
import { badge, button, el, excerpt, formatTime, name, written } from "./dom.js";
import { state } from "./state.js";
import { loadTable, pageSize } from "./table.js";

const PAGE = 25;

function reportRow(report) {
  const row = el("tr", "report-row");
  row.dataset.reportId = String(report.id);

  const time = el("td", "nowrap", formatTime(report.created_at));
  time.title = report.created_at || "";
  row.appendChild(time);

  const who = el("td", "author-cell");
  who.appendChild(el("div", "author-name", name(report.username)));
  const meta = el("div", "author-meta");
  meta.appendChild(el("span", "strikes", "reported by " + name(report.reporter)));
  if (report.reported_is_blocked) meta.appendChild(badge("Blocked", "blocked"));
  who.appendChild(meta);
  row.appendChild(who);

  const content = el("td", "content-cell");
  content.appendChild(badge(report.message_id ? "message" : "user", "type"));
  if (report.content) content.appendChild(written("div", "content-text", report.content));
  row.appendChild(content);

  row.appendChild(written("td", "content-cell report-reason", report.reason));

  const cell = el("td");
  const actions = el("div", "actions");
  cell.appendChild(actions);
  if (report.reviewed_at) {
    const by = name(report.reviewed_by);
    actions.appendChild(el("span", "reviewed", (report.review_action === "remove" ? "Removed" : "Dismissed") + (by ? " by " + by : "")));
  } else {
    const about = ", the report on " + name(report.username) + " by " + name(report.reporter) + " " + excerpt(report.content || report.reason, 40);
    actions.appendChild(button("Dismiss", "btn-ghost", function () { reviewReport(report, "dismiss"); }, "Dismiss" + about));
    if (report.message_id) {
      actions.appendChild(button("Remove message", "btn-warn", function () { reviewReport(report, "remove"); }, "Remove message" + about));
    }
  }
  if (!report.reported_is_blocked) {
    actions.appendChild(button("Block " + name(report.username), "btn-danger", function () { blockUser(name(report.username)); }));
  }
  row.appendChild(cell);
  return row;
}

export function loadReports(more) {
  const url = "/api/admin/reports" + query({ limit: pageSize("reports", PAGE, more), cursor: more ? state.reportsCursor : null });
  return loadTable("reports", url, reportRow, more).then(function (shown) {
    if (shown) state.reportsCursor = shown.cursor;
  });
}

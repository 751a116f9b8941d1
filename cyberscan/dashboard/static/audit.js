// The audit log: who did what to whom, newest first.
import { api, query } from "./api.js";
import { $, el, formatTime, name, written } from "./dom.js";

const AUDIT_PAGE = 15;

// Every action the server writes (tests/test_web_pages.py checks none is missing), as
// "<actor> <label> <target>".
var ACTION_LABELS = {
  block: "blocked",
  auto_block: "auto-blocked",
  unblock: "unblocked",
  auto_unblock: "lifted the block on",
  mute: "muted",
  unmute: "unmuted",
  kick: "disconnected",
  review_dismiss: "dismissed a flag on",
  review_remove: "removed an item by",
  delete_post: "deleted a post by",
  delete_comment: "deleted a comment by",
  flag_context_viewed: "read the conversation around a flag on",
  appeal_filed: "appealed a strike of",
  appeal_accept: "accepted an appeal by",
  appeal_reject: "rejected an appeal by",
  user_report: "reported",
  report_dismiss: "dismissed a report on",
  report_remove: "removed a reported message by",
  message_unsent: "unsent a message to",
  password_change: "changed the password of",
  password_reset: "reset the password of",
};
// The same when the actor is the target: "ana changed her password", not "… of ana".
var OWN_LABELS = {
  appeal_filed: "appealed one of their strikes",
  password_change: "changed their password",
};

export function loadAudit() {
  return api("/api/admin/audit-log" + query({ limit: AUDIT_PAGE })).then(function (page) {
    var items = Array.isArray(page) ? page : page.items || [];
    var list = $("audit");
    list.replaceChildren.apply(
      list,
      items.map(function (entry) {
        var item = el("li", "audit-item");
        var line = el("div", "audit-line");
        var actor = name(entry.actor) || "system";
        var target = name(entry.target);
        var own = target && target === actor && OWN_LABELS[entry.action];
        line.appendChild(el("strong", null, actor));
        line.appendChild(document.createTextNode(" " + (own || ACTION_LABELS[entry.action] || entry.action) + " "));
        if (target && !own) line.appendChild(el("strong", null, target));
        item.appendChild(line);
        var meta = el("div", "audit-meta", formatTime(entry.created_at));
        if (entry.reason) {
          meta.appendChild(document.createTextNode(" · "));
          meta.appendChild(written("span", "audit-reason", entry.reason));
        }
        item.appendChild(meta);
        return item;
      })
    );
    $("audit-empty").hidden = items.length > 0;
  });
}

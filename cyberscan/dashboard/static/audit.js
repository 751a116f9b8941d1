// The audit log: who did what to whom, newest first.
import { api, query } from "./api.js";
import { $, el, formatTime, name } from "./dom.js";

const AUDIT_PAGE = 15;

var ACTION_LABELS = {
  block: "blocked",
  auto_block: "auto-blocked",
  unblock: "unblocked",
  mute: "muted",
  unmute: "unmuted",
  kick: "disconnected",
  review_dismiss: "dismissed a flag on",
  review_remove: "removed an item by",
  delete_post: "deleted a post by",
  delete_comment: "deleted a comment by",
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
        line.appendChild(el("strong", null, actor));
        line.appendChild(document.createTextNode(" " + (ACTION_LABELS[entry.action] || entry.action) + " "));
        if (target) line.appendChild(el("strong", null, target));
        item.appendChild(line);
        var meta = el("div", "audit-meta", formatTime(entry.created_at));
        if (entry.reason) meta.appendChild(el("span", "audit-reason", " · " + entry.reason));
        item.appendChild(meta);
        return item;
      })
    );
    $("audit-empty").hidden = items.length > 0;
  });
}

// A flag's context (API.md §9): the receiver and the messages around a flagged message.
// Admins only; the server writes every reading to the audit log.
import { api } from "./api.js";
import { el, formatTime, setExpanded, toast, written } from "./dom.js";
import { refresh } from "./state.js";

function line(message, itemId) {
  const item = el("li", "context-line" + (message.id === itemId ? " context-flagged" : ""));
  item.appendChild(el("span", "context-time", formatTime(message.timestamp)));
  item.appendChild(el("span", "context-who", message.sender + " → " + message.receiver));
  item.appendChild(written("span", "content-text", message.message));
  if (message.deleted) item.appendChild(el("span", "badge badge-type", "unsent"));
  if (message.status === "withheld") item.appendChild(el("span", "badge badge-type", "withheld"));
  return item;
}

// Show (or hide again) the context under the flag's row; `columns` is the row's width.
export function toggleContext(flag, row, columns) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains("context-row")) {
    next.remove();
    setExpanded(row, false);
    return Promise.resolve();
  }
  return api("/api/admin/flagged/" + encodeURIComponent(flag.id) + "/context")
    .then(function (context) {
      const detail = el("tr", "context-row");
      detail.setAttribute("role", "row");
      const cell = el("td");
      cell.setAttribute("role", "cell");
      cell.colSpan = columns;
      cell.appendChild(el("div", "context-head", context.receiver ? "Sent to " + context.receiver : "No conversation to show."));
      const list = el("ol", "context-list");
      context.messages.forEach(function (message) {
        list.appendChild(line(message, context.item_id));
      });
      cell.appendChild(list);
      detail.appendChild(cell);
      row.after(detail);
      setExpanded(row, true);
      refresh({ audit: true });
    })
    .catch(function (error) {
      toast(error.message, "error");
    });
}

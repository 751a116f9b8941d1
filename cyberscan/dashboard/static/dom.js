// DOM helpers shared by the dashboard modules. Every string that came from a user is
// inserted with textContent, never as markup. `$` and `el` are the web client's (one
// public copy, cyberscan/web/static/js/dom.js); the rest are the dashboard's own.

import { $, el } from "/web/static/js/dom.js";

export { $, el };

export function button(label, className, onClick) {
  const node = el("button", "btn btn-sm " + className, label);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

export function badge(text, kind) {
  return el("span", "badge badge-" + kind, text);
}

// A user as the API sends it (an object with a username, or a bare name).
export function name(value) {
  if (value && typeof value === "object") return value.username || "";
  return value === undefined || value === null ? "" : String(value);
}

export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (isNaN(date.getTime())) return String(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (sameDay) return time;
  return date.toLocaleDateString([], { month: "short", day: "numeric" }) + ", " + time;
}

export function formatNumber(value) {
  return typeof value === "number" ? value.toLocaleString() : "–";
}

export function toast(text, kind) {
  const node = el("div", "toast toast-" + (kind || "info"), text);
  const box = $("toasts");
  box.appendChild(node);
  while (box.children.length > 4) box.firstChild.remove();
  setTimeout(function () {
    node.classList.add("toast-out");
    setTimeout(function () {
      node.remove();
    }, 400);
  }, 4000);
}

// One page of a paginated table (`<prefix>-body`, `-more`, `-empty`): replaces the rows,
// or appends them for "Load more"; answers the cursor of the next page.
export function showPage(prefix, page, rowOf, more) {
  const body = $(prefix + "-body");
  const rows = page.items.map(rowOf);
  if (more) rows.forEach(function (row) { body.appendChild(row); });
  else body.replaceChildren(...rows);
  $(prefix + "-more").hidden = !page.next_cursor;
  $(prefix + "-empty").hidden = body.children.length > 0;
  return page.next_cursor;
}

// DOM helpers shared by the dashboard modules. Every string that came from a user is
// inserted with textContent, never as markup. `$` and `el` are the web client's (one
// public copy, cyberscan/web/static/js/dom.js); the rest are the dashboard's own.

import { $, el } from "/web/static/js/dom.js";

export { $, el };

// `spoken`: the name a screen reader says, when the label alone is the same in every
// row ("Dismiss"); it starts with the visible label, so voice control still finds it.
export function button(label, className, onClick, spoken) {
  const node = el("button", "btn btn-sm " + className, label);
  node.type = "button";
  if (spoken) node.setAttribute("aria-label", spoken);
  node.addEventListener("click", onClick);
  return node;
}

// Text a person wrote (a message, a reason): its direction comes from its own letters,
// so Arabic or Hebrew reads right to left, punctuation included, in a left-to-right page.
export function written(tag, className, text) {
  const node = el(tag, className, text);
  node.dir = "auto";
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

// The start of a text, for a button's spoken name: “you are a worthless…”.
export function excerpt(text, length) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  return "“" + (flat.length > length ? flat.slice(0, length - 1) + "…" : flat) + "”";
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

// "1 strike", "3 strikes": a count and the word that goes with it.
export function plural(count, one, many) {
  return formatNumber(count) + " " + (count === 1 ? one : many);
}

// Focus inside a notice that goes away goes to `next`, else back to where it was when
// the notice appeared (when that is still on the page), else to the page's main part.
function dropNotice(node, next) {
  const held = node.contains(document.activeElement);
  node.remove();
  if (!held) return;
  const back = node.focusBefore;
  const home = back && back !== document.body && back.isConnected ? back : $("main");
  (next || home).focus();
}

// A success or a live alert fades after 4 s. An error stays until it is closed or a
// newer error takes its place: it may say what to do, and a moderator may be looking
// elsewhere or need longer than 4 s to read it (WCAG 2.2.1, timing adjustable).
export function toast(text, kind) {
  const node = el("div", "toast toast-" + (kind || "info"), text);
  const box = $("toasts");
  if (kind === "error") {
    const close = el("button", "toast-close");
    close.type = "button";
    close.setAttribute("aria-label", "Close");
    close.addEventListener("click", function () { dropNotice(node); });
    node.appendChild(close);
  }
  const olders = kind === "error" ? Array.from(box.querySelectorAll(".toast-error")) : [];
  node.focusBefore = olders.length ? olders[0].focusBefore : document.activeElement;
  box.appendChild(node);
  olders.forEach(function (old) { dropNotice(old, node.lastChild); });
  while (box.children.length > 4) (box.querySelector(".toast:not(.toast-error)") || box.firstChild).remove();
  if (kind === "error") return;
  setTimeout(function () {
    node.classList.add("toast-out");
    setTimeout(function () {
      node.remove();
    }, 400);
  }, 4000);
}

// A disclosure button's state (`aria-expanded`) in `row`, for rows that have one.
export function setExpanded(row, open) {
  const toggle = row.querySelector("[aria-expanded]");
  if (toggle) toggle.setAttribute("aria-expanded", open ? "true" : "false");
}

// What identifies a table row across reloads: its flag, report, appeal or user.
function rowKey(row) {
  const data = row.dataset;
  return data.flagId || data.reportId || data.appealId || data.username || "";
}

function sameControl(old, fresh, control) {
  const kind = control.tagName;
  const olds = Array.from(old.querySelectorAll(kind));
  const match = Array.from(fresh.querySelectorAll(kind)).filter(function (node) {
    return kind === "INPUT" || node.textContent === control.textContent;
  });
  return match[kind === "INPUT" ? olds.indexOf(control) : 0] || null;
}

// Where `control` (a button or field in a row of `body`) is now: itself while it is on
// the page, else the same control of its row as a reload rebuilt it (null if gone).
export function sameOnPage(control, body) {
  if (!control || control.isConnected) return control;
  const row = control.closest("tr");
  const fresh = row && body && Array.from(body.children).find(function (other) {
    return rowKey(other) === rowKey(row);
  });
  return fresh ? sameControl(row, fresh, control) : null;
}

// A reload (live, polled, or after an action) rebuilds the rows; what the moderator was
// in the middle of carries over to the rebuilt row: the text typed in its fields, the
// open context under it, and the keyboard focus. When the focused row is gone (decided
// here or by another admin), focus moves to the row now in its place, or to the
// table's "nothing here" line, never to the top of the page.
function carryOver(body, rows, details, empty) {
  const fresh = new Map(rows.map(function (row) { return [rowKey(row), row]; }));
  const active = document.activeElement;
  let focus = null;
  let focusIndex = -1;
  const old = Array.from(body.children).filter(function (row) { return !row.classList.contains("context-row"); });
  old.forEach(function (row, index) {
    const next = fresh.get(rowKey(row));
    const detail = row.nextElementSibling;
    if (next && detail && detail.classList.contains("context-row")) {
      details.set(next, detail);
      setExpanded(next, true);
    }
    if (next) {
      const fields = next.querySelectorAll("input");
      row.querySelectorAll("input").forEach(function (input, i) {
        if (fields[i] && input.value) fields[i].value = input.value;
      });
    }
    if (!row.contains(active) || active === row) return;
    focusIndex = index;
    const control = next && sameControl(row, next, active);
    if (control) {
      focus = function () {
        control.focus();
        if (control.tagName === "INPUT" && active.selectionStart !== null) {
          control.setSelectionRange(active.selectionStart, active.selectionEnd);
        }
      };
    }
  });
  return function () {
    if (focus) return focus();
    if (focusIndex < 0) return;
    const place = rows[Math.min(focusIndex, rows.length - 1)];
    const target = place && place.querySelector("button, input");
    if (target) target.focus();
    else if (empty) {
      empty.tabIndex = -1;
      empty.focus();
    }
  };
}

// On a phone a table's rows stack into cards (dashboard.css) and its header row is
// hidden: each cell that shows something carries its column's name to show above it,
// which screen readers read too (an empty cell is left out of the card). The roles keep
// the table a table for screen readers, whatever `display` the stacked layout sets.
function labelCells(body, rows) {
  const names = Array.from(body.closest("table").tHead.rows[0].cells).map(function (th) {
    return th.textContent;
  });
  rows.forEach(function (row) {
    row.setAttribute("role", "row");
    Array.from(row.cells).forEach(function (cell, index) {
      cell.setAttribute("role", "cell");
      const shows = cell.textContent.trim() || cell.querySelector("button, input, select, a");
      if (names[index] && shows) cell.dataset.label = names[index];
    });
  });
}

// A press in progress on a table's rows (a pointer down, not yet up): a reload of that
// table that lands meanwhile is drawn once the pointer is released, after the click it
// makes, so the click lands on the button pressed (rebuilt in between, the press and the
// release would land on two buttons, and no click would happen). While a redraw waits,
// the table body is aria-busy.
let pressedIn = null;
const waiting = new Map();

function drawWaiting() {
  waiting.forEach(function (draw, body) {
    if (body === pressedIn) return;
    waiting.delete(body);
    draw();
  });
}

function release() {
  pressedIn = null;
  if (waiting.size) setTimeout(drawWaiting);
}

document.addEventListener("pointerdown", function (event) {
  pressedIn = event.target instanceof Element ? event.target.closest("tbody") : null;
}, true);
document.addEventListener("pointerup", release, true);
document.addEventListener("pointercancel", release, true);
window.addEventListener("blur", release);

// One page of a paginated table (`<prefix>-body`, `-more`, `-empty`): replaces the rows,
// or appends them for "Load more"; answers the cursor of the next page.
export function showPage(prefix, page, rowOf, more) {
  const body = $(prefix + "-body");
  const draw = function () {
    body.removeAttribute("aria-busy");
    const rows = page.items.map(rowOf);
    labelCells(body, rows);
    let refocus = null;
    if (more) rows.forEach(function (row) { body.appendChild(row); });
    else {
      const details = new Map();
      refocus = carryOver(body, rows, details, $(prefix + "-empty"));
      body.replaceChildren(...rows.flatMap(function (row) { return details.has(row) ? [row, details.get(row)] : [row]; }));
    }
    $(prefix + "-more").hidden = !page.next_cursor;
    $(prefix + "-empty").hidden = body.children.length > 0;
    if (refocus) refocus();
  };
  if (more) draw();
  else if (body === pressedIn) {
    waiting.set(body, draw); // a later reload replaces a waiting one
    body.setAttribute("aria-busy", "true");
  } else {
    waiting.delete(body);
    draw();
  }
  return page.next_cursor;
}

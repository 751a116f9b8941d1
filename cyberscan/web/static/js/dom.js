// Small DOM helpers. Every string that came from a person goes in as textContent.

export function $(id) {
  return document.getElementById(id);
}

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// A person's own words: the direction follows the text (an Arabic or Hebrew message reads
// right to left, its punctuation where its writer put it), whatever the page's is.
export function words(tag, className, text) {
  const node = el(tag, className, text);
  node.dir = "auto";
  return node;
}

export function button(label, className, onClick, ariaLabel) {
  const node = el("button", className, label);
  node.type = "button";
  if (ariaLabel) node.setAttribute("aria-label", ariaLabel);
  node.addEventListener("click", onClick);
  return node;
}

// A form built in script: a labelled text area, its submit button and, hidden until
// something is wrong, the alert that says what.
export function textForm(className, { id, label, rows, submit }) {
  const form = el("form", className);
  form.noValidate = true;
  const caption = el("label", "", label);
  caption.htmlFor = id;
  const input = el("textarea");
  input.id = id;
  input.dir = "auto";
  input.rows = rows;
  const send = el("button", "btn btn-sm btn-primary", submit);
  send.type = "submit";
  const error = el("p", "form-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  return { form, caption, input, submit: send, error };
}

// A disabled control loses the focus to the page itself, where a keyboard or screen
// reader user is lost. Taken while `control` has the focus, before disabling it: answers
// `restore(fallback)`, which gives the focus back to the control once it is usable again,
// or to `fallback` if it went away meanwhile (hidden: nothing more to load), unless
// something else took the focus in between (a new screen, a dialog). A control just
// hidden may still hold the focus: the browser moves it to the page only later.
export function keepFocus(control) {
  const focused = document.activeElement === control;
  return (fallback = null) => {
    const now = document.activeElement;
    if (!focused || (now && now !== document.body && now !== control)) return;
    const usable = !control.disabled && control.getClientRects().length > 0;
    const target = usable ? control : fallback;
    if (target) target.focus();
  };
}

// Run `action` with `control` (a submit button) disabled, so it is not sent twice, and
// the focus kept on it (keepFocus). `fallback()` names where the focus goes if the control
// is gone afterwards.
export async function whileBusy(control, action, fallback = () => null) {
  const restore = keepFocus(control);
  control.disabled = true;
  try {
    return await action();
  } finally {
    control.disabled = false;
    restore(fallback());
  }
}

export function showError(node, error) {
  node.textContent = typeof error === "string" ? error : error.message;
  node.hidden = false;
}

export function hide(...nodes) {
  for (const node of nodes) node.hidden = true;
}

export function toast(text, kind = "error") {
  const box = $("toasts");
  const node = el("div", "toast toast-" + kind, text);
  node.addEventListener("click", () => node.remove());
  box.appendChild(node);
  while (box.children.length > 3) box.firstChild.remove();
  setTimeout(() => node.remove(), 6000);
}

export function announce(text) {
  const node = $("announcer");
  node.textContent = "";
  setTimeout(() => (node.textContent = text), 50);
}

export function initial(name) {
  return (name || "?").slice(0, 1).toUpperCase();
}

// A stable pastel colour per username, so avatars are recognisable at a glance.
export function avatar(node, name) {
  let hash = 0;
  for (const ch of name || "") hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  node.textContent = initial(name);
  node.dataset.hue = String(hash % 8);
}

// A text box as tall as its text (and its borders), up to `max` pixels; its rows when
// empty.
export function fitHeight(input, max) {
  input.style.height = "auto";
  if (!input.value) return;
  const frame = input.offsetHeight - input.clientHeight;
  input.style.height = `${Math.min(input.scrollHeight + frame, max)}px`;
}

export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const now = new Date();
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (date.toDateString() === now.toDateString()) return time;
  return date.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + time;
}

export function shortTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const now = new Date();
  if (date.toDateString() === now.toDateString()) {
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  return date.toLocaleDateString([], { month: "short", day: "numeric" });
}

// A UUID v4 from getRandomValues: crypto.randomUUID exists only in secure contexts,
// and the client may be served over plain HTTP on a LAN.
export function uuid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Line icons drawn as SVG (no icon font, no emoji: both depend on what is installed).
const ICONS = {
  check: ["M20 6 9 17l-5-5"],
  checks: ["M17 6 7 16l-4-4", "m22 8-8.5 8.5-1.2-1.2"],
  clock: ["M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z", "M12 7v5l3 2"],
  ban: ["M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z", "m5.6 5.6 12.8 12.8"],
  alert: ["M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z", "M12 9v4", "M12 17h.01"],
};

export function icon(name, className = "icon") {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", className);
  svg.setAttribute("aria-hidden", "true");
  for (const d of ICONS[name]) {
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

// Someone else's flagged message, post or comment (API.md §9): its text stays hidden
// behind a button that shows it; once shown, Hide and the item's own `actions`.
// `box` holds `text`; `what` names the item ("message", "post", "comment").
export function hurtfulCover(box, text, what, actions = []) {
  text.hidden = true;
  const cover = el("div", "hurtful");
  const tools = el("div", "hurtful-tools");
  tools.hidden = true;
  const reveal = button(`This ${what} may be hurtful — show it`, "reveal-btn", () => {
    text.hidden = false;
    cover.hidden = true;
    tools.hidden = false;
    hideBtn.focus();
    tools.scrollIntoView({ block: "nearest" }); // all of its buttons, not only Hide
  });
  const hideBtn = button("Hide", "chip", () => {
    text.hidden = true;
    tools.hidden = true;
    cover.hidden = false;
    reveal.focus();
  });
  cover.append(icon("alert", "icon hurtful-icon"), reveal);
  tools.append(hideBtn, ...actions);
  box.prepend(cover);
  box.append(tools);
}

// The mark on one's own flagged message, post or comment.
export function flagMark(what) {
  const mark = el("span", "flag-mark", "Flagged");
  mark.title = `The filter flagged this ${what} as possibly hurtful.`;
  return mark;
}

// Ask before something that cannot be undone, in the page's own <dialog> (Escape or
// Cancel say no); resolves true when the person chose `action`.
export function confirmAction(question, action) {
  const dialog = $("confirm-dialog");
  $("confirm-text").textContent = question;
  $("confirm-ok").textContent = action;
  dialog.returnValue = "";
  dialog.showModal();
  $("confirm-cancel").focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

// The conversation list (last message, unread badge, presence, typing), kept live, and
// the username search that starts a new conversation.

import { api, enc } from "./api.js";
import { $, announce, avatar, el, shortTime, words } from "./dom.js";
import { isMine, peerOf, sameName, state } from "./state.js";

const SEARCH_DELAY_MS = 250;
const TITLE = "CyberScan Messenger";
const REFRESH_DELAY_MS = 300;

let opener = () => {};
let presenceChanged = () => {};
let selected = null;
let refreshTimer = null;
let searchTimer = null;
let searchSeq = 0;
// Stored messages that went by live (their count): a list asked for before one of them
// may not hold it, so a list that answers after one went by is asked for again.
let liveMessages = 0;

// `open(name)` opens a conversation; `presence()` redraws what shows who is online.
export function setHooks(hooks) {
  opener = hooks.open;
  presenceChanged = hooks.presence;
}

export async function load() {
  const before = liveMessages;
  try {
    state.conversations = await api("GET", "/api/chat/conversations");
    // Someone becomes a contact with their first message, which no presence event
    // announces: the list says whether they are online.
    for (const conv of state.conversations) {
      if (conv.online) state.online.add(conv.username);
      else state.online.delete(conv.username);
    }
  } catch (error) {
    $("conversations-empty").textContent = error.message;
    $("conversations-empty").hidden = false;
    return;
  }
  render();
  presenceChanged();
  if (liveMessages !== before) refreshSoon();
}

export function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(load, REFRESH_DELAY_MS);
}

export function canonicalName(name) {
  const found = state.conversations.find((conv) => sameName(conv.username, name));
  return found ? found.username : name;
}

function find(name) {
  return state.conversations.find((conv) => sameName(conv.username, name));
}

// Whether a message went between us: only then does the server share their presence.
export function isContact(name) {
  return Boolean(find(name));
}

// Whether the list, whose last message is `last`, already holds the stored `message`
// (a list asked for after it was stored answered before its event came): it is that
// last message, or older. Only the server's own last message is compared.
function holds(last, message) {
  if (!last || last.id == null) return false;
  return last.id === message.id || Date.parse(message.timestamp) < Date.parse(last.timestamp);
}

// A message went by (sent or received): it becomes the conversation's last message,
// unless the list holds it already.
export function touch(name, message, unread = false) {
  let conv = find(name);
  if (message.id != null) {
    liveMessages += 1;
    if (conv && holds(conv.last_message, message)) return;
  }
  if (!conv) {
    conv = { username: name, last_message: null, unread_count: 0, online: state.online.has(name) };
    refreshSoon(); // a new contact: the server knows whether they are online
  }
  conv.last_message = message;
  if (unread) conv.unread_count = (conv.unread_count || 0) + 1;
  state.conversations = [conv, ...state.conversations.filter((c) => c !== conv)];
  render();
}

export function received(message, seen) {
  const unread = !isMine(message) && !seen;
  touch(peerOf(message), message, unread);
  if (unread && !sameName(message.sender, state.peer)) {
    announce(`New message from ${message.sender}`);
  }
}

export function unreadOf(name) {
  const conv = find(name);
  return conv ? conv.unread_count || 0 : 0;
}

export function clearUnread(name) {
  const conv = find(name);
  if (conv && conv.unread_count) {
    conv.unread_count = 0;
    render();
  }
}

export function select(name) {
  selected = name;
  render();
}

// What the list says of the last message: [prefix, the person's words, kind].
function preview(conv) {
  if (state.typing.has(conv.username)) return ["typing…", "", "typing"];
  const last = conv.last_message;
  if (!last) return ["No messages yet", "", ""];
  if (!isMine(last) && last.is_bullying) return ["A message that may be hurtful", "", "hurtful"];
  return [isMine(last) ? "You: " : "", last.message, "said"];
}

// One row per person, kept across renders: presence, typing and new messages redraw
// the list often, and a row replaced between a press and its release would lose the
// click (and a focused row its focus). A row's contents are drawn afresh; the row and
// its button stay, and only rows out of place move.
const rows = new Map();

function row(name) {
  let li = rows.get(name);
  if (!li) {
    li = el("li");
    const btn = el("button", "conv");
    btn.type = "button";
    btn.dataset.username = name;
    btn.addEventListener("click", () => opener(name));
    li.append(btn);
    rows.set(name, li);
  }
  return li;
}

function draw(btn, conv) {
  const name = conv.username;
  const online = state.online.has(name) && !state.blocked.has(name);
  const unread = conv.unread_count || 0;
  if (selected && sameName(selected, name)) btn.setAttribute("aria-current", "true");
  else btn.removeAttribute("aria-current");
  const pic = el("span", "avatar");
  avatar(pic, name);
  const dot = el("span", "presence");
  dot.dataset.online = online ? "1" : "0";
  pic.append(dot);
  const body = el("span", "conv-body");
  const top = el("span", "conv-top");
  top.append(el("span", "conv-name", name));
  if (state.muted.has(name)) top.append(el("span", "tag", "muted"));
  if (state.blocked.has(name)) top.append(el("span", "tag tag-danger", "blocked"));
  top.append(el("time", "conv-time", conv.last_message ? shortTime(conv.last_message.timestamp) : ""));
  const bottom = el("span", "conv-bottom");
  const [prefix, said, kind] = preview(conv);
  const last = el("span", "conv-last " + kind, said ? undefined : prefix);
  // The message in its own direction, isolated, so "You: " stays in front of it.
  if (said) last.append(el("span", "", prefix), words("bdi", "", said));
  bottom.append(last);
  if (unread) bottom.append(el("span", "unread-badge", unread > 99 ? "99+" : unread));
  body.append(top, bottom);
  btn.replaceChildren(pic, body);
  // The tags, which the eye reads beside the name, are heard with it.
  const parts = [name, ...[...top.querySelectorAll(".tag")].map((tag) => tag.textContent)];
  parts.push(online ? "online" : "offline");
  if (unread) parts.push(`${unread} unread`);
  parts.push(prefix + said);
  btn.setAttribute("aria-label", parts.join(", "));
}

export function render() {
  const box = $("conversation-list");
  const focused = document.activeElement;
  const names = new Set(state.conversations.map((conv) => conv.username));
  for (const [name, li] of rows) {
    if (!names.has(name)) {
      li.remove();
      rows.delete(name);
    }
  }
  state.conversations.forEach((conv, index) => {
    const li = row(conv.username);
    draw(li.firstChild, conv);
    const here = box.children[index];
    if (here !== li) box.insertBefore(li, here || null);
  });
  // A row that moved (a new message puts it on top) keeps the focus it had.
  if (focused !== document.activeElement && box.contains(focused)) focused.focus({ preventScroll: true });
  const unread = state.conversations.reduce((sum, conv) => sum + (conv.unread_count || 0), 0);
  document.title = unread ? `(${unread}) ${TITLE}` : TITLE;
  const empty = state.conversations.length === 0;
  $("conversations-empty").hidden = !empty;
  if (empty) {
    $("conversations-empty").textContent = "No conversations yet. Search a username above to start one.";
  }
}

// ------------------------------------------------------------------ presence

export function onlineUsers(names) {
  state.online = new Set(Array.isArray(names) ? names : []);
  render();
  presenceChanged();
}

export function joined(name) {
  state.online.add(name);
  render();
  presenceChanged();
}

export function left(name) {
  state.online.delete(name);
  render();
  presenceChanged();
}

// ------------------------------------------------------------------ search

function results() {
  return $("search-results");
}

function closeResults() {
  results().hidden = true;
  results().replaceChildren();
  $("new-chat-name").setAttribute("aria-expanded", "false");
}

// The results closed, and a search still waiting or out forgotten.
function dropResults() {
  clearTimeout(searchTimer);
  searchSeq++;
  closeResults();
}

// The search box emptied (another person may use the page next).
export function clearSearch() {
  dropResults();
  $("new-chat-name").value = "";
  $("search-error").hidden = true;
}

async function search(query) {
  const seq = ++searchSeq;
  const error = $("search-error");
  try {
    const page = await api("GET", `/api/users/search?q=${enc(query)}&limit=8`);
    if (seq !== searchSeq) return;
    error.hidden = true;
    const names = (page.items || [])
      .map((item) => item.username)
      .filter((name) => !sameName(name, state.me.username));
    const options = names.map((name) => {
      const li = el("li");
      const btn = el("button", "result");
      btn.type = "button";
      const pic = el("span", "avatar avatar-sm");
      avatar(pic, name);
      btn.append(pic, el("span", "", name));
      btn.dataset.username = name;
      btn.addEventListener("click", () => start(name));
      btn.addEventListener("keydown", (event) => moveInResults(event, btn));
      li.append(btn);
      return li;
    });
    if (!options.length) options.push(el("li", "no-results", "Nobody by that name."));
    results().replaceChildren(...options);
    results().hidden = false;
    $("new-chat-name").setAttribute("aria-expanded", "true");
  } catch (err) {
    if (seq !== searchSeq) return;
    closeResults();
    error.textContent = err.message;
    error.hidden = false;
  }
}

function moveInResults(event, btn) {
  const buttons = [...results().querySelectorAll("button")];
  const index = buttons.indexOf(btn);
  if (event.key === "ArrowDown" && index < buttons.length - 1) buttons[index + 1].focus();
  else if (event.key === "ArrowUp") (index > 0 ? buttons[index - 1] : $("new-chat-name")).focus();
  else if (event.key === "Escape") {
    // Focused first: back in the box with the list closed, the box would search again.
    $("new-chat-name").focus();
    dropResults();
  } else return;
  event.preventDefault();
}

async function start(name) {
  const input = $("new-chat-name");
  if (await opener(name)) {
    input.value = "";
    closeResults();
    $("search-error").hidden = true;
  }
}

// The results belong to the search form (the box and its list): they close when the
// focus or a press goes elsewhere, rather than staying over the rows they cover. A
// press is watched as well as the focus because Safari does not focus a button that
// is clicked. Back in the box, what it holds is looked up again.
function closeOutside(form, input) {
  document.addEventListener("pointerdown", (event) => {
    if (!form.contains(event.target)) dropResults();
  });
  form.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !form.contains(event.relatedTarget)) dropResults();
  });
  input.addEventListener("focus", () => {
    const query = input.value.trim();
    if (results().hidden && query.length >= 2) search(query);
  });
}

export function setup() {
  const input = $("new-chat-name");
  input.addEventListener("input", () => {
    const query = input.value.trim();
    $("search-error").hidden = true;
    if (query.length < 2) {
      dropResults();
      return;
    }
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => search(query), SEARCH_DELAY_MS);
  });
  closeOutside($("new-chat"), input);
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      const first = results().querySelector("button");
      if (first) {
        event.preventDefault();
        first.focus();
      }
    } else if (event.key === "Escape") dropResults();
  });
  // Enter opens the conversation with exactly the name typed.
  $("new-chat").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) return;
    if (sameName(name, state.me.username)) {
      $("search-error").textContent = "That is you: pick someone else.";
      $("search-error").hidden = false;
      return;
    }
    clearTimeout(searchTimer);
    searchSeq++;
    start(name);
  });
}

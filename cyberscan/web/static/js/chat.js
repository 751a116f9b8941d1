// The open conversation: history with infinite scroll upwards (keyset cursors), live
// messages, typing, ticks, unsend, flagged messages collapsed, and catching up with
// `?after=` after a reconnect.

import { api, enc } from "./api.js";
import * as conversations from "./conversations.js";
import {
  $,
  announce,
  avatar,
  button,
  el,
  fitHeight,
  flagMark,
  formatTime,
  hurtfulCover,
  icon,
  toast,
  whileBusy,
  words,
} from "./dom.js";
import * as live from "./live.js";
import { block, openReport, reload as reloadControls } from "./safety.js";
import { isMine, peerOf, sameName, state } from "./state.js";

const PAGE = 30;
const MARK_READ_MAX = 500; // the most ids mark_as_read and POST /api/chat/gone take
const MAX_UNREAD_PAGES = 10;
const CATCH_UP_PAGE = 100;
const NEAR_TOP_PX = 80;
const NEAR_BOTTOM_PX = 140;
const TYPING_SEND_MS = 2500;
const TYPING_IDLE_MS = 3000;
const TYPING_SHOW_MS = 6000;

const TICKS = {
  pending: ["clock", "Sending…"],
  sent: ["check", "Sent"],
  delivered: ["checks", "Delivered"],
  read: ["checks", "Read"],
  withheld: ["ban", "Held back by moderation: not delivered"],
  failed: ["alert", "Not sent"],
};

const view = {
  nodes: new Map(), // message id -> <li>
  pending: new Map(), // client_id -> <li>
  readEarly: new Set(), // ids read before their `send_message` answer arrived
  cursor: null, // next_cursor towards older messages
  // While the socket is down and until catching up ends: `after` is the newest message
  // shown when it dropped (what to catch up from), `mark` the first message shown after
  // it came back (what the missed ones go before), `at` where the last page of catching
  // up left off (undefined before the first page; null is the bottom).
  gap: null,
  loadingOlder: null, // the page of older messages on its way (one at a time)
  generation: 0, // bumps on every open, so late answers for another peer are dropped
};

let typingSentAt = 0;
let typingIdle = null;

// What is typed and not sent, by conversation: a line meant for one person never waits
// in the box of another, and comes back when its conversation opens again.
const drafts = new Map(); // lowercased username -> text

// The drafts, the open conversation and whether Posts was showing are kept in this
// tab's sessionStorage, so a reload finds them again for the same person; logging out
// or another person logging in forgets them (forgetDrafts).
const SAVED_KEY = "cyberscan.chat";
let saved = readSaved(); // what this tab held before it was loaded, until a session takes it
let inPosts = false;

function readSaved() {
  try {
    const held = JSON.parse(sessionStorage.getItem(SAVED_KEY));
    return held && typeof held.user === "string" && Array.isArray(held.drafts) ? held : null;
  } catch {
    return null; // storage refused (a private window's quota) or not ours
  }
}

function save() {
  if (!state.me) return;
  const held = { user: state.me.username, peer: state.peer, drafts: [...drafts], posts: inPosts };
  try {
    sessionStorage.setItem(SAVED_KEY, JSON.stringify(held));
  } catch {
    // a full or refused storage loses only what a reload would have restored
  }
}

// The person whose drafts this tab held before it was loaded (null when none).
export function savedUser() {
  return saved && saved.user;
}

// At the start of that person's session: their drafts back, and what they had open:
// `{ peer, posts }`, the conversation's name (for the caller to open once the list is
// loaded) or null, and whether Posts was showing.
export function restore() {
  const held = saved;
  saved = null;
  if (!held || !sameName(held.user, state.me.username)) return { peer: null, posts: false };
  for (const [peer, text] of held.drafts) {
    if (typeof peer === "string" && typeof text === "string") drafts.set(peer, text);
  }
  save();
  return { peer: typeof held.peer === "string" ? held.peer : null, posts: held.posts === true };
}

// Chats or Posts is showing (main.js's showView), kept for a reload.
export function keepView(posts) {
  inPosts = posts;
  save();
}

function keepDraft() {
  if (!state.peer) return;
  const text = $("composer-input").value;
  if (text.trim()) drafts.set(state.peer.toLowerCase(), text);
  else drafts.delete(state.peer.toLowerCase());
  save();
}

function showDraft() {
  $("composer-input").value = (state.peer && drafts.get(state.peer.toLowerCase())) || "";
  fitComposer();
}

// Someone else may use this page next (logging out, another person logging in).
export function forgetDrafts() {
  drafts.clear();
  saved = null;
  inPosts = false;
  try {
    sessionStorage.removeItem(SAVED_KEY);
  } catch {
    // nothing was kept
  }
  showDraft();
}

// ------------------------------------------------------------------ rendering

function statusOf(message) {
  if (message.is_read) return "read";
  if (message.status === "withheld") return "withheld";
  if (message.status === "delivered") return "delivered";
  return "sent";
}

function setTicks(node, status, detail) {
  if (!node.classList.contains("mine")) return;
  const order = ["pending", "sent", "delivered", "read"];
  const current = node.dataset.status;
  // Ticks only move forward (a late `message_sent` must not undo "read").
  if (order.includes(current) && order.includes(status)) {
    if (order.indexOf(status) < order.indexOf(current)) return;
  }
  node.dataset.status = status;
  const ticks = node.querySelector(".ticks");
  const [glyph, label] = TICKS[status];
  ticks.replaceChildren(icon(glyph, "icon icon-tick"));
  ticks.setAttribute("aria-label", label);
  ticks.title = label;
  const note = node.querySelector(".msg-note");
  if (status === "failed" || status === "withheld") {
    note.textContent = detail || label;
    note.hidden = false;
  } else {
    note.hidden = true;
  }
}

function messageNode(message, status) {
  const mine = isMine(message);
  const node = el("li", "msg " + (mine ? "mine" : "theirs"));
  if (message.id) node.dataset.id = message.id;
  if (message.client_id) node.dataset.clientId = message.client_id;
  node.dataset.read = message.is_read ? "1" : "0";
  const bubble = el("div", "bubble");
  const text = words("p", "text", message.message);
  const meta = el("div", "meta");
  const time = el("time", "time", formatTime(message.timestamp));
  time.dateTime = message.timestamp;
  meta.append(time);
  bubble.append(text, meta);
  // Who wrote it, for a screen reader: the side and the colour say it only to the eye.
  node.append(el("span", "visually-hidden", mine ? "You said:" : `${message.sender} said:`), bubble);
  if (mine) {
    const ticks = el("span", "ticks");
    ticks.setAttribute("role", "img");
    meta.append(ticks);
    const note = el("p", "msg-note");
    note.hidden = true;
    node.append(note);
    if (message.is_bullying) flagMine(node);
    setTicks(node, status || statusOf(message));
    if (message.id) addUnsend(node);
  } else if (message.is_bullying) {
    node.classList.add("flagged");
    // Offered only while the sender is not blocked (refreshHeader keeps it so).
    const blockSender = button("Block " + message.sender, "chip chip-danger block-sender", () =>
      block(message.sender),
    );
    blockSender.hidden = state.blocked.has(message.sender);
    hurtfulCover(node.querySelector(".bubble"), node.querySelector(".text"), "message", [
      button("Report", "chip chip-danger", () => openReport({ message })),
      blockSender,
    ]);
  } else if (message.id) {
    sideAction(node, "Report", "report", () => openReport({ message }), "Report this message");
  }
  return node;
}

function flagMine(node) {
  if (node.querySelector(".flag-mark")) return;
  node.classList.add("flagged");
  node.querySelector(".meta").prepend(flagMark("message"));
}

// A button beside the bubble, shown on hover or focus.
function sideAction(node, label, className, onClick, ariaLabel) {
  if (node.querySelector(`.msg-action.${className}`)) return;
  node.append(button(label, `msg-action ${className}`, onClick, ariaLabel));
  // Touch screens have no hover: a tap on the bubble shows its action.
  node.querySelector(".bubble").addEventListener("click", () => node.classList.toggle("show-actions"));
}

function addUnsend(node) {
  sideAction(node, "Unsend", "unsend", () => unsendMessage(node), "Unsend this message");
}

async function unsendMessage(node) {
  const id = node.dataset.id;
  try {
    await api("DELETE", `/api/chat/messages/${enc(id)}`);
    removeMessage(id); // unless `message_deleted` came first and did
    announce("Message unsent.");
    conversations.refreshSoon();
  } catch (error) {
    toast(error.message);
  }
}

// A message that had the focus went away (unsent, dismissed): focus goes where one
// writes, or to Unblock when the box is closed by a block, never to the page's end.
function backToComposer() {
  const input = $("composer-input");
  (input.disabled ? $("peer-unblock") : input).focus();
}

function list() {
  return $("messages");
}

function scroller() {
  return $("messages-scroll");
}

function nearBottom() {
  const box = scroller();
  return box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_BOTTOM_PX;
}

function scrollToBottom() {
  const box = scroller();
  box.scrollTop = box.scrollHeight;
}

// Add messages (oldest first, in the server's order) once each: at the bottom, or, when
// catching up, merged with what is shown since the gap (a message already shown moves
// the insertion point past itself).
function appendMessages(messages, catchingUp = false) {
  const gap = catchingUp ? view.gap : null;
  let at = gap ? (gap.at === undefined ? gap.mark : gap.at) : null;
  for (const message of messages) {
    const shown = view.nodes.get(message.id);
    if (shown) {
      // A receipt that came while the socket was down is in the server's copy.
      if (message.is_read) setTicks(shown, "read");
      if (catchingUp) at = nextShown(shown);
      continue;
    }
    const pending = message.client_id && view.pending.get(message.client_id);
    live.settle(message);
    const node = messageNode(message);
    if (pending) {
      pending.replaceWith(node);
      view.pending.delete(message.client_id);
    } else if (at && at.isConnected) {
      list().insertBefore(node, at);
    } else {
      insertBeforePending(node);
    }
    view.nodes.set(message.id, node);
    if (!catchingUp) markGap(node);
  }
  if (gap) gap.at = at;
}

// Queued messages stay at the very bottom, after everything the server has.
function insertBeforePending(node) {
  const firstPending = list().querySelector("li.msg[data-status='pending'], li.msg[data-status='failed']:not([data-id])");
  list().insertBefore(node, firstPending);
}

function nextShown(node) {
  let next = node.nextElementSibling;
  while (next && !next.dataset.id) next = next.nextElementSibling;
  return next;
}

// The newest message shown (what `?after=` catches up from).
function newestShown() {
  const last = [...list().querySelectorAll("li.msg[data-id]")].pop();
  return last ? last.dataset.id : null;
}

function markGap(node) {
  if (view.gap && !view.gap.mark) view.gap.mark = node;
}

// The socket dropped: what arrives from now on may miss messages, until catching up.
export function disconnected() {
  if (state.peer && !view.gap) view.gap = { after: newestShown(), mark: null };
}

function prependMessages(messages) {
  const box = scroller();
  const before = box.scrollHeight;
  const first = list().firstChild;
  for (const message of messages) {
    if (view.nodes.has(message.id)) continue;
    const node = messageNode(message);
    list().insertBefore(node, first);
    view.nodes.set(message.id, node);
  }
  box.scrollTop += box.scrollHeight - before;
}

function removeMessage(id) {
  const node = view.nodes.get(id);
  if (!node) return;
  view.nodes.delete(id);
  const gap = view.gap;
  if (gap && gap.mark === node) gap.mark = nextShown(node);
  if (gap && gap.at === node) gap.at = nextShown(node);
  const focused = node.contains(document.activeElement);
  node.remove();
  if (focused) backToComposer();
  if (gap && gap.after === id) gap.after = null; // catch up by reopening
}

function showHistoryEdge() {
  const more = $("load-older");
  const start = $("history-start");
  const focused = document.activeElement === more;
  more.hidden = !view.cursor;
  start.hidden = Boolean(view.cursor); // an empty conversation starts here too
  // The first message came while the focus was on *Load earlier messages* (its Enter,
  // or the scroll that reaching it by keyboard makes): the focus goes to the line
  // that says so, not to the page.
  if (focused && more.hidden && !start.hidden) start.focus();
}

// ------------------------------------------------------------------ opening

export async function open(username) {
  const generation = ++view.generation;
  let page;
  try {
    // Whom I block and mute is not read again: block_changed and mute_changed keep it
    // current, and a reconnect reads it again (main.js catchUp).
    page = await api("GET", `/api/chat/messages/${enc(username)}?limit=${PAGE}`);
  } catch (error) {
    toast(error.message);
    return false;
  }
  if (generation !== view.generation) return false;
  const canonical = page.items.map(peerOf).find((name) => sameName(name, username));
  keepDraft();
  state.peer = canonical || conversations.canonicalName(username);
  showDraft();
  save();
  view.nodes.clear();
  view.readEarly.clear();
  view.pending.clear();
  view.cursor = page.next_cursor;
  view.gap = null;
  list().replaceChildren();
  $("no-conversation").hidden = true;
  $("conversation-view").hidden = false;
  document.body.classList.add("in-conversation");
  $("peer-name").textContent = state.peer;
  avatar($("peer-avatar"), state.peer);
  $("peer-menu").open = false;
  hideTyping();
  refreshHeader();
  appendMessages(page.items);
  if (!live.connected()) disconnected(); // history up to now; the socket adds the rest
  for (const item of live.outbox.items()) {
    if (sameName(item.receiver, state.peer)) showPending(item);
  }
  showHistoryEdge();
  scrollToBottom();
  conversations.select(state.peer);
  // Every unread message is read by opening the conversation, so fetch back to the
  // oldest one (within reason); and a short page on a tall screen leaves nothing to
  // scroll: fill it.
  await reachUnread(generation, conversations.unreadOf(state.peer));
  scrollToBottom();
  markRead();
  fillScreen(generation);
  return true;
}

async function reachUnread(generation, unread) {
  for (let pages = 0; pages < MAX_UNREAD_PAGES; pages++) {
    const shown = list().querySelectorAll("li.theirs[data-read='0']").length;
    if (generation !== view.generation || shown >= unread || !view.cursor) return;
    if (!(await loadOlder())) return;
  }
}

export function close() {
  view.generation++;
  keepDraft();
  state.peer = null;
  showDraft();
  save();
  $("conversation-view").hidden = true;
  $("no-conversation").hidden = false;
  document.body.classList.remove("in-conversation");
  conversations.select(null);
}

async function fillScreen(generation) {
  while (
    generation === view.generation &&
    view.cursor &&
    scroller().scrollHeight <= scroller().clientHeight
  ) {
    if (!(await loadOlder())) break;
  }
}

// The page before the oldest shown; a second call while one is on its way (scrolling
// and the button at once) waits for that one. Answers whether a page came.
export function loadOlder() {
  if (!view.loadingOlder) {
    view.loadingOlder = fetchOlder().finally(() => {
      view.loadingOlder = null;
    });
  }
  return view.loadingOlder;
}

async function fetchOlder() {
  if (!state.peer || !view.cursor) return false;
  const generation = view.generation;
  try {
    const page = await api(
      "GET",
      `/api/chat/messages/${enc(state.peer)}?limit=${PAGE}&cursor=${enc(view.cursor)}`,
    );
    if (generation !== view.generation) return false;
    view.cursor = page.next_cursor;
    prependMessages(page.items);
    showHistoryEdge();
    markRead();
    return true;
  } catch (error) {
    toast(error.message);
    return false;
  }
}

// After a reconnect: what arrived while the socket was down, once each.
// Answers sent and messages received since the reconnect may already be shown: the
// anchor is the newest message shown when the socket dropped, not the newest now.
export async function catchUp() {
  if (!state.peer) return;
  const anchor = view.gap ? view.gap.after : newestShown();
  if (view.gap) view.gap.at = undefined; // every catching up merges from the mark
  if (!anchor) {
    await open(state.peer);
    return;
  }
  const generation = view.generation;
  const peer = state.peer;
  let cursor = null;
  try {
    do {
      let path = `/api/chat/messages/${enc(peer)}?after=${enc(anchor)}&limit=${CATCH_UP_PAGE}`;
      if (cursor) path += `&cursor=${enc(cursor)}`;
      const page = await api("GET", path);
      if (generation !== view.generation) return;
      const stick = nearBottom();
      appendMessages(page.items, true);
      if (stick) scrollToBottom();
      cursor = page.next_cursor;
    } while (cursor);
  } catch (error) {
    if (generation !== view.generation) return;
    if (error.code === "not_found") {
      await open(peer); // the anchor was unsent meanwhile: reload the conversation
      return;
    }
    toast(error.message); // the gap stays: the next reconnect catches up from it
    markRead();
    return;
  }
  await dropGone(generation);
  if (live.connected()) view.gap = null;
  markRead();
}

// Messages unsent, or removed by a moderator, while this device was offline: their
// `message_deleted` was lost with the connection, so ask which of those shown are gone.
async function dropGone(generation) {
  const shown = [...view.nodes.keys()];
  for (let start = 0; start < shown.length; start += MARK_READ_MAX) {
    let answer;
    try {
      answer = await api("POST", "/api/chat/gone", {
        message_ids: shown.slice(start, start + MARK_READ_MAX),
      });
    } catch {
      return; // kept on screen; the next reconnect asks again
    }
    if (generation !== view.generation) return;
    for (const id of answer.message_ids) removeMessage(id);
  }
}

// ------------------------------------------------------------------ header

export function refreshHeader() {
  if (!state.peer) return;
  const peer = state.peer;
  const status = $("peer-status");
  const blocked = state.blocked.has(peer);
  if (state.typing.has(peer)) status.textContent = "typing…";
  else if (!conversations.isContact(peer)) {
    // Presence is shared between contacts only (API.md §9): before a first message,
    // nobody can tell whether this person is online, so the page does not say.
    status.textContent = "New conversation";
  } else status.textContent = state.online.has(peer) ? "Online" : "Offline";
  status.dataset.online = state.online.has(peer) ? "1" : "0";
  $("action-block").textContent = blocked ? "Unblock" : "Block";
  $("action-mute").textContent = state.muted.has(peer) ? "Unmute" : "Mute";
  $("peer-blocked-banner").hidden = !blocked;
  $("peer-blocked-text").textContent = `You blocked ${peer}. Neither of you can message the other.`;
  $("composer-input").disabled = blocked;
  $("send").disabled = blocked;
  for (const offer of list().querySelectorAll(".block-sender")) {
    // Blocked from the message itself: the focus goes to the banner's Unblock.
    if (blocked && offer === document.activeElement) $("peer-unblock").focus();
    offer.hidden = blocked;
  }
}

// ------------------------------------------------------------------ reading

// Everything shown from the peer counts as read while the page is visible and live;
// otherwise it waits for the next chance (visibility change, reconnect, new message).
export function markRead() {
  if (!state.peer || document.visibilityState !== "visible" || !live.connected()) return;
  const ids = [];
  for (const node of list().querySelectorAll("li.theirs[data-read='0']")) {
    ids.push(node.dataset.id);
    node.dataset.read = "1";
  }
  for (let start = 0; start < ids.length; start += MARK_READ_MAX) {
    live.emit("mark_as_read", { message_ids: ids.slice(start, start + MARK_READ_MAX) });
  }
  conversations.clearUnread(state.peer);
}

// ------------------------------------------------------------------ sending

function showPending(item) {
  if (view.pending.has(item.client_id)) return;
  const node = messageNode({
    sender: state.me.username,
    receiver: item.receiver,
    message: item.message,
    timestamp: item.timestamp,
    client_id: item.client_id,
  }, "pending");
  list().append(node);
  view.pending.set(item.client_id, node);
}

function sendText(text) {
  const item = live.sendMessage(state.peer, text);
  showPending(item);
  scrollToBottom();
  conversations.touch(state.peer, {
    sender: state.me.username,
    receiver: state.peer,
    message: text,
    timestamp: item.timestamp,
  });
  stopTyping();
}

// The server stored it (`send_message` ack or `message_sent`).
export function sent(item, data) {
  if (!sameName(item.receiver, state.peer)) return;
  const node = view.pending.get(item.client_id);
  if (!node) return;
  view.pending.delete(item.client_id);
  if (view.nodes.has(data.id)) {
    node.remove(); // already shown by catching up
    return;
  }
  node.dataset.id = data.id;
  view.nodes.set(data.id, node);
  markGap(node);
  if (data.is_bullying) flagMine(node);
  setTicks(node, data.status === "saved" ? "sent" : data.status);
  // The receiver may have read it before the answer came (a retried send's answer
  // arrives after a reconnect): `messages_read` named an id not shown yet, or, when
  // that receipt came while this page was offline, the answer itself says so.
  if (view.readEarly.delete(data.id) || data.is_read) setTicks(node, "read");
  addUnsend(node);
}

// The server refused it for good (validation, forbidden, blocked, muted): say why.
export function failed(item, error) {
  const node = view.pending.get(item.client_id);
  if (!node) {
    toast(error.message);
    return;
  }
  view.pending.delete(item.client_id);
  setTicks(node, "failed", error.message);
  node.append(
    button("Dismiss", "chip", () => {
      node.remove();
      backToComposer();
    }),
  );
  node.scrollIntoView({ block: "nearest" }); // the reason and Dismiss, in sight
  // The list took it as the conversation's last message when it was sent: the
  // server's list says what the last one really is.
  conversations.refreshSoon();
  // Refused as a block: if it is mine and its event never came (it was lost on the
  // way), say so and close the box.
  if (error.error === "forbidden") reloadControls();
}

// ------------------------------------------------------------------ live events

export function received(message) {
  const peer = peerOf(message);
  if (!sameName(peer, state.peer)) return false;
  const stick = nearBottom() || isMine(message);
  if (!isMine(message)) clearTyping(message.sender);
  appendMessages([message]);
  if (stick) scrollToBottom();
  // Not announced here: the list is an aria-live log, which reads it out with its
  // writer ("… said:"); a second announcement only made screen readers say it twice.
  markRead();
  return document.visibilityState === "visible";
}

export function readBy(payload) {
  for (const id of payload.message_ids || []) {
    const node = view.nodes.get(id);
    if (node) setTicks(node, "read");
    else if (view.pending.size) view.readEarly.add(id);
  }
}

export function deleted(payload) {
  removeMessage(payload.id);
}

export function typing(payload) {
  if (payload.is_typing) {
    clearTimeout(state.typing.get(payload.sender));
    state.typing.set(payload.sender, setTimeout(() => clearTyping(payload.sender), TYPING_SHOW_MS));
  } else {
    clearTyping(payload.sender);
    return;
  }
  showTypingFor(payload.sender);
}

function showTypingFor(name) {
  if (sameName(name, state.peer)) {
    $("typing-text").textContent = `${name} is typing…`;
    $("typing-indicator").hidden = false;
    refreshHeader();
  }
  conversations.render();
}

function clearTyping(name) {
  clearTimeout(state.typing.get(name));
  state.typing.delete(name);
  if (sameName(name, state.peer)) hideTyping();
  conversations.render();
}

function hideTyping() {
  $("typing-indicator").hidden = true;
  refreshHeader();
}

function stopTyping() {
  clearTimeout(typingIdle);
  if (typingSentAt && state.peer) live.emit("typing", { receiver: state.peer, is_typing: false });
  typingSentAt = 0;
}

function fitComposer() {
  fitHeight($("composer-input"), 160);
}

function onInput() {
  const input = $("composer-input");
  fitComposer();
  keepDraft();
  if (!state.peer || !input.value.trim()) {
    stopTyping();
    return;
  }
  const now = Date.now();
  if (now - typingSentAt > TYPING_SEND_MS) {
    live.emit("typing", { receiver: state.peer, is_typing: true });
    typingSentAt = now;
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

export function setup() {
  const input = $("composer-input");
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || !state.peer) return;
    sendText(text);
    input.value = "";
    keepDraft();
    input.style.height = "auto";
    input.focus();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  input.addEventListener("input", onInput);
  // A banner above the messages (a warning, a mute, a block) makes the list shorter:
  // read at the bottom before, it stays at the bottom, so the message the banner is
  // about stays in view.
  let atBottom = true;
  scroller().addEventListener("scroll", () => {
    atBottom = nearBottom();
    if (scroller().scrollTop < NEAR_TOP_PX) loadOlder();
  }, { passive: true });
  new ResizeObserver(() => {
    if (atBottom) scrollToBottom();
  }).observe(scroller());
  // After the first message, the focus goes to the line that says so.
  $("load-older").addEventListener("click", () =>
    whileBusy($("load-older"), loadOlder, () => $("history-start")),
  );
  $("back").addEventListener("click", () => {
    close();
    $("new-chat-name").focus();
  });
  document.addEventListener("visibilitychange", markRead);
}

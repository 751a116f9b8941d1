// The page: which screen shows (log in, blocked, chat), the session's start and end,
// and the wiring of socket events to the parts that draw them.

import * as auth from "./api.js";
import { ApiError, api, fieldErrors, onSessionTrouble, session } from "./api.js";
import * as chat from "./chat.js";
import * as conversations from "./conversations.js";
import { $, avatar, hide, keepFocus, showError, toast, whileBusy } from "./dom.js";
import * as feed from "./feed.js";
import * as live from "./live.js";
import * as moderation from "./moderation.js";
import * as safety from "./safety.js";
import { sameName, state } from "./state.js";

const CONNECTION_TEXT = {
  online: "Online",
  connecting: "Connecting…",
  offline: "Offline: messages wait to be sent",
};

function showScreen(name) {
  document.body.dataset.screen = name;
  for (const screen of ["loading", "auth", "blocked", "chat"]) {
    $(`screen-${screen}`).hidden = screen !== name;
  }
}

// ------------------------------------------------------------------ auth screen

function selectTab(which) {
  const login = which === "login";
  $("tab-login").setAttribute("aria-selected", String(login));
  $("tab-register").setAttribute("aria-selected", String(!login));
  $("tab-login").tabIndex = login ? 0 : -1;
  $("tab-register").tabIndex = login ? -1 : 0;
  $("login-form").hidden = !login;
  $("register-form").hidden = login;
  hide($("login-error"), $("register-error"));
}

// The login form, with `name` filled in (the same person, back), or empty for anyone.
function showAuth(notice, name) {
  endSession();
  showScreen("auth");
  selectTab("login");
  $("auth-notice").textContent = notice || "";
  $("auth-notice").hidden = !notice;
  $("login-name").value = name || "";
  $("login-password").value = "";
  (name ? $("login-password") : $("login-name")).focus();
}

function blockedFrom(error, name) {
  endSession();
  showScreen("blocked");
  const reason = error.detail ? error.detail("reason") : error.reason;
  moderation.showBlocked({
    reason: reason || error.message,
    appealToken: error.detail ? error.detail("appeal_token") : null,
    name: name || session.username || "",
  });
}

async function submitLogin(event) {
  event.preventDefault();
  const name = $("login-name").value.trim();
  const password = $("login-password").value;
  const error = $("login-error");
  error.hidden = true;
  if (!name || !password) {
    showError(error, "Enter your username or email and your password.");
    return;
  }
  await whileBusy($("login-submit"), async () => {
    try {
      await startSession(await auth.login(name, password));
    } catch (err) {
      if (err instanceof ApiError && err.code === "blocked") blockedFrom(err, name);
      else showError(error, fieldErrors(err));
    }
  });
}

async function submitRegister(event) {
  event.preventDefault();
  const form = $("register-form");
  const username = form.elements.username.value.trim();
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  const error = $("register-error");
  error.hidden = true;
  await whileBusy($("register-submit"), async () => {
    try {
      await auth.register(username, email, password);
      await startSession(await auth.login(username, password));
      form.reset();
    } catch (err) {
      showError(error, fieldErrors(err));
    }
  });
}

// ------------------------------------------------------------------ session

async function startSession(tokens) {
  session.save(tokens, tokens.username);
  const me = tokens.user || (await api("GET", "/api/me")).user;
  if (!sameName(me.username, pageUser)) forgetPerson(); // another person at this page
  pageUser = me.username;
  state.me = me;
  session.save({}, me.username);
  $("me-name").textContent = me.username;
  $("me-name").title = me.username;
  avatar($("me-avatar"), me.username);
  chat.close();
  feed.reset();
  showView("chats");
  $("moderation-banner").hidden = true;
  moderation.muted(me, true); // a mute from before this session shows from the start
  showScreen("chat");
  await safety.load();
  await conversations.load();
  const reopen = chat.restore(); // after a reload: the conversation or Posts, as they were
  live.connect({
    status: setConnection,
    reconnected: catchUp,
    sent: (item, data) => {
      messageSent(item, data);
      conversations.refreshSoon();
    },
    failed: (item, error) =>
      chat.failed(item, { ...error, message: moderation.refusal(error) || error.message }),
    refused: (data) => blockedFrom(data, me.username),
    online_users: conversations.onlineUsers,
    user_joined: conversations.joined,
    user_left: conversations.left,
    receive_message: (message) => {
      const seen = chat.received(message);
      conversations.received(message, seen);
    },
    message_sent: (data) => {
      const item = live.outbox.items().find((queued) => queued.client_id === data.client_id);
      if (item && live.settle(data)) messageSent(item, data);
    },
    messages_read: chat.readBy,
    messages_marked_read: conversations.refreshSoon,
    message_deleted: (payload) => {
      chat.deleted(payload);
      conversations.refreshSoon();
    },
    user_typing: chat.typing,
    moderation_warning: moderation.warning,
    muted: moderation.muted,
    appeal_decided: moderation.appealDecided,
    block_changed: safety.blockChanged,
    mute_changed: safety.muteChanged,
    account_blocked: (payload) => blockedFrom(payload, me.username),
    kicked: (payload) => showAuth(payload.reason || "You were signed out.", me.username),
    error: (payload) => {
      // send_message failures show on the message; typing failures are not news.
      if (payload && !["send_message", "typing"].includes(payload.event)) toast(payload.message);
    },
  });
  if (reopen.posts) showView("posts");
  else if (!reopen.peer || !(await openConversation(reopen.peer))) $("new-chat-name").focus();
}

// The server's answer to a message of ours (the acknowledgement or `message_sent`).
function messageSent(item, data) {
  if (data && data.is_bullying) moderation.flagged("message"); // the warning's title
  chat.sent(item, data);
}

function endSession() {
  live.disconnect();
  moderation.leaveBlocked();
  chat.close(); // keeps the open conversation's draft, should the same person come back
  state.me = null;
  state.online = new Set();
  state.conversations = [];
  conversations.render();
  feed.reset();
  for (const timer of state.typing.values()) clearTimeout(timer);
  state.typing.clear();
  for (const dialog of ["settings-dialog", "report-dialog", "confirm-dialog"]) {
    if ($(dialog).open) $(dialog).close();
  }
}

// Chats or Posts: what the main pane shows (on a phone, the whole page under the
// header). Leaving the chat closes the open conversation, so nothing is read unseen.
function showView(name) {
  const posts = name === "posts";
  if (posts === document.body.classList.contains("in-feed")) return;
  document.body.classList.toggle("in-feed", posts);
  for (const [id, current] of [["view-chats", !posts], ["view-posts", posts]]) {
    if (current) $(id).setAttribute("aria-current", "page");
    else $(id).removeAttribute("aria-current");
  }
  $("feed-view").hidden = !posts;
  $("conversation").setAttribute("aria-label", posts ? "Posts" : "Conversation");
  chat.keepView(posts);
  if (posts) {
    chat.close();
    feed.show();
  }
}

function setConnection(status) {
  const pill = $("conn-status");
  pill.dataset.state = status;
  pill.textContent = CONNECTION_TEXT[status];
  const notice = $("composer-offline");
  notice.hidden = status !== "offline";
  notice.textContent = notice.hidden ? "" : CONNECTION_TEXT.offline;
  if (status !== "online") chat.disconnected();
}

async function catchUp() {
  // Blocks and mutes made on another device while this one was offline: their events
  // are lost, so whom I block and mute is read again.
  await Promise.all([conversations.load(), safety.reload()]);
  await chat.catchUp();
}

async function logout() {
  try {
    await auth.logout();
  } catch (error) {
    if (error.code !== "unauthorized") toast(error.message);
  }
  showAuth("You are logged out.");
  forgetPerson(); // whoever uses this page next sees nothing of what was typed, nor who
}

// The person whose drafts and search the page holds (kept while the same person's
// session ends and starts again: an expired session loses no typed text; and over a
// reload of this tab, chat.js's sessionStorage).
let pageUser = chat.savedUser();

function forgetPerson() {
  pageUser = null;
  chat.forgetDrafts();
  conversations.clearSearch();
}

// ------------------------------------------------------------------ account dialog

function openSettings() {
  const dialog = $("settings-dialog");
  $("password-form").reset();
  hide($("password-error"), $("password-done"));
  dialog.showModal();
  moderation.loadMyStrikes();
}

async function changePassword(event) {
  event.preventDefault();
  const form = $("password-form");
  const current = form.elements.current_password.value;
  const next = form.elements.new_password.value;
  hide($("password-error"), $("password-done"));
  await whileBusy($("password-submit"), async () => {
    try {
      await api("POST", "/api/me/password", { current_password: current, new_password: next });
      // Every other token is revoked: take fresh ones with the new password.
      session.save(await auth.login(state.me.username, next));
      form.reset();
      $("password-done").textContent = "Password changed. Your other devices are logged out.";
      $("password-done").hidden = false;
    } catch (err) {
      showError($("password-error"), fieldErrors(err));
    }
  });
}

// ------------------------------------------------------------------ start

async function openConversation(name) {
  showView("chats");
  const opened = await chat.open(name);
  if (opened) $("composer-input").focus();
  return opened;
}

function setup() {
  $("tab-login").addEventListener("click", () => selectTab("login"));
  $("tab-register").addEventListener("click", () => {
    selectTab("register");
    $("register-username").focus();
  });
  for (const tab of [$("tab-login"), $("tab-register")]) {
    tab.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      const other = tab === $("tab-login") ? $("tab-register") : $("tab-login");
      other.click();
      other.focus();
    });
  }
  $("login-form").addEventListener("submit", submitLogin);
  $("register-form").addEventListener("submit", submitRegister);
  $("logout").addEventListener("click", logout);
  $("open-settings").addEventListener("click", openSettings);
  $("password-form").addEventListener("submit", changePassword);
  for (const close of $("settings-dialog").querySelectorAll(".dialog-close")) {
    close.addEventListener("click", () => $("settings-dialog").close());
  }
  $("moderation-banner-strikes").addEventListener("click", openSettings);
  // The ⋯ menu closes on a choice; the focus goes back to its button, not to the page
  // (nor, after the report dialog, to a button inside the closed menu).
  const closeMenu = () => {
    $("peer-menu").open = false;
    $("peer-menu").querySelector("summary").focus();
  };
  // Escape or a click elsewhere closes it too, as any menu does.
  $("peer-menu").addEventListener("keydown", (event) => {
    if (event.key === "Escape" && $("peer-menu").open) {
      event.preventDefault();
      closeMenu();
    }
  });
  document.addEventListener("click", (event) => {
    if ($("peer-menu").open && !$("peer-menu").contains(event.target)) {
      $("peer-menu").open = false;
    }
  });
  $("action-block").addEventListener("click", () => {
    closeMenu();
    (state.blocked.has(state.peer) ? safety.unblock : safety.block)(state.peer);
  });
  // Unblocked, the banner and its button go away: the focus goes where one writes again.
  $("peer-unblock").addEventListener("click", async () => {
    const restore = keepFocus($("peer-unblock"));
    await safety.unblock(state.peer);
    restore($("composer-input"));
  });
  $("action-mute").addEventListener("click", () => {
    closeMenu();
    safety.toggleMute(state.peer);
  });
  $("action-report").addEventListener("click", () => {
    closeMenu();
    safety.openReport({ username: state.peer });
  });
  safety.setup(() => {
    chat.refreshHeader();
    conversations.render();
  });
  conversations.setHooks({ open: openConversation, presence: chat.refreshHeader });
  conversations.setup();
  chat.setup();
  feed.setup();
  $("view-chats").addEventListener("click", () => showView("chats"));
  $("view-posts").addEventListener("click", () => showView("posts"));
  moderation.setup({
    loggedIn: (tokens) =>
      startSession(tokens).catch((error) => showAuth(error.message, tokens.username)),
    leave: (name, notice) => showAuth(notice, name),
  });
  onSessionTrouble({
    ended: () => showAuth("Your session has ended. Log in again.", session.username),
    elsewhere: (loggedOut) => {
      if (loggedOut) {
        showAuth("You logged out in another tab.");
        forgetPerson();
      } else showAuth("Your session has ended. Log in again.", state.me && state.me.username);
    },
    blocked: (error) => blockedFrom(error),
  });
}

async function boot() {
  setup();
  if (!session.refresh) {
    showAuth();
    return;
  }
  try {
    await startSession({});
  } catch (error) {
    if (error.code === "blocked") return; // the blocked screen is showing
    if (error.status === 401) return; // the session ended: the login form is showing
    showAuth(error.message, session.username);
  }
}

boot();

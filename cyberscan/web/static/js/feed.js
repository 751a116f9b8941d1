// The posts feed (API.md §3): posts newest first and each post's comments oldest
// first, page by page ("Load more" follows `next_cursor`); writing and deleting them.
// No server event announces posts or comments: the feed is read when it is shown and
// on "Refresh". Someone else's flagged item is collapsed (§9); one's own is marked, and
// the strike warning comes from `moderation_warning` as after a flagged message.

import { api, enc, fieldErrors } from "./api.js";
import {
  $,
  announce,
  avatar,
  button,
  confirmAction,
  el,
  fitHeight,
  flagMark,
  formatTime,
  hurtfulCover,
  keepFocus,
  showError,
  textForm,
  toast,
  uuid,
  whileBusy,
  words,
} from "./dom.js";
import * as moderation from "./moderation.js";
import { openReport } from "./safety.js";
import { sameName, state } from "./state.js";

const PAGE = 20;

const feed = {
  cursor: null, // next_cursor towards older posts
  loaded: false, // the first page has arrived
  loading: false,
  generation: 0, // bumps on every refresh and reset, so late pages are dropped
};

function mine(item) {
  return Boolean(state.me) && sameName(item.author, state.me.username);
}

// The author may delete a post or comment, and so may an admin (API.md §3).
function mayDelete(item) {
  return mine(item) || Boolean(state.me && state.me.is_admin);
}

function countText(count) {
  return count === 1 ? "1 comment" : `${count} comments`;
}

// Put a node where its id belongs in `list`, once: posts newest first, comments
// oldest first (the server's keyset order), whatever order pages and one's own new
// items arrive in. Answers whether it was new.
function place(list, id, make, newestFirst) {
  let before = null;
  for (const other of list.children) {
    const otherId = Number(other.dataset.id);
    if (otherId === id) return false;
    if (newestFirst ? otherId < id : otherId > id) {
      before = other;
      break;
    }
  }
  list.insertBefore(make(), before);
  return true;
}

// What posts and comments share: author, local time, the text as text, the flag
// (collapsed when someone else's, marked when one's own) and Delete for whoever may.
function itemNode(kind, item, remove) {
  const node = el("li", kind);
  node.dataset.id = String(item.id);
  const head = el("div", "item-head");
  const pic = el("span", "avatar avatar-sm");
  pic.setAttribute("aria-hidden", "true");
  avatar(pic, item.author);
  const time = el("time", "item-time", formatTime(item.created_at));
  time.dateTime = item.created_at;
  time.title = new Date(item.created_at).toLocaleString();
  head.append(pic, el("span", "item-author", item.author), time);
  const body = el("div", "item-body");
  const text = words("p", `text ${kind}-text`, item.content);
  body.append(text);
  node.append(head, body);
  if (item.is_bullying && mine(item)) {
    head.append(flagMark(kind));
  } else if (item.is_bullying) {
    node.classList.add("flagged");
    hurtfulCover(body, text, kind, [
      button(`Report ${item.author}`, "chip chip-danger", () =>
        openReport({ username: item.author }),
      ),
    ]);
  }
  if (mayDelete(item)) {
    head.append(button("Delete", "chip item-delete", () => remove(node), `Delete this ${kind}`));
  }
  return node;
}

// ------------------------------------------------------------------ writing

// The text each form is sending and its client_id (API.md §3): sent again, after a
// network error or by a second click or Ctrl+Enter before the answer, the same text
// goes with the same client_id, and the server answers the item it stored first.
const attempts = new WeakMap(); // input -> {content, clientId, answered}

// Send a post or comment from its form: blank is refused here; the server's refusal
// (too long, muted, …) is said under the form and the text stays. Answers the item,
// or null when there is nothing (more) to show: refused, or answered already.
async function publish(form, send) {
  const { input, error, submit } = form;
  error.hidden = true;
  const content = input.value.trim();
  if (!content) {
    showError(error, "Write something first.");
    input.focus();
    return null;
  }
  let attempt = attempts.get(input);
  if (!attempt || attempt.content !== content) {
    attempt = { content, clientId: uuid(), answered: false };
    attempts.set(input, attempt);
  }
  return whileBusy(submit, async () => {
    try {
      const item = await send(content, attempt.clientId);
      if (attempt.answered) return null; // a second send of the same text: shown once
      attempt.answered = true;
      if (attempts.get(input) === attempt) attempts.delete(input);
      if (input.value.trim() === content) input.value = ""; // not what was typed meanwhile
      if (item.is_bullying) moderation.flagged(form.what);
      return item;
    } catch (err) {
      if (attempt.answered) return null;
      // The server answered: nothing was stored by this client_id. Without an
      // answer (network) or after a server fault, it may have been: keep it.
      if (err.status >= 400 && err.status < 500 && attempts.get(input) === attempt) {
        attempts.delete(input);
      }
      showError(error, moderation.refusal(err) || fieldErrors(err));
      return null;
    }
  });
}

// Ctrl+Enter (or Cmd+Enter) sends; Enter alone starts a new line, as posts are longer.
function sendOnCtrlEnter(input, form) {
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

async function submitPost(event) {
  event.preventDefault();
  const form = { input: $("post-input"), error: $("post-error"), submit: $("post-submit") };
  const post = await publish({ ...form, what: "post" }, (content, client_id) =>
    api("POST", "/api/post", { content, client_id }),
  );
  if (!post) return;
  place($("feed"), post.id, () => postNode(post), true);
  showFeedEdge();
  announce("Your post is published.");
}

// ------------------------------------------------------------------ the feed

function postNode(post) {
  const thread = { post, count: post.comment_count || 0, cursor: null, loaded: false };
  const node = itemNode("post", post, () => deletePost(thread));
  thread.node = node;
  const foot = el("div", "post-foot");
  thread.toggle = button("", "comments-toggle", () => toggleComments(thread));
  thread.toggle.setAttribute("aria-expanded", "false");
  foot.append(thread.toggle);
  node.append(foot, commentsSection(thread));
  setCount(thread, thread.count);
  return node;
}

function setCount(thread, count) {
  thread.count = Math.max(count, 0);
  thread.toggle.textContent = countText(thread.count);
}

function showFeedEdge() {
  $("feed-more").hidden = !feed.cursor;
  $("feed-empty").hidden = !feed.loaded || $("feed").children.length > 0;
}

function addPosts(page) {
  for (const post of page.items) place($("feed"), post.id, () => postNode(post), true);
  feed.cursor = page.next_cursor;
  feed.loaded = true;
  showFeedEdge();
}

// The newest page again, in place of everything shown.
export async function refresh() {
  const generation = ++feed.generation;
  $("feed-error").hidden = true;
  const restore = keepFocus($("feed-refresh"));
  $("feed-refresh").disabled = true;
  try {
    const page = await api("GET", `/api/posts?limit=${PAGE}`);
    if (generation !== feed.generation) return;
    $("feed").replaceChildren();
    addPosts(page);
  } catch (error) {
    if (generation === feed.generation) showError($("feed-error"), error);
  } finally {
    if (generation === feed.generation) {
      $("feed-refresh").disabled = false;
      restore();
    }
  }
}

async function loadMore() {
  if (!feed.cursor || feed.loading) return;
  feed.loading = true;
  const generation = feed.generation;
  let first = null; // the first post of this page: the focus goes there after the last
  await whileBusy(
    $("feed-more"),
    async () => {
      try {
        const page = await api("GET", `/api/posts?limit=${PAGE}&cursor=${enc(feed.cursor)}`);
        if (generation !== feed.generation) return;
        addPosts(page);
        if (page.items.length) first = $("feed").querySelector(`li.post[data-id="${page.items[0].id}"]`);
      } catch (error) {
        if (generation === feed.generation) showError($("feed-error"), error);
      } finally {
        feed.loading = false;
      }
    },
    () => first && first.querySelector(".comments-toggle"),
  );
}

async function deletePost(thread) {
  if (!(await confirmAction("Delete this post? Its comments are deleted with it.", "Delete post"))) {
    return;
  }
  try {
    await api("DELETE", `/api/post/${thread.post.id}`);
  } catch (error) {
    if (error.code !== "not_found") {
      toast(error.message);
      return;
    } // not_found: it is gone already
  }
  thread.node.remove();
  showFeedEdge();
  $("feed-title").focus();
  announce("Post deleted.");
}

// ------------------------------------------------------------------ comments

function commentsSection(thread) {
  const section = el("section", "comments");
  section.hidden = true;
  section.setAttribute("aria-label", `Comments on the post by ${thread.post.author}`);
  thread.section = section;
  thread.list = el("ol", "comment-list");
  thread.empty = el("p", "comments-empty", "No comments yet.");
  thread.empty.hidden = true;
  thread.more = button("Load more comments", "btn btn-sm btn-ghost comments-more", () =>
    loadComments(thread),
  );
  thread.more.hidden = true;
  thread.error = el("p", "form-error small");
  thread.error.setAttribute("role", "alert");
  thread.error.hidden = true;
  section.append(thread.list, thread.empty, thread.more, thread.error, commentForm(thread));
  return section;
}

const COMMENT_MAX_PX = 120;

function commentForm(thread) {
  const parts = textForm("comment-form", {
    id: `comment-input-${thread.post.id}`,
    label: "Write a comment",
    rows: 1,
    submit: "Comment",
  });
  const { form, input, error, submit } = parts;
  parts.caption.className = "visually-hidden";
  input.placeholder = "Write a comment";
  // What the post box says in sight, said to a screen reader here (the box is small).
  const hint = el("span", "visually-hidden", "Ctrl+Enter comments.");
  hint.id = `comment-hint-${thread.post.id}`;
  input.setAttribute("aria-describedby", hint.id);
  error.classList.add("small", "comment-error");
  form.append(parts.caption, input, hint, submit, error);
  sendOnCtrlEnter(input, form);
  // A new line (Enter) makes the box taller, never hides the first one.
  input.addEventListener("input", () => fitHeight(input, COMMENT_MAX_PX));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const comment = await publish(
      { input, error, submit, what: "comment" },
      (content, client_id) => api("POST", `/api/comment/${thread.post.id}`, { content, client_id }),
    );
    fitHeight(input, COMMENT_MAX_PX);
    if (!comment) return;
    if (!place(thread.list, comment.id, () => commentNode(thread, comment), false)) return;
    setCount(thread, thread.count + 1);
    showCommentsEdge(thread);
  });
  return form;
}

function commentNode(thread, comment) {
  return itemNode("comment", comment, (node) => deleteComment(thread, comment, node));
}

function showCommentsEdge(thread) {
  thread.more.hidden = !thread.cursor;
  thread.empty.hidden = !thread.loaded || thread.list.children.length > 0;
}

async function toggleComments(thread) {
  const opening = thread.section.hidden;
  thread.section.hidden = !opening;
  thread.toggle.setAttribute("aria-expanded", String(opening));
  if (opening && !thread.loaded) await loadComments(thread);
}

async function loadComments(thread) {
  if (thread.loading) return;
  thread.loading = true;
  thread.error.hidden = true;
  let path = `/api/post/${thread.post.id}/comments?limit=${PAGE}`;
  if (thread.cursor) path += `&cursor=${enc(thread.cursor)}`;
  // After the last page, the focus goes on to the box for a comment.
  await whileBusy(
    thread.more,
    async () => {
      try {
        const page = await api("GET", path);
        for (const comment of page.items) {
          place(thread.list, comment.id, () => commentNode(thread, comment), false);
        }
        thread.cursor = page.next_cursor;
        thread.loaded = true;
      } catch (error) {
        showError(thread.error, error);
      } finally {
        thread.loading = false;
        showCommentsEdge(thread);
      }
    },
    () => thread.section.querySelector("textarea"),
  );
}

async function deleteComment(thread, comment, node) {
  if (!(await confirmAction("Delete this comment?", "Delete comment"))) return;
  try {
    await api("DELETE", `/api/comment/${comment.id}`);
  } catch (error) {
    if (error.code !== "not_found") {
      toast(error.message);
      return;
    } // not_found: it is gone already
  }
  node.remove();
  setCount(thread, thread.count - 1);
  showCommentsEdge(thread);
  thread.toggle.focus();
  announce("Comment deleted.");
}

// ------------------------------------------------------------------ showing

// The feed is shown: read its newest page.
export function show() {
  refresh();
}

// The session ended: nothing of the last person's feed stays on the page.
export function reset() {
  feed.generation++;
  feed.cursor = null;
  feed.loaded = false;
  $("feed").replaceChildren();
  $("post-input").value = "";
  for (const node of [$("post-error"), $("feed-error"), $("feed-empty"), $("feed-more")]) {
    node.hidden = true;
  }
}

export function setup() {
  $("post-form").addEventListener("submit", submitPost);
  sendOnCtrlEnter($("post-input"), $("post-form"));
  $("feed-refresh").addEventListener("click", refresh);
  $("feed-more").addEventListener("click", loadMore);
}

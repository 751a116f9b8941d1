// The summary cards: numbers from /api/admin/summary, each with a short caption.
import { api } from "./api.js";
import { percent } from "./charts.js";
import { formatNumber, plural } from "./dom.js";
import { refresh, state } from "./state.js";

// Second lines under some numbers; the rest are fixed text in the page.
const CARD_NOTES = {
  total_users: function (d) {
    return typeof d.bullying_threshold === "number" ? "flag threshold " + d.bullying_threshold.toFixed(2) : "";
  },
  total_messages: function (d) {
    return plural(d.total_posts, "post", "posts") + " · " + plural(d.total_comments, "comment", "comments");
  },
  flagged_items: function (d) {
    const others = (d.flagged_posts || 0) + (d.flagged_comments || 0);
    return plural(d.flagged_messages || 0, "message", "messages") + " · " + plural(others, "post/comment", "posts/comments");
  },
  // The share is of everything scored: messages, posts and comments together.
  flagged_share: function (d) {
    return formatNumber(d.flagged_items) + " of " + plural(d.total_items, "item", "items");
  },
  blocked_users: function (d) {
    return typeof d.max_bullying_count === "number" ? "auto at " + d.max_bullying_count + " strikes" : "";
  },
};

// Messages, posts and comments are all scored; the cards count them together.
function withTotals(data) {
  return Object.assign({}, data, {
    total_items: (data.total_messages || 0) + (data.total_posts || 0) + (data.total_comments || 0),
    flagged_items: (data.flagged_messages || 0) + (data.flagged_posts || 0) + (data.flagged_comments || 0),
  });
}

function renderSummary(summary) {
  const data = withTotals(summary);
  document.querySelectorAll("#summary .card").forEach(function (card) {
    const key = card.dataset.key;
    const value = data[key];
    const text = card.dataset.format === "percent" && typeof value === "number" ? percent(value) : formatNumber(value);
    const sub = card.querySelector(".card-sub");
    if (CARD_NOTES[key]) sub.textContent = CARD_NOTES[key](data);
    sub.title = sub.textContent;
    const target = card.querySelector(".card-value");
    if (target.textContent !== text) {
      target.textContent = text;
      card.classList.remove("card-bump");
      void card.offsetWidth; // restart the animation
      card.classList.add("card-bump");
    }
  });
}

// A count that moved means a list changed, here or on another admin's screen: a flag
// reviewed, an appeal decided, a report dealt with, someone blocked or muted.
const WATCHED = [
  "pending_flags", "flagged_messages", "flagged_posts", "flagged_comments", "blocked_users", "muted_users",
  "pending_appeals", "pending_reports",
];

export function loadSummary() {
  return api("/api/admin/summary").then(function (data) {
    const before = state.summary;
    state.summary = data;
    renderSummary(data);
    if (before) {
      const changed = WATCHED.some(function (key) {
        return before[key] !== data[key];
      });
      if (changed) refresh({ queue: true, users: true, audit: true, stats: true, appeals: true, reports: true });
    }
    return data;
  });
}

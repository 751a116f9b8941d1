// The moderation queue: flagged items with their triggering terms and the actions on them.
import { query } from "./api.js";
import { blockUser, muteUser, review, unblockUser } from "./actions.js";
import { toggleContext } from "./context.js";
import { $, badge, button, el, excerpt, formatTime, name, written } from "./dom.js";
import { state } from "./state.js";
import { loadTable, pageSize } from "./table.js";

const QUEUE_PAGE = 25;
const EXCERPT = 280;

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// The excerpt as text nodes, with each triggering term wrapped in <mark>.
function highlighted(text, terms) {
  var fragment = document.createDocumentFragment();
  var excerpt = text.length > EXCERPT ? text.slice(0, EXCERPT - 1) + "…" : text;
  var usable = (terms || [])
    .map(String)
    .filter(function (term) { return term.trim().length > 1; })
    .sort(function (a, b) { return b.length - a.length; });
  if (!usable.length) {
    fragment.appendChild(document.createTextNode(excerpt));
    return fragment;
  }
  // Whole words only: the term "you" must not light up half of "yourself".
  var pattern = new RegExp(
    "(?<![\\p{L}\\p{N}])(" + usable.map(escapeRegExp).join("|") + ")(?![\\p{L}\\p{N}])",
    "giu"
  );
  var last = 0;
  excerpt.replace(pattern, function (match, _group, offset) {
    if (offset > last) fragment.appendChild(document.createTextNode(excerpt.slice(last, offset)));
    fragment.appendChild(el("mark", "term-hit", match));
    last = offset + match.length;
    return match;
  });
  if (last < excerpt.length) fragment.appendChild(document.createTextNode(excerpt.slice(last)));
  return fragment;
}

function scoreCell(probability) {
  var cell = el("td", "num");
  var value = typeof probability === "number" ? probability : 0;
  var wrap = el("div", "score");
  wrap.appendChild(el("span", "score-value", value.toFixed(2)));
  var meter = el("span", "meter");
  var fill = el("span", "meter-fill " + (value >= 0.85 ? "meter-high" : "meter-mid"));
  fill.style.width = Math.round(value * 100) + "%";
  meter.appendChild(fill);
  wrap.appendChild(meter);
  cell.appendChild(wrap);
  return cell;
}

function queueRow(flag) {
  var row = el("tr", "queue-row");
  row.dataset.flagId = String(flag.id);
  row.dataset.author = name(flag.author);
  if (!state.firstQueueLoad && !state.seenFlags.has(flag.id)) row.classList.add("row-new");
  state.seenFlags.add(flag.id);

  var time = el("td", "nowrap", formatTime(flag.created_at));
  time.title = flag.created_at || "";
  row.appendChild(time);

  var type = el("td");
  type.appendChild(badge(flag.item_type, "type"));
  row.appendChild(type);

  var author = el("td", "author-cell");
  author.appendChild(el("div", "author-name", name(flag.author)));
  var meta = el("div", "author-meta");
  var strikes = flag.author_bullying_count || 0;
  var limit = state.summary && state.summary.max_bullying_count;
  meta.appendChild(el("span", "strikes", strikes + (limit ? "/" + limit : "") + (strikes === 1 ? " strike" : " strikes")));
  if (flag.author_is_blocked) meta.appendChild(badge("Blocked", "blocked"));
  author.appendChild(meta);
  row.appendChild(author);

  var content = el("td", "content-cell");
  var text = written("div", "content-text");
  text.title = flag.content || "";
  text.appendChild(highlighted(flag.content || "", flag.terms));
  content.appendChild(text);
  if (flag.terms && flag.terms.length) {
    var terms = el("div", "terms");
    flag.terms.forEach(function (term) {
      terms.appendChild(el("span", "term", term));
    });
    content.appendChild(terms);
  }
  row.appendChild(content);

  row.appendChild(scoreCell(flag.probability));

  var cell = el("td");
  var actions = el("div", "actions");
  cell.appendChild(actions);
  // Every row has the same buttons: their spoken names say which item they act on.
  var about = ", " + flag.item_type + " by " + name(flag.author) + " " + excerpt(flag.content, 40);
  function rowButton(label, className, onClick) {
    return actions.appendChild(button(label, className, onClick, label + about));
  }
  if (flag.reviewed_at) {
    var done = flag.review_action === "remove" ? "Removed" : "Dismissed";
    var by = name(flag.reviewed_by);
    actions.appendChild(el("span", "reviewed", done + (by ? " by " + by : "")));
  } else {
    rowButton("Dismiss", "btn-ghost", function () { review(flag, "dismiss"); });
    rowButton("Remove", "btn-warn", function () { review(flag, "remove"); });
  }
  if (flag.item_type === "message") {
    rowButton("Context", "btn-ghost", function () { toggleContext(flag, row, 6); })
      .setAttribute("aria-expanded", "false");
  }
  var who = name(flag.author);
  // A moderator's own flagged item: no one blocks or mutes themself (as in the users table).
  if (who === state.admin) {
    // nothing to offer
  } else if (flag.author_is_blocked) {
    rowButton("Unblock", "btn-ghost", function () { unblockUser(who); });
  } else {
    rowButton("Block author", "btn-danger", function () { blockUser(who); });
    rowButton("Mute 60 min", "btn-ghost", function () { muteUser(who, 60); });
  }
  row.appendChild(cell);
  return row;
}

export function loadQueue(more) {
  var url = "/api/admin/flagged" + query({
    status: state.status,
    limit: pageSize("queue", QUEUE_PAGE, more),
    cursor: more ? state.queueCursor : null,
  });
  return loadTable("queue", url, queueRow, more).then(function (shown) {
    if (!shown) return;
    state.queueCursor = shown.cursor;
    state.firstQueueLoad = false;
    $("queue-empty").textContent = state.status === "pending" ? "Nothing waiting for review." : "No flags here.";
  });
}

// The appeal queue (API.md §9): people contest a strike; accepting gives the strike back
// (and lifts an automatic block below the limit), rejecting upholds it.
import { api, query } from "./api.js";
import { badge, button, el, excerpt, formatTime, name, plural, toast, written } from "./dom.js";
import { refresh, state } from "./state.js";
import { loadTable, pageSize } from "./table.js";

const PAGE = 25;

// A note being written is kept in this tab's sessionStorage until the appeal is decided:
// a session that ends meanwhile sends the page to the login form, and the note is
// there again after logging back in.
function draftKey(appeal) {
  return "cyberscan-admin:appeal-note:" + appeal.id;
}

function keepDraft(appeal, text) {
  try {
    if (text) sessionStorage.setItem(draftKey(appeal), text);
    else sessionStorage.removeItem(draftKey(appeal));
  } catch (error) {
    // Storage refused (private mode, quota): the note is only in the field.
  }
}

function draftOf(appeal) {
  try {
    return sessionStorage.getItem(draftKey(appeal)) || "";
  } catch (error) {
    return "";
  }
}

function decide(appeal, decision, note) {
  const body = note ? { decision: decision, note: note } : { decision: decision };
  return api("/api/admin/appeals/" + encodeURIComponent(appeal.id), { method: "POST", body: body })
    .then(
      function (done) {
        keepDraft(appeal, "");
        const who = name(done.author);
        toast(decision === "accept" ? "Appeal accepted: " + who + "'s strike is removed." : "Appeal rejected: the strike stays.", "ok");
      },
      function (error) { toast(error.message, "error"); }
    )
    .then(function () {
      refresh({ summary: true, appeals: true, queue: true, users: true, audit: true }); // after a 409 too
    });
}

function appealRow(appeal) {
  const row = el("tr", "appeal-row");
  row.dataset.appealId = String(appeal.id);
  row.dataset.author = name(appeal.author);

  const time = el("td", "nowrap", formatTime(appeal.created_at));
  time.title = appeal.created_at || "";
  row.appendChild(time);

  const author = el("td", "author-cell");
  author.appendChild(el("div", "author-name", name(appeal.author)));
  const meta = el("div", "author-meta");
  meta.appendChild(el("span", "strikes", plural(appeal.author_bullying_count, "strike", "strikes")));
  if (appeal.author_is_blocked) meta.appendChild(badge("Blocked", "blocked"));
  author.appendChild(meta);
  row.appendChild(author);

  const strike = appeal.strike || {};
  const flagged = el("td", "content-cell");
  flagged.appendChild(badge(strike.kind || "item", "type"));
  flagged.appendChild(written("div", "content-text", strike.content || ""));
  if (typeof strike.probability === "number") {
    flagged.appendChild(el("div", "terms", "score " + strike.probability.toFixed(2) + " · " + (strike.status || "")));
  }
  row.appendChild(flagged);

  row.appendChild(written("td", "content-cell appeal-reason", appeal.reason));

  const cell = el("td");
  const actions = el("div", "actions");
  cell.appendChild(actions);
  if (appeal.status === "open") {
    const note = el("input", "appeal-note");
    note.maxLength = 500;
    note.placeholder = "Note to the author (optional)";
    note.setAttribute("aria-label", "Note to " + name(appeal.author));
    note.value = draftOf(appeal);
    note.addEventListener("input", function () { keepDraft(appeal, note.value); });
    actions.appendChild(note);
    const about = " the appeal by " + name(appeal.author) + " on " + excerpt(strike.content, 40);
    actions.appendChild(button("Accept", "btn-primary", function () { decide(appeal, "accept", note.value.trim()); }, "Accept" + about));
    actions.appendChild(button("Reject", "btn-warn", function () { decide(appeal, "reject", note.value.trim()); }, "Reject" + about));
  } else {
    const by = name(appeal.decided_by);
    actions.appendChild(el("span", "reviewed", (appeal.status === "accepted" ? "Accepted" : "Rejected") + (by ? " by " + by : "")));
    // The moderator's note, as text (written: it may be in any script).
    if (appeal.note) actions.appendChild(written("span", "decision-note", "Note: " + appeal.note));
  }
  row.appendChild(cell);
  return row;
}

export function loadAppeals(more) {
  const url = "/api/admin/appeals" + query({
    status: state.appealStatus,
    limit: pageSize("appeals", PAGE, more),
    cursor: more ? state.appealsCursor : null,
  });
  return loadTable("appeals", url, appealRow, more).then(function (shown) {
    if (shown) state.appealsCursor = shown.cursor;
  });
}

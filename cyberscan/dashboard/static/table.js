// A paginated table's loader. Requests for one table can answer out of order (a live
// refresh started before a search or a filter change can answer after it), so only the
// latest request's page is shown; an older answer is dropped.

import { api } from "./api.js";
import { $, showPage } from "./dom.js";

const latest = {};
const MAX_LIMIT = 100; // the admin API's largest page

// How many rows to ask for: `page` for "Load more"; for a reload, as many as the table
// shows (a live event or an action reloads the list, and what "Load more" brought in
// must not fold back to the first page under the moderator's eyes).
export function pageSize(prefix, page, more) {
  if (more) return page;
  const shown = $(prefix + "-body").querySelectorAll(":scope > tr:not(.context-row)").length;
  return Math.min(MAX_LIMIT, Math.max(page, shown));
}

// Fetch `url` and show it in the `<prefix>-…` table (append when `more`). Resolves to
// `{ cursor }` (the next page's cursor, null after the last page), or to `undefined`
// when a later request has been made since and this answer was dropped.
export function loadTable(prefix, url, rowOf, more) {
  const ticket = (latest[prefix] || 0) + 1;
  latest[prefix] = ticket;
  return api(url).then(function (page) {
    if (latest[prefix] !== ticket) return undefined;
    return { cursor: showPage(prefix, page, rowOf, more) };
  });
}

// A paginated table's loader. Requests for one table can answer out of order (a live
// refresh started before a search or a filter change can answer after it), so only the
// latest request's page is shown; an older answer is dropped.

import { api } from "./api.js";
import { showPage } from "./dom.js";

const latest = {};

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

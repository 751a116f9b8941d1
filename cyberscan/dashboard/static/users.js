// The users table: strikes, status badges and the actions an admin may take.
import { query } from "./api.js";
import { blockUser, muteUser, unblockUser, unmuteUser } from "./actions.js";
import { badge, button, el, formatTime } from "./dom.js";
import { state } from "./state.js";
import { loadTable, pageSize } from "./table.js";

const USERS_PAGE = 15;

function userRow(user) {
  var row = el("tr");
  row.dataset.username = user.username;
  var who = el("td");
  who.appendChild(el("span", "author-name", user.username));
  if (user.is_admin) who.appendChild(badge("Admin", "admin"));
  row.appendChild(who);
  row.appendChild(el("td", "num", user.bullying_count || 0));
  var status = el("td");
  var muted = user.muted_until && new Date(user.muted_until) > new Date();
  if (user.is_blocked) status.appendChild(badge("Blocked", "blocked"));
  if (muted) {
    var mutedBadge = badge("Muted", "muted");
    mutedBadge.title = "until " + formatTime(user.muted_until);
    status.appendChild(mutedBadge);
  }
  if (user.online) status.appendChild(badge("Online", "online"));
  if (!user.is_blocked && !muted && !user.online) status.appendChild(el("span", "muted-text", "active"));
  row.appendChild(status);
  var cell = el("td");
  var actions = el("div", "actions");
  cell.appendChild(actions);
  if (user.username !== state.admin) {
    if (user.is_blocked) {
      actions.appendChild(button("Unblock", "btn-ghost", function () { unblockUser(user.username); }, "Unblock " + user.username));
    } else {
      actions.appendChild(button("Block", "btn-danger", function () { blockUser(user.username); }, "Block " + user.username));
    }
    if (muted) {
      actions.appendChild(button("Unmute", "btn-ghost", function () { unmuteUser(user.username); }, "Unmute " + user.username));
    } else if (!user.is_blocked) {
      actions.appendChild(button("Mute", "btn-ghost", function () { muteUser(user.username, 60, false); }, "Mute " + user.username));
    }
  }
  row.appendChild(cell);
  return row;
}

export function loadUsers(more) {
  var url = "/api/admin/users" + query({
    q: state.query,
    limit: pageSize("users", USERS_PAGE, more),
    cursor: more ? state.usersCursor : null,
  });
  return loadTable("users", url, userRow, more).then(function (shown) {
    if (shown) state.usersCursor = shown.cursor;
  });
}

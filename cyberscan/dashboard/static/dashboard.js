// The moderation dashboard: reads the admin REST API with the HttpOnly session cookie,
// listens on Socket.IO for new flags, and polls the summary as a fallback.
// Every string that came from a user is inserted with textContent, never as markup.
(function () {
  "use strict";

  var POLL_MS = 5000;
  var STATS_EVERY_MS = 60000;
  var QUEUE_PAGE = 25;
  var USERS_PAGE = 15;
  var AUDIT_PAGE = 15;
  var EXCERPT = 280;

  var state = {
    status: "pending",
    queueCursor: null,
    usersCursor: null,
    query: "",
    hours: 24,
    summary: null,
    seenFlags: new Set(),
    firstQueueLoad: true,
    statsAt: 0,
    admin: document.getElementById("admin-name").textContent,
  };

  // ---------------------------------------------------------------- helpers

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(label, className, onClick) {
    var node = el("button", "btn btn-sm " + className, label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function badge(text, kind) {
    return el("span", "badge badge-" + kind, text);
  }

  function name(value) {
    if (value && typeof value === "object") return value.username || "";
    return value === undefined || value === null ? "" : String(value);
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrf_access_token=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function formatTime(iso) {
    if (!iso) return "";
    var date = new Date(iso);
    if (isNaN(date.getTime())) return String(iso);
    var today = new Date();
    var sameDay = date.toDateString() === today.toDateString();
    var time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    if (sameDay) return time;
    return date.toLocaleDateString([], { month: "short", day: "numeric" }) + ", " + time;
  }

  function formatNumber(value) {
    return typeof value === "number" ? value.toLocaleString() : "–";
  }

  function toast(text, kind) {
    var node = el("div", "toast toast-" + (kind || "info"), text);
    var box = $("toasts");
    box.appendChild(node);
    while (box.children.length > 4) box.firstChild.remove();
    setTimeout(function () {
      node.classList.add("toast-out");
      setTimeout(function () {
        node.remove();
      }, 400);
    }, 4000);
  }

  // Same-origin fetch with the session cookie; state-changing calls carry the CSRF
  // header that flask-jwt-extended's double-submit check wants.
  function api(path, options) {
    options = options || {};
    var method = options.method || "GET";
    var headers = { Accept: "application/json" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      headers["X-CSRF-TOKEN"] = csrfToken();
    }
    return fetch(path, {
      method: method,
      credentials: "same-origin",
      headers: headers,
      body: method === "GET" ? undefined : JSON.stringify(options.body || {}),
    }).then(function (response) {
      if (response.status === 401) {
        window.location.assign("/admin/login");
        throw new Error("Your session has ended; log in again.");
      }
      return response.json().then(
        function (data) {
          if (!response.ok) {
            throw new Error((data && data.message) || "Request failed (" + response.status + ").");
          }
          return data;
        },
        function () {
          throw new Error("Request failed (" + response.status + ").");
        }
      );
    });
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      if (value !== null && value !== undefined && value !== "") {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(value));
      }
    });
    return parts.length ? "?" + parts.join("&") : "";
  }

  function userPath(username, action) {
    return "/api/admin/users/" + encodeURIComponent(username) + "/" + action;
  }

  // ---------------------------------------------------------------- confirm dialog

  function confirmAction(options) {
    var dialog = $("confirm");
    $("confirm-title").textContent = options.title;
    $("confirm-text").textContent = options.text;
    $("confirm-ok").textContent = options.ok || "Confirm";
    $("confirm-ok").className = "btn " + (options.danger === false ? "btn-primary" : "btn-danger");
    $("confirm-reason-row").hidden = !options.reason;
    $("confirm-reason").value = "";
    $("confirm-minutes-row").hidden = !options.minutes;
    $("confirm-minutes").value = options.minutes || 60;
    $("confirm-reset-row").hidden = !options.reset;
    $("confirm-reset").checked = true;
    dialog.returnValue = "";
    return new Promise(function (resolve) {
      dialog.addEventListener(
        "close",
        function () {
          if (dialog.returnValue !== "ok") return resolve(null);
          resolve({
            reason: $("confirm-reason").value.trim(),
            minutes: parseInt($("confirm-minutes").value, 10),
            reset: $("confirm-reset").checked,
          });
        },
        { once: true }
      );
      dialog.showModal();
      (options.reason ? $("confirm-reason") : $("confirm-ok")).focus();
    });
  }

  // ---------------------------------------------------------------- admin actions

  function act(description, path, body) {
    return api(path, { method: "POST", body: body })
      .then(function () {
        toast(description, "ok");
        refresh({ summary: true, queue: true, users: true, audit: true, stats: true });
      })
      .catch(function (error) {
        toast(error.message, "error");
      });
  }

  function blockUser(username) {
    return confirmAction({
      title: "Block " + username + "?",
      text: "They will be logged out everywhere and can no longer log in, send, post or comment.",
      ok: "Block",
      reason: true,
    }).then(function (answer) {
      if (!answer) return null;
      var body = answer.reason ? { reason: answer.reason } : {};
      return act(username + " is blocked.", userPath(username, "block"), body);
    });
  }

  function unblockUser(username) {
    return confirmAction({
      title: "Unblock " + username + "?",
      text: "They will be able to log in and write again.",
      ok: "Unblock",
      danger: false,
      reset: true,
    }).then(function (answer) {
      if (!answer) return null;
      return act(username + " is unblocked.", userPath(username, "unblock"), { reset_count: answer.reset });
    });
  }

  function muteUser(username, minutes) {
    return confirmAction({
      title: "Mute " + username + "?",
      text: "They cannot send, post or comment until the time is up.",
      ok: "Mute",
      minutes: minutes || 60,
    }).then(function (answer) {
      if (!answer) return null;
      if (!(answer.minutes > 0)) {
        toast("Give a number of minutes.", "error");
        return null;
      }
      return act(username + " is muted for " + answer.minutes + " min.", userPath(username, "mute"), {
        minutes: answer.minutes,
      });
    });
  }

  function unmuteUser(username) {
    return act(username + " is unmuted.", userPath(username, "unmute"), {});
  }

  function review(flag, action) {
    var run = function () {
      return act(
        action === "remove" ? "The " + flag.item_type + " was removed." : "The flag was dismissed.",
        "/api/admin/flagged/" + encodeURIComponent(flag.id) + "/review",
        { action: action }
      );
    };
    if (action !== "remove") return run();
    return confirmAction({
      title: "Remove this " + flag.item_type + "?",
      text: "It is deleted for everyone. The author's strike stays.",
      ok: "Remove",
    }).then(function (answer) {
      return answer ? run() : null;
    });
  }

  // ---------------------------------------------------------------- summary

  // Second lines under some numbers; the rest are fixed text in the page.
  var CARD_NOTES = {
    total_messages: function (d) {
      return formatNumber(d.total_posts) + " posts · " + formatNumber(d.total_comments) + " comments";
    },
    flagged_messages: function (d) {
      var others = (d.flagged_posts || 0) + (d.flagged_comments || 0);
      return "messages" + (others ? " + " + formatNumber(others) + " posts/comments" : "");
    },
    blocked_users: function (d) {
      return typeof d.max_bullying_count === "number" ? "auto at " + d.max_bullying_count + " strikes" : "";
    },
    total_users: function (d) {
      return typeof d.bullying_threshold === "number" ? "flag threshold " + d.bullying_threshold.toFixed(2) : "";
    },
  };

  function renderSummary(data) {
    document.querySelectorAll("#summary .card").forEach(function (card) {
      var key = card.dataset.key;
      var value = data[key];
      var text = card.dataset.format === "percent" && typeof value === "number"
        ? window.CyberCharts.percent(value)
        : formatNumber(value);
      if (CARD_NOTES[key]) card.querySelector(".card-sub").textContent = CARD_NOTES[key](data);
      var target = card.querySelector(".card-value");
      if (target.textContent !== text) {
        target.textContent = text;
        card.classList.remove("card-bump");
        void card.offsetWidth; // restart the animation
        card.classList.add("card-bump");
      }
    });
  }

  var WATCHED = ["pending_flags", "flagged_messages", "flagged_posts", "flagged_comments", "blocked_users", "muted_users"];

  function loadSummary() {
    return api("/api/admin/summary").then(function (data) {
      var before = state.summary;
      state.summary = data;
      renderSummary(data);
      if (before) {
        var changed = WATCHED.some(function (key) {
          return before[key] !== data[key];
        });
        if (changed) refresh({ queue: true, users: true, audit: true, stats: true });
      }
      return data;
    });
  }

  // ---------------------------------------------------------------- moderation queue

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
    var text = el("div", "content-text");
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
    if (flag.reviewed_at) {
      var done = flag.review_action === "remove" ? "Removed" : "Dismissed";
      var by = name(flag.reviewed_by);
      actions.appendChild(el("span", "reviewed", done + (by ? " by " + by : "")));
    } else {
      actions.appendChild(button("Dismiss", "btn-ghost", function () { review(flag, "dismiss"); }));
      actions.appendChild(button("Remove", "btn-warn", function () { review(flag, "remove"); }));
    }
    var who = name(flag.author);
    if (flag.author_is_blocked) {
      actions.appendChild(button("Unblock", "btn-ghost", function () { unblockUser(who); }));
    } else {
      actions.appendChild(button("Block author", "btn-danger", function () { blockUser(who); }));
      actions.appendChild(button("Mute 60 min", "btn-ghost", function () { muteUser(who, 60); }));
    }
    row.appendChild(cell);
    return row;
  }

  function loadQueue(more) {
    var url = "/api/admin/flagged" + query({
      status: state.status,
      limit: QUEUE_PAGE,
      cursor: more ? state.queueCursor : null,
    });
    return api(url).then(function (page) {
      var body = $("queue-body");
      var rows = page.items.map(queueRow);
      if (more) rows.forEach(function (row) { body.appendChild(row); });
      else body.replaceChildren.apply(body, rows);
      state.firstQueueLoad = false;
      state.queueCursor = page.next_cursor;
      $("queue-more").hidden = !page.next_cursor;
      $("queue-empty").hidden = body.children.length > 0;
      $("queue-empty").textContent = state.status === "pending" ? "Nothing waiting for review." : "No flags here.";
    });
  }

  // ---------------------------------------------------------------- users

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
        actions.appendChild(button("Unblock", "btn-ghost", function () { unblockUser(user.username); }));
      } else {
        actions.appendChild(button("Block", "btn-danger", function () { blockUser(user.username); }));
      }
      if (muted) {
        actions.appendChild(button("Unmute", "btn-ghost", function () { unmuteUser(user.username); }));
      } else if (!user.is_blocked) {
        actions.appendChild(button("Mute", "btn-ghost", function () { muteUser(user.username, 60); }));
      }
    }
    row.appendChild(cell);
    return row;
  }

  function loadUsers(more) {
    var url = "/api/admin/users" + query({
      q: state.query,
      limit: USERS_PAGE,
      cursor: more ? state.usersCursor : null,
    });
    return api(url).then(function (page) {
      var body = $("users-body");
      var rows = page.items.map(userRow);
      if (more) rows.forEach(function (row) { body.appendChild(row); });
      else body.replaceChildren.apply(body, rows);
      state.usersCursor = page.next_cursor;
      $("users-more").hidden = !page.next_cursor;
      $("users-empty").hidden = body.children.length > 0;
    });
  }

  // ---------------------------------------------------------------- audit log

  var ACTION_LABELS = {
    block: "blocked",
    auto_block: "auto-blocked",
    unblock: "unblocked",
    mute: "muted",
    unmute: "unmuted",
    kick: "disconnected",
    review_dismiss: "dismissed a flag on",
    review_remove: "removed an item by",
    delete_post: "deleted a post by",
    delete_comment: "deleted a comment by",
  };

  function loadAudit() {
    return api("/api/admin/audit-log" + query({ limit: AUDIT_PAGE })).then(function (page) {
      var items = Array.isArray(page) ? page : page.items || [];
      var list = $("audit");
      list.replaceChildren.apply(
        list,
        items.map(function (entry) {
          var item = el("li", "audit-item");
          var line = el("div", "audit-line");
          var actor = name(entry.actor) || "system";
          var target = name(entry.target);
          line.appendChild(el("strong", null, actor));
          line.appendChild(document.createTextNode(" " + (ACTION_LABELS[entry.action] || entry.action) + " "));
          if (target) line.appendChild(el("strong", null, target));
          item.appendChild(line);
          var meta = el("div", "audit-meta", formatTime(entry.created_at));
          if (entry.reason) meta.appendChild(el("span", "audit-reason", " · " + entry.reason));
          item.appendChild(meta);
          return item;
        })
      );
      $("audit-empty").hidden = items.length > 0;
    });
  }

  // ---------------------------------------------------------------- charts

  function loadStats() {
    state.statsAt = Date.now();
    return api("/api/admin/stats" + query({ hours: state.hours })).then(drawCharts);
  }

  // Messages, posts and comments together (older servers: messages only).
  function itemsOf(h) {
    return typeof h.items === "number" ? h.items : h.messages || 0;
  }

  function flaggedItemsOf(h) {
    return typeof h.flagged_items === "number" ? h.flagged_items : h.flagged || 0;
  }

  function drawCharts(stats) {
    state.stats = stats;
    var hours = stats.hours || [];
    var dates = hours.map(function (h) { return new Date(h.hour); });
    var totalMessages = hours.reduce(function (sum, h) { return sum + (h.messages || 0); }, 0);
    var totalFlagged = hours.reduce(function (sum, h) { return sum + (h.flagged || 0); }, 0);
    var totalItems = hours.reduce(function (sum, h) { return sum + itemsOf(h); }, 0);
    var totalFlaggedItems = hours.reduce(function (sum, h) { return sum + flaggedItemsOf(h); }, 0);
    var period = state.hours === 24 ? "last 24 hours" : "last " + state.hours / 24 + " days";
    var byHour = {};
    hours.forEach(function (h) { byHour[h.hour] = h; });
    window.CyberCharts.line($("chart-share"), {
      title: "Flagged share per hour",
      subtitle: totalItems
        ? window.CyberCharts.percent(totalFlaggedItems / totalItems) + " of " + totalItems.toLocaleString() + " messages, posts and comments flagged"
        : "Nothing was written in this period",
      emptyText: "Nothing to measure in this period",
      points: (stats.flagged_share || []).map(function (point) {
        var h = byHour[point.hour];
        return {
          date: new Date(point.hour),
          value: h && !itemsOf(h) ? null : point.share || 0,
          detail: h ? flaggedItemsOf(h) + " of " + itemsOf(h) + " items" : "",
        };
      }),
    });
    window.CyberCharts.stackedBars($("chart-messages"), {
      title: "Messages per hour",
      subtitle: totalMessages.toLocaleString() + " messages, " + totalFlagged.toLocaleString() + " flagged, " + period,
      dates: dates,
      series: [
        { name: "Clean", className: "bar-clean", values: hours.map(function (h) { return Math.max(0, (h.messages || 0) - (h.flagged || 0)); }) },
        { name: "Flagged", className: "bar-flagged", values: hours.map(function (h) { return h.flagged || 0; }) },
      ],
    });
    var offenders = stats.top_offenders || [];
    window.CyberCharts.hbars($("chart-offenders"), {
      title: "Strikes per user",
      subtitle: offenders.length ? "Users with the most flagged items" : "",
      legend: [
        { name: "Active", className: "bar-main" },
        { name: "Blocked", className: "bar-blocked" },
      ],
      emptyText: "No one has been flagged yet",
      items: offenders.map(function (o) {
        return {
          label: o.username,
          value: o.bullying_count || 0,
          note: o.is_blocked ? "blocked" : "",
          className: o.is_blocked ? "bar-blocked" : "bar-main",
        };
      }),
    });
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      if (state.stats) drawCharts(state.stats);
    }, 150);
  });

  // ---------------------------------------------------------------- refresh scheduling

  var pending = {};
  var timer = null;
  var LOADERS = {
    summary: loadSummary,
    queue: function () { return loadQueue(false); },
    users: function () { return loadUsers(false); },
    audit: loadAudit,
    stats: loadStats,
  };

  // Coalesce bursts (a socket event plus a poll) into one reload of each part.
  function refresh(parts) {
    Object.keys(parts).forEach(function (key) {
      if (parts[key]) pending[key] = true;
    });
    if (timer) return;
    timer = setTimeout(function () {
      var run = pending;
      pending = {};
      timer = null;
      Object.keys(run).forEach(function (key) {
        LOADERS[key]().catch(function (error) {
          console.warn("refresh " + key + " failed:", error.message);
        });
      });
    }, 200);
  }

  // ---------------------------------------------------------------- live updates

  function setLive(mode, detail) {
    var pill = $("live-status");
    pill.dataset.state = mode;
    pill.textContent = { live: "Live", polling: "Polling", offline: "Offline", connecting: "Connecting…" }[mode];
    pill.title = detail || "";
  }

  function connectSocket() {
    if (typeof window.io !== "function") {
      setLive("polling", "Socket.IO client not loaded; polling every " + POLL_MS / 1000 + " s");
      return;
    }
    // Same origin: the browser sends the HttpOnly access cookie with the handshake.
    var socket = window.io({ withCredentials: true });
    socket.on("connect", function () {
      setLive("live", "Connected: new flags appear at once");
      refresh({ summary: true, queue: true });
    });
    socket.on("disconnect", function () {
      setLive("polling", "Disconnected; polling every " + POLL_MS / 1000 + " s");
    });
    socket.on("connect_error", function (error) {
      var reason = error && error.data && error.data.message ? error.data.message : error.message;
      setLive("polling", "Live updates unavailable (" + reason + "); polling every " + POLL_MS / 1000 + " s");
    });
    socket.on("flagged_item", function (flag) {
      var who = flag ? name(flag.author) : "";
      toast("New flagged " + ((flag && flag.item_type) || "item") + (who ? " from " + who : ""), "alert");
      refresh({ summary: true, queue: true, stats: true, users: true });
    });
    socket.on("admin_summary_changed", function () {
      refresh({ summary: true });
    });
    socket.on("account_blocked", function () {
      window.location.assign("/admin/login");
    });
  }

  function poll() {
    loadSummary()
      .then(function () {
        if ($("live-status").dataset.state === "offline") setLive("polling");
      })
      .catch(function (error) {
        setLive("offline", error.message);
      });
    if (Date.now() - state.statsAt > STATS_EVERY_MS) refresh({ stats: true, audit: true });
  }

  // ---------------------------------------------------------------- wiring

  document.querySelectorAll(".segmented .seg").forEach(function (seg) {
    seg.addEventListener("click", function () {
      document.querySelectorAll(".segmented .seg").forEach(function (other) {
        other.classList.toggle("active", other === seg);
        other.setAttribute("aria-selected", other === seg ? "true" : "false");
      });
      state.status = seg.dataset.status;
      loadQueue(false).catch(function (error) { toast(error.message, "error"); });
    });
  });
  $("queue-more").addEventListener("click", function () {
    loadQueue(true).catch(function (error) { toast(error.message, "error"); });
  });
  $("users-more").addEventListener("click", function () {
    loadUsers(true).catch(function (error) { toast(error.message, "error"); });
  });
  var searchTimer = null;
  $("user-search").addEventListener("input", function (event) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      state.query = event.target.value.trim();
      loadUsers(false).catch(function (error) { toast(error.message, "error"); });
    }, 250);
  });
  $("stats-hours").addEventListener("change", function (event) {
    state.hours = parseInt(event.target.value, 10) || 24;
    loadStats().catch(function (error) { toast(error.message, "error"); });
  });
  // Cancel is not a submit button, so Enter in the reason field confirms.
  $("confirm-cancel").addEventListener("click", function () {
    $("confirm").close("cancel");
  });
  $("logout").addEventListener("click", function () {
    api("/admin/logout", { method: "POST" })
      .catch(function () { return null; })
      .then(function () { window.location.assign("/admin/login"); });
  });

  // The summary first: the queue shows strikes out of its max_bullying_count.
  loadSummary()
    .catch(function (error) { setLive("offline", error.message); })
    .then(function () { refresh({ queue: true, users: true, audit: true, stats: true }); });
  connectSocket();
  setInterval(poll, POLL_MS);
})();

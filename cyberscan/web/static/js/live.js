// The Socket.IO connection (API.md §5) and the outbox that makes sending survive a
// dropped connection: every message is queued in localStorage with its client_id until
// the server acknowledges it; after a reconnect it is sent again with the same
// client_id, which the server never stores twice.

import { refreshAccess, session } from "./api.js";
import { uuid } from "./dom.js";

const ACK_TIMEOUT_MS = 8000;
const RETRY_MS = 3000;
// Errors after which the same message can succeed later; anything else is final.
const TRANSIENT = new Set(["unavailable", "rate_limited", "internal_error"]);

let socket = null;
const inflight = new Set();
let handlers = {};

function outboxKey() {
  return `cyberscan.outbox.${session.username}`;
}

export const outbox = {
  items() {
    try {
      const items = JSON.parse(localStorage.getItem(outboxKey()) || "[]");
      return Array.isArray(items) ? items : [];
    } catch {
      return [];
    }
  },
  store(items) {
    localStorage.setItem(outboxKey(), JSON.stringify(items));
  },
  add(item) {
    this.store([...this.items(), item]);
  },
  remove(clientId) {
    this.store(this.items().filter((item) => item.client_id !== clientId));
  },
  has(clientId) {
    return this.items().some((item) => item.client_id === clientId);
  },
};

export function connected() {
  return Boolean(socket && socket.connected);
}

// `on` maps server events to callbacks, plus the pseudo-events `status(state)`,
// `sent(item, data)`, `failed(item, error)`, `reconnected()` and `refused(data)`.
export function connect(on) {
  handlers = on;
  /* global io */
  socket = io({
    auth: (cb) => cb({ token: session.access }),
    reconnectionDelay: 500,
    reconnectionDelayMax: 4000,
  });
  let everConnected = false;
  socket.on("connect", () => {
    handlers.status("online");
    if (everConnected) handlers.reconnected();
    everConnected = true;
    flush();
  });
  socket.on("disconnect", (reason) => {
    inflight.clear();
    handlers.status(navigator.onLine === false ? "offline" : "connecting");
    // A disconnect the server chose is not retried by socket.io-client on its own.
    if (reason === "io server disconnect") setTimeout(reconnect, RETRY_MS);
  });
  socket.on("connect_error", async (error) => {
    const data = error && error.data;
    if (!data || !data.error) {
      handlers.status("connecting"); // transport trouble: socket.io-client retries
      return;
    }
    if (data.error === "blocked") {
      handlers.refused(data);
      return;
    }
    // The access token expired or was revoked: renew it, then try again.
    handlers.status("connecting");
    try {
      await refreshAccess();
      socket.connect();
    } catch {
      /* the session is over: api.js has told the page */
    }
  });
  for (const [event, callback] of Object.entries(on)) {
    if (!["status", "sent", "failed", "reconnected", "refused"].includes(event)) {
      socket.on(event, callback);
    }
  }
  window.addEventListener("offline", goOffline);
  window.addEventListener("online", reconnect);
}

function goOffline() {
  if (socket) socket.disconnect();
  handlers.status("offline");
}

function reconnect() {
  if (socket && !socket.connected) socket.connect();
}

export function disconnect() {
  window.removeEventListener("offline", goOffline);
  window.removeEventListener("online", reconnect);
  if (socket) {
    socket.removeAllListeners();
    socket.disconnect();
  }
  socket = null;
  inflight.clear();
}

export function emit(event, payload) {
  if (connected()) socket.emit(event, payload);
}

// Queue one message and try to send it; answers the queued item (for the pending bubble).
export function sendMessage(receiver, text) {
  const item = {
    client_id: uuid(),
    receiver,
    message: text,
    timestamp: new Date().toISOString(),
  };
  outbox.add(item);
  attempt(item);
  return item;
}

function attempt(item) {
  if (!connected() || inflight.has(item.client_id)) return;
  inflight.add(item.client_id);
  const payload = { receiver: item.receiver, message: item.message, client_id: item.client_id };
  socket.timeout(ACK_TIMEOUT_MS).emit("send_message", payload, (timedOut, ack) => {
    inflight.delete(item.client_id);
    if (timedOut || !ack || (!ack.ok && TRANSIENT.has(ack.error))) {
      // Still queued: try again with the same client_id. Gone from the outbox, it was
      // settled meanwhile (by catching up, or by another tab of the same person).
      if (outbox.has(item.client_id)) setTimeout(() => attempt(item), RETRY_MS);
      return;
    }
    // The answer is final, whoever settled the outbox first: another tab showing the
    // same conversation removes the item when the server echoes it there, which may be
    // before this answer arrives, and this tab's bubble still waits for it.
    outbox.remove(item.client_id);
    if (ack.ok) handlers.sent(item, ack.data);
    else handlers.failed(item, ack);
  });
}

// Send every queued message, oldest first (after a (re)connect).
export function flush() {
  for (const item of outbox.items()) attempt(item);
}

// A message seen in history that was ours and still queued: the server has it already.
export function settle(message) {
  if (message.client_id && outbox.has(message.client_id)) {
    outbox.remove(message.client_id);
    return true;
  }
  return false;
}

// Shared helpers for the end-to-end drivers: each script reads one JSON object on
// stdin and prints one JSON object on stdout for the pytest test to check.
import { readFileSync } from "node:fs";
import { io } from "socket.io-client";

export function readInput() {
  return JSON.parse(readFileSync(0, "utf8"));
}

// Print the result and exit once it is flushed: writes to a pipe are asynchronous,
// and exiting straight away would cut a large result short.
export function finish(result) {
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(0));
}

// Connect with the token in the auth payload; every event is recorded in socket.log.
export function connect(url, token, options = {}) {
  const socket = io(url, {
    auth: token === undefined ? undefined : { token },
    reconnection: false,
    forceNew: true,
    timeout: 10000,
    transports: options.transports ?? ["websocket"],
    ...options.extra,
  });
  socket.log = [];
  socket.onAny((event, ...args) => socket.log.push([event, ...args]));
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => {
      socket.close();
      reject(err);
    });
  });
}

// Resolves with the first argument of the first `event` matching `predicate`
// (already received or still to come); rejects after `ms`.
export function waitFor(socket, event, predicate = () => true, ms = 10000) {
  const seen = socket.log.find(([name, arg]) => name === event && predicate(arg));
  if (seen) return Promise.resolve(seen[1]);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`timed out waiting for ${event}`));
    }, ms);
    function handler(arg) {
      if (!predicate(arg)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(arg);
    }
    socket.on(event, handler);
  });
}

export function ack(socket, event, payload, ms = 15000) {
  return socket.timeout(ms).emitWithAck(event, payload);
}

export function named(socket, event) {
  return socket.log.filter(([name]) => name === event).map(([, arg]) => arg);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Try to connect with the given auth / query / headers; report connect or connect_error.
// Input: {url, auth?, query?, headers?, transports?}
import { io } from "socket.io-client";
import { finish, readInput } from "./lib.mjs";

const input = readInput();
const socket = io(input.url, {
  auth: input.auth ?? undefined,
  query: input.query ?? undefined,
  extraHeaders: input.headers ?? undefined,
  transports: input.transports ?? ["polling"],
  reconnection: false,
  forceNew: true,
  timeout: 10000,
});
socket.on("connect", () => {
  socket.disconnect();
  finish({ connected: true });
});
socket.on("connect_error", (err) => {
  finish({ connected: false, message: err.message, data: err.data ?? null });
});

// A send that reaches the strike limit: the sender gets its acknowledgement (the message
// is stored), then `account_blocked`, then the server closes the connection; a
// reconnection is refused as blocked.
// Input: {alice: {url, token, name}, bob: {...}}
import { connect, finish, readInput, waitFor } from "./lib.mjs";

const { alice: A, bob: B } = readInput();
const bob = await connect(B.url, B.token);
const alice = await connect(A.url, A.token);
const closed = new Promise((resolve) => alice.once("disconnect", resolve));
const result = {};
// The callback runs as the acknowledgement arrives, so its place in the log is its
// place among the events.
result.ack = await new Promise((resolve) =>
  alice.timeout(15000).emit("send_message", { receiver: B.name, message: "anything" }, (err, res) => {
    alice.log.push(["ack"]);
    resolve(err ? { ok: false, error: String(err) } : res);
  }),
);
result.account_blocked = await waitFor(alice, "account_blocked");
result.disconnect_reason = await closed;
result.order = alice.log.map(([name]) => name).filter((name) => name !== "online_users");
result.received = await waitFor(bob, "receive_message");
try {
  await connect(A.url, A.token);
  result.reconnect = { connected: true };
} catch (err) {
  result.reconnect = { connected: false, data: err.data ?? null };
}
bob.disconnect();
finish(result);

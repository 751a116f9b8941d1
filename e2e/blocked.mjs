// A send that reaches the strike limit: the sender gets its acknowledgement (the message
// is stored), then `account_blocked`, then the server closes the connection; a
// reconnection is refused as blocked.
// Input: {alice: {url, token, name}, bob: {...}}
import { ack, connect, finish, readInput, waitFor } from "./lib.mjs";

const { alice: A, bob: B } = readInput();
const bob = await connect(B.url, B.token);
const alice = await connect(A.url, A.token);
const closed = new Promise((resolve) => alice.once("disconnect", resolve));
const result = {};
result.ack = await ack(alice, "send_message", { receiver: B.name, message: "anything" });
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

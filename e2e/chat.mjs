// Two users exchange a message, typing and a read receipt; an outsider hears nothing;
// a spoofed sender and malformed payloads are refused without dropping the connection.
// Input: {alice: {url, token, name}, bob: {...}, carol: {...}, transports?}
import { ack, connect, named, finish, readInput, sleep, waitFor } from "./lib.mjs";

const input = readInput();
const { alice: A, bob: B, carol: C } = input;
const options = { transports: input.transports };
const result = {};

const carol = await connect(C.url, C.token, options);
const alice = await connect(A.url, A.token, options);
result.alice_online_users = await waitFor(alice, "online_users");
const bob = await connect(B.url, B.token, options);
result.bob_online_users = await waitFor(bob, "online_users");
await waitFor(carol, "user_joined", (name) => name === B.name);
await waitFor(alice, "user_joined", (name) => name === B.name);
result.carol_joined = named(carol, "user_joined");

result.typing_ack = await ack(bob, "typing", { receiver: A.name, is_typing: true });
result.typing = await waitFor(alice, "user_typing");

result.send_ack = await ack(alice, "send_message", {
  receiver: B.name,
  message: "  hello from node  ",
  client_id: "node-1",
});
result.received = await waitFor(bob, "receive_message");
result.message_sent = await waitFor(alice, "message_sent");
result.retry_ack = await ack(alice, "send_message", {
  receiver: B.name,
  message: "hello again",
  client_id: "node-1",
});

result.read_ack = await ack(bob, "mark_as_read", { message_ids: [result.received.id] });
result.messages_read = await waitFor(alice, "messages_read");

result.spoof_ack = await ack(alice, "send_message", {
  sender: B.name,
  receiver: C.name,
  message: "pretending to be bob",
});
result.spoof_error = await waitFor(alice, "error", (e) => e.error === "forbidden");

result.bad_acks = [];
for (const payload of [null, [1, 2], "text", 42, {}, { receiver: A.name, message: {} }]) {
  result.bad_acks.push(await ack(alice, "send_message", payload));
}
result.bad_typing = await ack(alice, "typing", ["junk"]);
result.bad_read = await ack(alice, "mark_as_read", { message_ids: "nope" });
result.unknown = await ack(alice, "send_message", { receiver: "no-such-user-x", message: "hi" });
result.error_events = named(alice, "error").length;
result.alice_connected = alice.connected;

bob.disconnect();
result.user_left = await waitFor(carol, "user_left", (name) => name === B.name);
await sleep(300);
result.carol_events = carol.log
  .map(([name]) => name)
  .filter((name) => !["online_users", "user_joined", "user_left"].includes(name));
alice.disconnect();
carol.disconnect();
finish(result);

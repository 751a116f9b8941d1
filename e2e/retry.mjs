// An app without acknowledgement callbacks resends its outbox after a reconnect: the
// retry (same client_id) is answered by `message_sent` with the first copy; the receiver
// reads it by an id spelled in upper case (iOS's UUID.uuidString).
// Input: {alice: {url, token, name}, bob: {...}}
import { ack, connect, finish, named, readInput, sleep, waitFor } from "./lib.mjs";

const { alice: A, bob: B } = readInput();
const payload = { receiver: B.name, message: "sent before the drop", client_id: "outbox-1" };
const result = {};
const first = await connect(A.url, A.token);
first.emit("send_message", payload);
result.first = await waitFor(first, "message_sent");
first.disconnect();

const again = await connect(A.url, A.token);
again.emit("send_message", payload);
result.retry = await waitFor(again, "message_sent").catch(() => null);

const bob = await connect(B.url, B.token);
result.read_ack = await ack(bob, "mark_as_read", { message_ids: [result.first.id.toUpperCase()] });
result.messages_read = await waitFor(again, "messages_read").catch(() => null);
await sleep(300);
result.bob_received = named(bob, "receive_message").length;
again.disconnect();
bob.disconnect();
finish(result);

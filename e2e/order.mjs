// Messages sent back to back on one connection, without waiting for their acks (as an
// app flushes its outbox): the receiver must get them in the order they were sent.
// Input: {alice: {url, token, name}, bob: {...}, count}
import { ack, connect, finish, named, readInput, waitFor } from "./lib.mjs";

const { alice: A, bob: B, count } = readInput();
const bob = await connect(B.url, B.token);
const alice = await connect(A.url, A.token);
const texts = Array.from({ length: count }, (_, k) => `good morning number ${k}`);
const acked = []; // client ids in the order their acks came back
const acks = await Promise.all(
  texts.map((message, k) =>
    ack(alice, "send_message", { receiver: B.name, message, client_id: `order-${k}` }).then(
      (answer) => {
        acked.push(answer.ok ? answer.data.client_id : answer.error);
        return answer;
      },
    ),
  ),
);
const last = acks[acks.length - 1].data.id;
await waitFor(bob, "receive_message", (message) => message.id === last);
alice.disconnect();
bob.disconnect();
finish({
  acked,
  received: named(bob, "receive_message").map((message) => message.message),
});

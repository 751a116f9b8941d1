// Saturation: several senders send concurrently to receivers (which may sit on other
// server processes); every acknowledgement and every live delivery is recorded.
// Input: {pairs: [{sender: {url, token, name}, receiver: {url, token, name}}],
//         messages: N per sender, window: in-flight messages per sender, settle_ms}
import { connect, finish, readInput, sleep } from "./lib.mjs";

const input = readInput();
const window = input.window ?? 20;
const sockets = new Map();

async function socketFor(who) {
  const key = `${who.name}@${who.url}`;
  if (!sockets.has(key)) sockets.set(key, await connect(who.url, who.token));
  return sockets.get(key);
}

const received = {};
const receivers = [];
for (const pair of input.pairs) {
  const socket = await socketFor(pair.receiver);
  if (!received[pair.receiver.name]) {
    received[pair.receiver.name] = [];
    socket.on("receive_message", (m) => {
      if (m.receiver === pair.receiver.name) received[pair.receiver.name].push(m.id);
    });
    receivers.push(pair.receiver.name);
  }
}

const acked = [];
const failed = {};
let timeouts = 0;
const started = Date.now();

async function run(pair, index) {
  const socket = await socketFor(pair.sender);
  let next = 0;
  async function worker() {
    while (next < input.messages) {
      const n = next++;
      try {
        const answer = await socket.timeout(30000).emitWithAck("send_message", {
          receiver: pair.receiver.name,
          message: `load ${index}-${n}`,
          client_id: `blast-${index}-${n}`,
        });
        if (answer.ok) {
          acked.push({ id: answer.data.id, sender: pair.sender.name, receiver: pair.receiver.name });
        } else {
          failed[answer.error] = (failed[answer.error] ?? 0) + 1;
        }
      } catch {
        timeouts += 1;
      }
    }
  }
  await Promise.all(Array.from({ length: window }, worker));
}

await Promise.all(input.pairs.map((pair, index) => run(pair, index)));
const elapsed = (Date.now() - started) / 1000;

// Give queued live deliveries a bounded time to arrive (nothing is timed: the check
// afterwards accepts history as well).
const deadline = Date.now() + (input.settle_ms ?? 5000);
const wanted = new Set(acked.map((a) => a.id));
while (Date.now() < deadline) {
  const got = new Set(Object.values(received).flat());
  if ([...wanted].every((id) => got.has(id))) break;
  await sleep(200);
}
for (const socket of sockets.values()) socket.disconnect();
finish({ acked, received, failed, timeouts, elapsed });

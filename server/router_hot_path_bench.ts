/**
 * CPU per direct message of one server's hot path, without sockets, peers
 * or clients, so that two versions of the server can be compared on a busy
 * machine (a saturated `deno task perf` run measures the same work and the
 * kernel's, with a noise of ±25 % here). Per message, as `ClientSession`
 * does it: the `send` frame is decoded and validated (`decodeClientFrame`),
 * the router accepts it (write-behind queue, live delivery: the `msg` frame
 * is encoded), the recipient's `ack` frame is decoded and the router takes
 * it (the queue drops the message unwritten), and the sender's `delivered`
 * receipt is batched into a frame and encoded (`ConfirmationBatch`,
 * `encodePayload`). Senders write to random recipients; acknowledgements
 * come `--ack-batch` per frame (default 4) and `--in-flight` messages
 * (default 64 per client) after their send, as in a run at window 64, so
 * the queue and maps hold what they hold under load. No message reaches
 * the store: everything is acknowledged within the linger (checked).
 *
 * `deno run -A server/router_hot_path_bench.ts [--clients 100] [--messages 20000] [--rounds 5]`
 * prints CPU µs per message for each round.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { randomId } from "@fastchat/lib/crypto";
import { decodeClientFrame, encodePayload, type ServerFrame } from "@fastchat/lib/protocol";
import { connectStore } from "@fastchat/db/connect";
import { insertTestUsers, openTestDb } from "@fastchat/testing";
import { ConfirmationBatch } from "./confirmation_batch.ts";
import { MessageRouter, type RoutedSession } from "./message_router.ts";
import { ChatStore } from "./store.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    clients: { type: "string", default: "100" },
    messages: { type: "string", default: "20000" },
    rounds: { type: "string", default: "5" },
    "ack-batch": { type: "string", default: "4" },
    "in-flight": { type: "string", default: "64" },
  },
});
const clients = Number(values.clients);
const messages = Number(values.messages);
const rounds = Number(values.rounds);
const ackBatch = Number(values["ack-batch"]);
const inFlight = Number(values["in-flight"]) * clients;

/** A connection's outbound side: frames are encoded, as the real session does, then dropped. */
class BenchSession implements RoutedSession {
  readonly congested = false;
  readonly closed = false;
  delivered = 0;
  bytesOut = 0;
  readonly #batch = new ConfirmationBatch((f: ServerFrame) => {
    this.bytesOut += encodePayload(f).length;
  });
  constructor(readonly user: string) {}
  writable(): Promise<void> {
    return Promise.resolve();
  }
  deliver(payload: Uint8Array): boolean {
    this.delivered++;
    this.bytesOut += payload.length;
    return true;
  }
  confirmSent(id: string): void {
    this.#batch.sent(id);
  }
  rejectSent(id: string): void {
    throw new Error(`message ${id} refused`);
  }
  confirmDelivered(peer: string, id: string, stored: boolean): void {
    this.#batch.delivered(peer, id, stored);
  }
}

const names = Array.from({ length: clients }, (_, i) => `bench-${i}`);
const db = await openTestDb("pglite");
const sql = connectStore(db.url, { max: 2 });
await insertTestUsers(sql, names);
const router = new MessageRouter(new ChatStore(sql), { lingerMs: 60_000 });
const sessions = names.map((n) => new BenchSession(n));
for (const s of sessions) await router.join(s);

const body = crypto.getRandomValues(new Uint8Array(160)); // a 100-byte text, sealed
const kid = randomId(16);

/** One round's frames, encoded before timing as the clients would send them. */
function frames(n: number) {
  const sends: Uint8Array[] = [];
  const acks: { by: number; bytes: Uint8Array }[] = [];
  const pending = new Map<number, [string, string][]>();
  const order: { from: number; to: number; id: string }[] = [];
  for (let i = 0; i < n; i++) {
    const from = i % clients;
    let to = Math.floor(Math.random() * (clients - 1));
    if (to >= from) to++;
    const id = randomId(16);
    order.push({ from, to, id });
    sends.push(
      encodePayload({ t: "send", id, to: names[to], kind: "dm", ts: Date.now(), kid, body }),
    );
  }
  // The recipient acknowledges `inFlight` messages later, ackBatch at a time.
  const ackAfter: ({ by: number; bytes: Uint8Array } | null)[] = new Array(n).fill(null);
  for (let i = 0; i < n; i++) {
    const { from, to, id } = order[i];
    const items = pending.get(to) ?? [];
    items.push([names[from], id]);
    pending.set(to, items);
    if (items.length >= ackBatch || i === n - 1) {
      const at = Math.min(n - 1, i + inFlight);
      const a = { by: to, bytes: encodePayload({ t: "ack", items }) };
      pending.delete(to);
      if (ackAfter[at] === null) ackAfter[at] = a;
      else acks.push(a); // same slot taken: sent at the end of the round
    }
  }
  for (const [to, items] of pending) {
    acks.push({ by: to, bytes: encodePayload({ t: "ack", items }) });
  }
  return { sends, order, ackAfter, acks };
}

for (let r = 0; r < rounds; r++) {
  const f = frames(messages);
  const t0 = process.cpuUsage();
  for (let i = 0; i < messages; i++) {
    const send = decodeClientFrame(f.sends[i]);
    if (send.t !== "send") throw new Error("not a send frame");
    router.accept(sessions[f.order[i].from], send);
    const a = f.ackAfter[i];
    if (a) {
      const ack = decodeClientFrame(a.bytes);
      if (ack.t !== "ack") throw new Error("not an ack frame");
      router.ack(sessions[a.by], ack.items);
    }
    // A task's confirmations go out together: one turn per ackBatch messages here.
    if (i % ackBatch === ackBatch - 1) await Promise.resolve();
  }
  for (const a of f.acks) {
    const ack = decodeClientFrame(a.bytes);
    if (ack.t === "ack") router.ack(sessions[a.by], ack.items);
  }
  await Promise.resolve();
  const cpu = process.cpuUsage(t0);
  const stats = router.queue.stats;
  console.log(
    `round ${r}: ${((cpu.user + cpu.system) / messages).toFixed(2)} µs CPU per message ` +
      `(${messages} messages; queued now ${router.queue.length}, skipped in all ${stats.skipped}; ` +
      `heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB)`,
  );
}
const stored = await sql`select count(*)::int as n from messages`;
await router.flush();
await sql.end();
await db.close();
if (stored[0].n !== 0) throw new Error(`${stored[0].n} messages reached the store`);

/**
 * Every acknowledged direct message gets its `delivered` receipt, whenever
 * the acknowledgement comes: before the write-behind linger ends (the
 * message is never written), while its batch is being written, or after
 * (a completion in the store), on the server that accepted it or routed
 * back from the other one, repeated or not. Two in-process chat servers
 * over one real database with a short linger; raw protocol clients whose
 * recipients acknowledge after random delays around that linger.
 */
import { expect } from "expect";
import { waitUntil } from "@fastchat/lib/wait_until";
import { connectStore } from "@fastchat/db/connect";
import {
  closePeersAndServers,
  connectRegistered,
  DB_KINDS,
  openTestDb,
  type RawPeer,
  startLinkedServers,
} from "@fastchat/testing";
import type { ServerFrame } from "@fastchat/lib/protocol";
import { seededRandom } from "@fastchat/testing/frame_fixtures";
import type { ChatServer } from "./chat_server.ts";

const LINGER_MS = 25;
const SENDERS = 4;
const RECIPIENTS = 4;
const PER_SENDER = 120;

/** Acknowledges each `msg` `peer` gets after a random delay around the linger, some twice. */
async function acknowledgeLater(
  peer: RawPeer,
  rand: () => number,
  timers: Set<ReturnType<typeof setTimeout>>,
): Promise<void> {
  const later = (items: [string, string][]) => {
    const delay = Math.floor(rand() * LINGER_MS * 3);
    const t = setTimeout(() => {
      timers.delete(t);
      peer.send({ t: "ack", items });
    }, delay);
    timers.add(t);
  };
  let at = 0;
  let pending: [string, string][] = [];
  while (!peer.ended) {
    try {
      await peer.waitFrames(() => true, at + 1, 60_000);
    } catch {
      return; // closed at the end of the test
    }
    for (; at < peer.frames.length; at++) {
      const f = peer.frames[at];
      if (f.t !== "msg") continue;
      pending.push([f.from, f.id]);
      // Sometimes several messages share one ack frame; some are acknowledged twice.
      if (rand() < 0.6) {
        later(pending);
        if (rand() < 0.1) later(pending);
        pending = [];
      }
    }
    if (pending.length > 0) {
      later(pending);
      pending = [];
    }
  }
}

function receiptsOf(peer: RawPeer): { sent: Set<string>; delivered: Set<string> } {
  const sent = new Set<string>();
  const delivered = new Set<string>();
  for (const f of peer.frames as ServerFrame[]) {
    if (f.t === "sent") { for (const id of f.ids) sent.add(id); }
    if (f.t === "delivered") { for (const [, id] of f.items) delivered.add(id); }
  }
  return { sent, delivered };
}

for (const kind of DB_KINDS) {
  Deno.test({
    name:
      `receipts (${kind}): every message acknowledged before, during or after its write gets one`,
    async fn() {
      const db = await openTestDb(kind);
      const pools = [0, 1].map(() => connectStore(db.url, { max: 4 }));
      const servers: ChatServer[] = [];
      const peers: RawPeer[] = [];
      const timers = new Set<ReturnType<typeof setTimeout>>();
      const rand = seededRandom(Number(Deno.env.get("FASTCHAT_RACE_SEED") ?? 15));
      try {
        await startLinkedServers(pools, servers, () => ({}), { lingerMs: LINGER_MS });
        const join = async (user: string, i: number) => {
          const s = servers[i % 2];
          const { peer } = await connectRegistered(s.host, s.port, user);
          peers.push(peer);
          return peer;
        };
        const senders: RawPeer[] = [];
        const recipients: RawPeer[] = [];
        for (let i = 0; i < RECIPIENTS; i++) recipients.push(await join(`rcpt${i}`, i));
        for (let i = 0; i < SENDERS; i++) senders.push(await join(`sndr${i}`, i));
        const acking = recipients.map((r) => acknowledgeLater(r, rand, timers));

        // Per sender: message id -> recipient index.
        const expected: Map<string, number>[] = senders.map(() => new Map());
        const shown = (id: string, r: number) =>
          recipients[r].frames.some((f) => f.t === "msg" && f.id === id);
        for (let k = 0; k < PER_SENDER; k++) {
          for (const [i, s] of senders.entries()) {
            const r = Math.floor(rand() * RECIPIENTS);
            const id = `m${i}x${String(k).padStart(6, "0")}`;
            expected[i].set(id, r);
            // A new session key now and then: its envelope is written before the messages.
            const env = rand() < 0.1
              ? { kid: `k${i}x${String(k).padStart(6, "0")}`, env: new Uint8Array(256) }
              : {};
            await s.send({
              t: "send",
              id,
              to: `rcpt${r}`,
              kind: "dm",
              ts: 1000 + k,
              body: crypto.getRandomValues(new Uint8Array(100)),
              ...env,
            });
          }
          // Bursts and pauses: some sends share a write-behind batch, some do not.
          if (rand() < 0.2) await new Promise((r) => setTimeout(r, rand() * LINGER_MS * 2));
        }

        const missing = () =>
          senders.flatMap((s, i) => {
            const { delivered } = receiptsOf(s);
            return [...expected[i].keys()].filter((id) => !delivered.has(id)).map((id) => ({
              i,
              id,
            }));
          });
        try {
          await waitUntil(() => missing().length === 0, 30_000, "every receipt");
        } catch (e) {
          const lost = missing().map(({ i, id }) => {
            const r = expected[i].get(id)!;
            return `${id} to rcpt${r} (${servers[i % 2].id} -> ${servers[r % 2].id}, sent ${
              receiptsOf(senders[i]).sent.has(id)
            }, shown ${shown(id, r)})`;
          });
          throw new Error(`${lost.length} receipts missing: ${lost.slice(0, 20).join("; ")}`, {
            cause: e,
          });
        }
        // Each message reached its recipient.
        for (const sent of expected) {
          for (const [id, r] of sent) expect(shown(id, r)).toBe(true);
        }
        for (const p of peers) p.close();
        await Promise.all(acking);
      } finally {
        for (const t of timers) clearTimeout(t);
        await closePeersAndServers(peers, servers);
        for (const sql of pools) await sql.end();
        await db.close();
      }
    },
  });
}

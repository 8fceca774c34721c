/** WriteBehindQueue against PGlite and (when configured) PostgreSQL. */
import { expect } from "expect";
import { connectStore } from "@fastchat/db/connect";
import type { Logger } from "@fastchat/lib/logger";
import { RecordingSession } from "./recording_session.ts";
import { ChatStore, type MessageRef, type StoredMessage } from "./store.ts";
import { DB_KINDS, insertTestUsers, openTestDb } from "@fastchat/testing";
import { type WriteBehindOptions, WriteBehindQueue } from "./write_behind_queue.ts";

function message(id: string, bytes = 100): StoredMessage {
  return { id, sender: "alice", recipient: "bob", kind: 1, body: new Uint8Array(bytes), sentAt: 1 };
}

const ref = (id: string): MessageRef => ({ recipient: "bob", sender: "alice", id });

/** A real store that records the payload bytes of every message insert. */
class MeasuredStore extends ChatStore {
  statements: number[] = [];
  /** Inserts that fail with a connection error before the real ones run. */
  outages = 0;
  /** Runs while an insert that is going to fail is in flight. */
  duringOutage: () => void = () => {};
  override insertMessages(rows: StoredMessage[]): Promise<void> {
    if (this.outages > 0) {
      this.outages--;
      this.duringOutage();
      return Promise.reject(
        Object.assign(new Error("connection closed"), { code: "CONNECTION_CLOSED" }),
      );
    }
    this.statements.push(rows.reduce((n, r) => n + r.body.length, 0));
    return super.insertMessages(rows);
  }
}

/** A queue on `store` whose `delivered` events are recorded. */
function queueOn(store: ChatStore, opts: WriteBehindOptions) {
  const delivered: { id: string; stored: boolean; sender: string | null }[] = [];
  const queue = new WriteBehindQueue<RecordingSession>(store, {
    delivered: (r, stored, sender) =>
      delivered.push({ id: r.id, stored, sender: sender?.user ?? null }),
  }, opts);
  return { queue, delivered };
}

async function withStore(
  kind: (typeof DB_KINDS)[number],
  fn: (store: MeasuredStore) => Promise<void>,
): Promise<void> {
  const db = await openTestDb(kind);
  const sql = connectStore(db.url, { max: 2 });
  try {
    const store = new MeasuredStore(sql);
    await insertTestUsers(sql, ["alice", "bob"]);
    await fn(store);
  } finally {
    await sql.end();
    await db.close();
  }
}

const storedIds = async (store: ChatStore) =>
  (await store.pendingFor("bob", 0, 100)).map((m) => m.id);

for (const kind of DB_KINDS) {
  Deno.test(`write-behind (${kind}): batches are capped in bytes, not only rows`, () =>
    withStore(kind, async (store) => {
      const { queue } = queueOn(store, { lingerMs: 0, batchBytes: 1024 * 1024 });
      const alice = new RecordingSession("alice");
      const msgs = Array.from({ length: 24 }, (_, i) => message(`big-${1000 + i}`, 300 * 1024));
      for (const m of msgs) await queue.enqueue(m, alice, true);
      await queue.flush();
      expect(alice.sent.sort()).toEqual(msgs.map((m) => m.id).sort());
      expect(store.statements.length).toBeGreaterThan(1);
      for (const bytes of store.statements) expect(bytes).toBeLessThanOrEqual(1024 * 1024);
      expect((await store.pendingFor("bob", 0, 100)).length).toBe(24);
    }));

  Deno.test(`write-behind (${kind}): a row the store refuses is set aside, the queue goes on`, () =>
    withStore(kind, async (store) => {
      await store.sql`alter table messages add constraint refuses_poison
        check (id not like 'poison-%')`;
      const logged: string[] = [];
      const logger: Logger = {
        debug() {},
        info() {},
        warn() {},
        error: (event: string) => logged.push(event),
      };
      const { queue } = queueOn(store, { lingerMs: 0, logger });
      const alice = new RecordingSession("alice");
      const ids = Array.from({ length: 20 }, (_, i) => i === 7 ? "poison-0007" : `ok-${1000 + i}`);
      for (const id of ids) await queue.enqueue(message(id), alice, true);
      await queue.flush();
      expect(alice.rejected).toEqual([["poison-0007", "STORE_FAILED"]]);
      expect(alice.sent.sort()).toEqual(ids.filter((i) => i !== "poison-0007").sort());
      expect(queue.stats.setAside).toBe(1);
      expect(logged).toContain("store_row_set_aside");
      expect(queue.length).toBe(0);
      expect(await storedIds(store)).toEqual(ids.filter((i) => i !== "poison-0007")); // order kept

      // later messages are stored as usual
      await queue.enqueue(message("ok-after-1"), alice, true);
      await queue.flush();
      expect(alice.sent).toContain("ok-after-1");
    }));

  Deno.test(`write-behind (${kind}): an outage sets nothing aside; rows are written after it`, () =>
    withStore(kind, async (store) => {
      store.outages = 2;
      const { queue } = queueOn(store, { lingerMs: 0 });
      const alice = new RecordingSession("alice");
      const ids = Array.from({ length: 5 }, (_, i) => `out-${1000 + i}`);
      for (const id of ids) await queue.enqueue(message(id), alice, true);
      await queue.flush();
      expect(store.outages).toBe(0);
      expect(queue.stats.storeErrors).toBe(2);
      expect(queue.stats.setAside).toBe(0);
      expect(alice.rejected).toEqual([]);
      expect(alice.sent.sort()).toEqual(ids);
    }));

  Deno.test(`write-behind (${kind}): acknowledged during a failed insert, a message still gets its receipt`, () =>
    withStore(kind, async (store) => {
      // The insert may have committed before the connection broke: the row is
      // written again (idempotent) and completed, so its receipt is stored.
      store.outages = 1;
      const { queue, delivered } = queueOn(store, { lingerMs: 0 });
      const alice = new RecordingSession("alice");
      store.duringOutage = () => expect(queue.acknowledge(ref("fail000001"))).toBe(true);
      await queue.enqueue(message("fail000001"), alice, true);
      await queue.flush();
      expect(queue.stats.storeErrors).toBe(1);
      expect(delivered).toEqual([{ id: "fail000001", stored: true, sender: null }]);
      expect(await storedIds(store)).toEqual([]);
      expect((await store.pendingReceipts("alice")).map((r) => r.id)).toEqual(["fail000001"]);
    }));

  Deno.test(`write-behind (${kind}): a long queue of lingering messages waits for its head, no busy drain`, () =>
    withStore(kind, async (store) => {
      const alice = new RecordingSession("alice");
      // More queued than one batch holds: still nothing can be written before the linger.
      const { queue } = queueOn(store, { lingerMs: 100, batchMax: 2 });
      const ids = ["queue00001", "queue00002", "queue00003", "queue00004", "queue00005"];
      for (const id of ids) queue.enqueue(message(id), alice, false);
      await alice.waitSent("queue00005");
      expect(await storedIds(store)).toEqual(ids);
      // One drain at the head's linger (a second if the timer fired within the
      // microseconds between the accepts); a spinning drain would count hundreds.
      expect(queue.stats.drains).toBeLessThanOrEqual(2);
      for (const id of ids) expect(queue.acknowledge(ref(id))).toBe(false); // written already
      for (const id of ids) queue.complete(ref(id));
      await queue.flush();
      expect(await storedIds(store)).toEqual([]);
      expect(queue.stats.completed).toBe(5);
    }));

  Deno.test(`write-behind (${kind}): acknowledged in time, a message is never written`, () =>
    withStore(kind, async (store) => {
      const alice = new RecordingSession("alice");
      const { queue, delivered } = queueOn(store, { lingerMs: 3_600_000 });
      queue.enqueue(message("early00001"), alice, false);
      expect(queue.acknowledge({ ...ref("early00001"), recipient: "mallory" })).toBe(false);
      expect(queue.acknowledge(ref("early00001"))).toBe(true);
      // Settled: a second acknowledgement is not this queue's (a store completion finds nothing).
      expect(queue.acknowledge(ref("early00001"))).toBe(false);
      expect(delivered).toEqual([{ id: "early00001", stored: false, sender: "alice" }]);
      await queue.flush();
      expect(queue.stats.skipped).toBe(1);
      expect(queue.stats.written).toBe(0);
      expect(alice.sent).toEqual([]); // the receipt is the confirmation
      expect(await storedIds(store)).toEqual([]);

      // A resend of a queued message is claimed, not queued twice; a sender
      // that went and came back is confirmed.
      queue.enqueue(message("again00001"), alice, false);
      queue.forgetSender(alice);
      const back = new RecordingSession("alice");
      expect(queue.claim("alice", "again00001", back)).toBe(true);
      expect(queue.claim("alice", "other00001", back)).toBe(false);
      await queue.flush();
      expect(alice.sent).toEqual([]);
      expect(back.sent).toEqual(["again00001"]);
      // Acknowledged once stored: completed, with the receipt stored too.
      expect(queue.acknowledge(ref("again00001"))).toBe(false);
      queue.complete(ref("again00001"));
      await queue.flush();
      expect(delivered.at(-1)).toEqual({ id: "again00001", stored: true, sender: null });
      expect((await store.pendingReceipts("alice")).map((r) => r.id)).toEqual(["again00001"]);
      queue.deleteReceipts([ref("again00001")]);
      queue.storeReceipt(ref("rcpt000001"));
      await queue.flush();
      expect((await store.pendingReceipts("alice")).map((r) => r.id)).toEqual(["rcpt000001"]);
    }));

  Deno.test(`write-behind (${kind}): acknowledged messages leave the queue before their linger`, () =>
    withStore(kind, async (store) => {
      const alice = new RecordingSession("alice");
      const { queue } = queueOn(store, { lingerMs: 3_600_000, batchMax: 50 });
      let ids: string[] = [];
      const enqueue = (prefix: string) => {
        ids = Array.from({ length: 400 }, (_, i) => `${prefix}-${1000 + i}`);
        for (const id of ids) queue.enqueue(message(id), alice, false);
      };
      const ack = (from: number, to: number, step = 1) => {
        for (let i = from; i < to; i += step) queue.acknowledge(ref(ids[i]));
      };
      // Acknowledged (out of order) entries are dropped once they are half the queue.
      enqueue("drop");
      ack(1, 80, 2);
      ack(100, 200);
      expect(queue.length).toBe(400); // 140 of 400: not yet
      ack(200, 260);
      expect(queue.length).toBe(200); // 200 of 400: dropped
      ack(0, 400);
      await queue.flush();
      expect(queue.length).toBe(0);
      expect(queue.stats.skipped).toBe(400);
      // Acknowledgements while a batch is written wait for it to end: the batch
      // (half of it acknowledged already) keeps its place in the queue.
      enqueue("keep");
      ack(1, 80, 2);
      const flushed = queue.flush();
      ack(100, 400);
      await flushed;
      const kept = ids.filter((_, i) => i < 100 && (i >= 80 || i % 2 === 0));
      expect(queue.length).toBe(0);
      expect(queue.stats.written).toBe(60);
      expect(queue.stats.skipped).toBe(740);
      expect(alice.sent.sort()).toEqual(kept);
      expect(await storedIds(store)).toEqual(kept);
    }));

  Deno.test(`write-behind (${kind}): past the high-water mark senders wait for the writer`, () =>
    withStore(kind, async (store) => {
      const alice = new RecordingSession("alice");
      const { queue } = queueOn(store, { lingerMs: 3_600_000, highWater: 4 });
      for (let i = 1; i <= 4; i++) {
        expect(queue.enqueue(message(`hw-0000${i}`), alice, false)).toBe(undefined);
      }
      const paused = queue.enqueue(message("hw-00005"), alice, false);
      expect(paused).toBeInstanceOf(Promise);
      let resumed = false;
      paused!.then(() => resumed = true);
      await Promise.resolve();
      expect(resumed).toBe(false); // nothing written yet: still lingering
      await queue.flush();
      await paused;
      expect(queue.length).toBe(0);
      expect(alice.sent.length).toBe(5);
    }));

  Deno.test(`write-behind (${kind}): envelopes are served from memory until stored`, () =>
    withStore(kind, async (store) => {
      const alice = new RecordingSession("alice");
      const { queue } = queueOn(store, { lingerMs: 3_600_000 });
      const env = {
        recipient: "bob",
        kid: "kid-000001",
        sender: "alice",
        envelope: new Uint8Array(40),
      };
      queue.enqueue(message("env0000001"), alice, false, env);
      expect(await store.getEnvelope("bob", "kid-000001")).toBeNull();
      expect((await queue.envelope("bob", "kid-000001"))?.sender).toBe("alice");
      await queue.flush();
      expect((await store.getEnvelope("bob", "kid-000001"))?.sender).toBe("alice");
      expect((await queue.envelope("bob", "kid-000001"))?.sender).toBe("alice");
    }));
}

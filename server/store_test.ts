/** ChatStore against PGlite and (when configured) real PostgreSQL. */
import { expect } from "expect";
import type { Sql } from "postgres";
import { connectStore } from "@fastchat/db/connect";
import { MessageRouter } from "./message_router.ts";
import { RecordingSession } from "./recording_session.ts";
import { ChatStore, type StoredMessage } from "./store.ts";
import { DB_KINDS, openTestDb } from "@fastchat/testing";

const opts = { sanitizeOps: false, sanitizeResources: false };

function user(name: string) {
  return {
    username: name,
    authHash: new Uint8Array(32).fill(1),
    authSalt: new Uint8Array(16).fill(2),
    authParams: "scrypt:N=1024,r=8,p=1",
    kdfSalt: new Uint8Array(16).fill(3),
    kdfIterations: 600_000,
    encKey: new Uint8Array(294).fill(4),
    signKey: new Uint8Array(32).fill(5),
    keyBackup: new Uint8Array(100).fill(6),
  };
}

function msg(id: string, sender = "alice", recipient = "bob"): StoredMessage {
  return {
    id,
    sender,
    recipient,
    kind: 1,
    body: new TextEncoder().encode(`ct-${id}`),
    sentAt: 1000,
  };
}

/** The `msg` frame of a message from alice to bob. */
function msgFrame(id: string) {
  return {
    t: "msg" as const,
    id,
    from: "alice",
    to: "bob",
    kind: "dm" as const,
    ts: 1,
    body: new Uint8Array(1),
  };
}

/** Runs `fn` against a fresh database of `kind` with a ChatStore on it. */
async function withStore(
  kind: (typeof DB_KINDS)[number],
  fn: (store: ChatStore, sql: Sql) => Promise<void>,
): Promise<void> {
  const db = await openTestDb(kind);
  const sql = connectStore(db.url, { max: 2 });
  try {
    await fn(new ChatStore(sql), sql);
  } finally {
    await sql.end();
    await db.close();
  }
}

for (const kind of DB_KINDS) {
  Deno.test({
    name: `store (${kind}): accounts, sessions, messages, envelopes, receipts`,
    ...opts,
    fn: () =>
      withStore(kind, async (store) => {
        await store.createUser(user("alice"));
        await store.createUser(user("bob"));
        await expect(store.createUser(user("alice"))).rejects.toMatchObject({
          code: "USER_EXISTS",
        });
        const a = await store.getUser("alice");
        expect(a?.encKey).toEqual(new Uint8Array(294).fill(4));
        expect(await store.getUser("nobody")).toBeNull();
        expect(await store.userExists("bob")).toBe(true);

        await store.createSession({
          id: "s1",
          username: "alice",
          secretHash: new Uint8Array(32).fill(9),
          expiresAt: new Date(Date.now() + 60_000),
        });
        await store.createSession({
          id: "s-old",
          username: "alice",
          secretHash: new Uint8Array(32),
          expiresAt: new Date(Date.now() - 1000),
        });
        expect((await store.getSession("s1"))?.username).toBe("alice");
        expect(await store.getSession("s-old")).toBeNull(); // expired
        await store.deleteSession("s1");
        expect(await store.getSession("s1")).toBeNull();

        // Batched inserts are idempotent per (sender, id) and keep order.
        const batch = Array.from({ length: 1000 }, (_, i) => msg(`m${String(i).padStart(6, "0")}`));
        await store.insertMessages(batch);
        await store.insertMessages(batch.slice(0, 10)); // duplicates ignored
        const page1 = await store.pendingFor("bob", 0, 600);
        expect(page1.map((m) => m.id)).toEqual(batch.slice(0, 600).map((m) => m.id));
        const page2 = await store.pendingFor("bob", page1.at(-1)!.seq!, 600);
        expect(page2.length).toBe(400);
        expect(new TextDecoder().decode(page2[0].body)).toBe(`ct-${batch[600].id}`);

        // Only the recipient's acknowledgement completes a message.
        const refs = batch.slice(0, 5).map((m) => ({
          recipient: "bob",
          sender: m.sender,
          id: m.id,
        }));
        const forged = await store.completeMessages(
          refs.map((r) => ({ ...r, recipient: "mallory" })),
        );
        expect(forged).toEqual([]);
        const done = await store.completeMessages(refs);
        expect(done.length).toBe(5);
        // Completion records the senders' receipts in the same statement.
        expect((await store.pendingReceipts("alice")).map((r) => r.id).sort()).toEqual(
          refs.map((r) => r.id).sort(),
        );
        await store.deleteReceipts(refs.slice(0, 2).map((r) => ({ ...r })));
        expect((await store.pendingReceipts("alice")).length).toBe(3);
        await store.deleteReceipts(refs);
        expect((await store.pendingFor("bob", 0, 10))[0].id).toBe(batch[5].id);

        await store.insertEnvelopes([{
          recipient: "bob",
          kid: "kid-000001",
          sender: "alice",
          envelope: new Uint8Array(40).fill(7),
        }]);
        expect((await store.getEnvelope("bob", "kid-000001"))?.sender).toBe("alice");
        expect(await store.getEnvelope("carol", "kid-000001")).toBeNull();

        await store.insertReceipts(refs);
        await store.insertReceipts(refs); // idempotent
        const pending = await store.pendingReceipts("alice");
        expect(pending.length).toBe(5);
        await store.deleteReceipts(pending);
        expect(await store.pendingReceipts("alice")).toEqual([]);
      }),
  });

  Deno.test({
    name: `router (${kind}): a long queue of lingering messages waits for its head, no busy drain`,
    ...opts,
    fn: () =>
      withStore(kind, async (store) => {
        const alice = new RecordingSession("alice");
        const bob = new RecordingSession("bob");
        // More queued than one batch holds: still nothing can be written before the linger.
        const router = new MessageRouter(store, { lingerMs: 100, batchMax: 2 });
        router.attach(alice);
        router.attach(bob);
        const ids = ["queue00001", "queue00002", "queue00003", "queue00004", "queue00005"];
        for (const id of ids) router.accept(alice, msg(id), msgFrame(id));
        await alice.waitSent("queue00005");
        expect((await store.pendingFor("bob", 0, 10)).map((m) => m.id)).toEqual(ids);
        // One drain at the head's linger (a second if the timer fired within the
        // microseconds between the accepts); a spinning drain would count hundreds.
        expect(router.stats.drains).toBeLessThanOrEqual(2);
        router.ack(bob, ids.map((id) => ["alice", id] as [string, string]));
        await router.flush();
      }),
  });

  Deno.test({
    name: `router (${kind}): early acks skip the write; late acks delete; retain keeps rows`,
    ...opts,
    fn: () =>
      withStore(kind, async (store, sql) => {
        const alice = new RecordingSession("alice");
        const bob = new RecordingSession("bob");
        const router = new MessageRouter(store, { lingerMs: 50 });
        router.attach(alice);
        router.attach(bob);
        const frame = msgFrame;
        // Acknowledged before the write-behind batch: never stored; the live receipt to
        // the sending session is its only confirmation (it implies `sent`).
        router.accept(alice, msg("early00001"), frame("early00001"));
        expect(bob.delivered.length).toBe(1);
        router.ack(bob, [["alice", "early00001"]]);
        expect(alice.sent).toEqual([]);
        expect(alice.receipts).toEqual([["bob", "early00001"]]);
        expect(alice.storedReceipts).toEqual([]); // live only: nothing to acknowledge
        await router.flush();
        expect(await store.pendingFor("bob", 0, 10)).toEqual([]);
        expect(router.stats.skipped).toBe(1);

        // Not acknowledged: stored, then `sent`; a later ack deletes it and sends `delivered`.
        router.accept(alice, msg("late000001"), frame("late000001"));
        await router.flush();
        expect(alice.sent).toContain("late000001");
        expect((await store.pendingFor("bob", 0, 10)).map((m) => m.id)).toEqual(["late000001"]);
        router.ack(bob, [["alice", "late000001"]]);
        await router.flush();
        expect(await store.pendingFor("bob", 0, 10)).toEqual([]);
        expect(alice.receipts).toContainEqual(["bob", "late000001"]);
        // Stored with the completion: the client must acknowledge it.
        expect(alice.storedReceipts).toEqual([["bob", "late000001"]]);

        // Receipts stay stored until the sender says it has shown them.
        router.receiptsShown("alice", [["bob", "late000001"]]);
        await router.flush();
        expect(await store.pendingReceipts("alice")).toEqual([]);

        // A sender who is offline gets the receipt stored.
        router.detach(alice);
        router.accept(alice, msg("off0000001"), frame("off0000001"));
        await router.flush();
        router.ack(bob, [["alice", "off0000001"]]);
        await router.flush();
        expect((await store.pendingReceipts("alice")).map((r) => r.id)).toEqual(["off0000001"]);

        // Acknowledged before it was stored, sender offline: the receipt is stored too.
        router.accept(alice, msg("off0000002"), frame("off0000002"));
        router.ack(bob, [["alice", "off0000002"]]);
        await router.flush();
        expect((await store.pendingReceipts("alice")).map((r) => r.id)).toEqual([
          "off0000001",
          "off0000002",
        ]);

        // A message nobody is online to receive is written without lingering, and so is
        // everything queued before it (stored order is acceptance order).
        const slow = new MessageRouter(store, { lingerMs: 3_600_000 });
        slow.attach(alice);
        slow.attach(bob);
        slow.accept(alice, msg("order00001"), frame("order00001")); // live: lingers
        slow.detach(bob);
        slow.accept(alice, msg("order00002"), frame("order00002")); // offline: urgent
        await alice.waitSent("order00002");
        expect(alice.sent).toContain("order00001");
        expect((await store.pendingFor("bob", 0, 10)).map((m) => m.id)).toEqual([
          "order00001",
          "order00002",
        ]);
        // A live message alone lingers: nothing is written or confirmed until it is acknowledged.
        slow.attach(bob);
        slow.accept(alice, msg("order00003"), frame("order00003"));
        await store.pendingFor("bob", 0, 10); // a store round trip for the writer to act
        expect(alice.sent).not.toContain("order00003");
        expect(alice.receipts).not.toContainEqual(["bob", "order00003"]);
        slow.ack(bob, [["alice", "order00003"]]);
        expect(alice.receipts).toContainEqual(["bob", "order00003"]);
        await slow.flush();
        expect((await store.pendingFor("bob", 0, 10)).map((m) => m.id)).toEqual([
          "order00001",
          "order00002",
        ]);
        slow.ack(bob, [["alice", "order00001"], ["alice", "order00002"]]);
        await slow.flush();

        // Retention: delivered rows are kept, marked delivered.
        const keep = new MessageRouter(store, { retain: true, lingerMs: 50 });
        keep.attach(bob);
        keep.accept(alice, msg("kept000001"), frame("kept000001"));
        keep.ack(bob, [["alice", "kept000001"]]);
        await keep.flush();
        const [row] = await sql`select delivered_at from messages where id = 'kept000001'`;
        expect(row.delivered_at).toBeInstanceOf(Date);
        expect(await store.pendingFor("bob", 0, 10)).toEqual([]);
      }),
  });
}

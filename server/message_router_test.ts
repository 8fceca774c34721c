/**
 * MessageRouter against PGlite and (when configured) PostgreSQL: live
 * delivery, fan-out through a recording fabric, acknowledgement and receipt
 * routing, backlog on join and resync.
 */
import { expect } from "expect";
import type { Sql } from "postgres";
import { connectStore } from "@fastchat/db/connect";
import type { Logger } from "@fastchat/lib/logger";
import type { ClientFrameOf } from "@fastchat/lib/protocol";
import type { Fabric, FabricSink, RoutedAck, RoutedReceipt } from "./fabric.ts";
import { MessageRouter } from "./message_router.ts";
import type { ForwardedGroupMessage, ForwardedMessage } from "./peer_protocol.ts";
import { RecordingSession } from "./recording_session.ts";
import { ChatStore } from "./store.ts";
import { DB_KINDS, insertTestUsers, openTestDb } from "@fastchat/testing";

/** A `send` frame to `to`. */
function send(id: string, to = "bob"): ClientFrameOf<"send"> {
  return { t: "send", id, to, kind: "dm", ts: 1000, body: new TextEncoder().encode(`ct-${id}`) };
}

/** A fabric that records what the router asks of it; `where` says who is on which server. */
class RecordingFabric implements Fabric {
  sink: FabricSink | null = null;
  readonly where = new Map<string, string[]>();
  readonly forwards: [string, ForwardedMessage][] = [];
  readonly acks: [string, RoutedAck][] = [];
  readonly receipts: [string, RoutedReceipt, boolean][] = [];
  readonly announced: [string[], boolean][] = [];
  /** What the next announcements resolve with (default: at once). */
  announcing: () => Promise<void> = () => Promise.resolve();
  attach(sink: FabricSink): void {
    this.sink = sink;
  }
  serversOf(user: string): Iterable<string> {
    return this.where.get(user) ?? [];
  }
  forward(server: string, m: ForwardedMessage): void {
    this.forwards.push([server, m]);
  }
  readonly groupForwards: [string, ForwardedGroupMessage][] = [];
  forwardGroup(server: string, m: ForwardedGroupMessage): void {
    this.groupForwards.push([server, m]);
  }
  sendAck(origin: string, item: RoutedAck): void {
    this.acks.push([origin, item]);
  }
  sendReceipt(server: string, item: RoutedReceipt, stored: boolean): boolean {
    this.receipts.push([server, item, stored]);
    return true;
  }
  announce(users: string[], online: boolean): Promise<void> {
    this.announced.push([users, online]);
    return this.announcing();
  }
  readonly linkedPeers: string[] = [];
  close(): void {}
}

async function withStore(
  kind: (typeof DB_KINDS)[number],
  fn: (store: ChatStore, sql: Sql) => Promise<void>,
): Promise<void> {
  const db = await openTestDb(kind);
  const sql = connectStore(db.url, { max: 2 });
  try {
    await insertTestUsers(sql, ["alice", "bob", "carol"]);
    await fn(new ChatStore(sql), sql);
  } finally {
    await sql.end();
    await db.close();
  }
}

const storedFor = async (store: ChatStore, user = "bob") =>
  (await store.pendingFor(user, 0, 100)).map((m) => m.id);

for (const kind of DB_KINDS) {
  Deno.test(`router (${kind}): early acks skip the write; late acks delete; retain keeps rows`, () =>
    withStore(kind, async (store, sql) => {
      const alice = new RecordingSession("alice");
      const bob = new RecordingSession("bob");
      const router = new MessageRouter(store, { lingerMs: 50 });
      await router.join(alice);
      await router.join(bob);
      // Acknowledged before the write-behind batch: never stored; the live receipt to
      // the sending session is its only confirmation (it implies `sent`).
      router.accept(alice, send("early00001"));
      expect(bob.deliveredIds).toEqual(["early00001"]);
      router.ack(bob, [["alice", "early00001"]]);
      expect(alice.sent).toEqual([]);
      expect(alice.receipts).toEqual([["bob", "early00001"]]);
      expect(alice.storedReceipts).toEqual([]); // live only: nothing to acknowledge
      await router.flush();
      expect(await storedFor(store)).toEqual([]);
      expect(router.queue.stats.skipped).toBe(1);

      // Not acknowledged: stored, then `sent`; a later ack deletes it and sends `delivered`.
      router.accept(alice, send("late000001"));
      await router.flush();
      expect(alice.sent).toContain("late000001");
      expect(await storedFor(store)).toEqual(["late000001"]);
      router.ack(bob, [["alice", "late000001"]]);
      await router.flush();
      expect(await storedFor(store)).toEqual([]);
      expect(alice.receipts).toContainEqual(["bob", "late000001"]);
      // Stored with the completion: the client must acknowledge it.
      expect(alice.storedReceipts).toEqual([["bob", "late000001"]]);

      // Receipts stay stored until the sender says it has shown them.
      router.receiptsShown("alice", [["bob", "late000001"]]);
      await router.flush();
      expect(await store.pendingReceipts("alice")).toEqual([]);

      // A sender who is offline gets the receipt stored.
      router.leave(alice);
      router.accept(alice, send("off0000001"));
      await router.flush();
      router.ack(bob, [["alice", "off0000001"]]);
      await router.flush();
      expect((await store.pendingReceipts("alice")).map((r) => r.id)).toEqual(["off0000001"]);

      // Acknowledged before it was stored, sender offline: the receipt is stored too.
      router.accept(alice, send("off0000002"));
      router.ack(bob, [["alice", "off0000002"]]);
      await router.flush();
      expect((await store.pendingReceipts("alice")).map((r) => r.id)).toEqual([
        "off0000001",
        "off0000002",
      ]);

      // A message nobody is online to receive is written without lingering, and so is
      // everything queued before it (stored order is acceptance order).
      const slow = new MessageRouter(store, { lingerMs: 3_600_000 });
      await slow.join(alice);
      await slow.join(bob);
      slow.accept(alice, send("order00001")); // live: lingers
      slow.leave(bob);
      slow.accept(alice, send("order00002")); // offline: urgent
      await alice.waitSent("order00002");
      expect(alice.sent).toContain("order00001");
      expect(await storedFor(store)).toEqual(["order00001", "order00002"]);
      // A live message alone lingers: nothing is written or confirmed until it is acknowledged.
      await slow.join(bob);
      slow.accept(alice, send("order00003"));
      await store.pendingFor("bob", 0, 10); // a store round trip for the writer to act
      expect(alice.sent).not.toContain("order00003");
      expect(alice.receipts).not.toContainEqual(["bob", "order00003"]);
      slow.ack(bob, [["alice", "order00003"]]);
      expect(alice.receipts).toContainEqual(["bob", "order00003"]);
      await slow.flush();
      expect(await storedFor(store)).toEqual(["order00001", "order00002"]);
      slow.ack(bob, [["alice", "order00001"], ["alice", "order00002"]]);
      await slow.flush();

      // Retention: delivered rows are kept, marked delivered.
      const keep = new MessageRouter(store, { retain: true, lingerMs: 50 });
      await keep.join(bob);
      keep.accept(alice, send("kept000001"));
      keep.ack(bob, [["alice", "kept000001"]]);
      await keep.flush();
      const [row] = await sql`select delivered_at from messages where id = 'kept000001'`;
      expect(row.delivered_at).toBeInstanceOf(Date);
      expect(await storedFor(store)).toEqual([]);
      for (const r of [router, slow, keep]) r.close();
    }));

  Deno.test(`router (${kind}): fan-out through the fabric; acks and receipts find their server`, () =>
    withStore(kind, async (store) => {
      const fabric = new RecordingFabric();
      const router = new MessageRouter(store, { lingerMs: 3_600_000, fabric });
      expect(fabric.sink).toBe(router);
      const alice = new RecordingSession("alice");
      const bob = new RecordingSession("bob");
      await router.join(alice);
      await router.join(bob);
      // bob is here and on fc-2: one frame, the same bytes both ways.
      fabric.where.set("bob", ["fc-2"]);
      router.accept(alice, { ...send("fan0000001"), kid: "kid-000001", env: new Uint8Array(20) });
      expect(bob.deliveredIds).toEqual(["fan0000001"]);
      expect(fabric.forwards).toEqual([["fc-2", ["fan0000001", "alice", "bob", bob.delivered[0]]]]);
      expect(router.stats).toEqual({ accepted: 1, delivered: 1, forwarded: 1 });
      expect((await router.envelope("bob", "kid-000001"))?.sender).toBe("alice");

      // bob acknowledged on fc-2: the ack is routed back here, the origin.
      fabric.sink!.ackRouted([["bob", "alice", "fan0000001"]]);
      expect(alice.receipts).toEqual([["bob", "fan0000001"]]);
      expect(router.queue.stats.skipped).toBe(1);

      // A message fc-2 forwarded for bob: bob's ack goes back to fc-2, nothing is stored here.
      fabric.sink!.deliverForwarded("fc-2", [["fwd0000001", "carol", "bob", bob.delivered[0]]]);
      expect(bob.delivered.length).toBe(2);
      router.ack(bob, [["carol", "fwd0000001"]]);
      expect(fabric.acks).toEqual([["fc-2", ["bob", "carol", "fwd0000001"]]]);
      await router.flush();
      expect(router.queue.stats.completed).toBe(0);

      // A receipt for a sender on another server goes there; receipts from another
      // server reach senders here, and are stored for senders who left.
      fabric.where.set("carol", ["fc-3"]);
      router.accept(new RecordingSession("carol"), send("rcpt000001"));
      router.ack(bob, [["carol", "rcpt000001"]]);
      expect(fabric.receipts).toEqual([["fc-3", ["carol", "bob", "rcpt000001"], false]]);
      fabric.sink!.receiptsRouted([["alice", "bob", "back000001"]], true);
      expect(alice.storedReceipts).toEqual([["bob", "back000001"]]);
      router.leave(alice);
      fabric.sink!.receiptsRouted([["alice", "bob", "back000002"]], false);
      await router.flush();
      expect((await store.pendingReceipts("alice")).map((r) => r.id)).toEqual(["back000002"]);
      expect(fabric.sink!.localUsers()).toEqual(["bob"]);
      router.close();
    }));

  Deno.test(`router (${kind}): join sends receipts and backlog before live messages, each once`, async (t) => {
    for (const bufferBytes of [1 << 20, 1]) {
      await t.step(`sync buffer of ${bufferBytes} bytes`, () =>
        withStore(kind, async (store) => {
          const fabric = new RecordingFabric();
          const warnings: string[] = [];
          let warned!: () => void;
          const firstWarning = new Promise<void>((r) => warned = r);
          const logger: Logger = {
            debug() {},
            info() {},
            warn: (event: string) => {
              warnings.push(event);
              warned();
            },
            error() {},
          };
          const router = new MessageRouter(store, {
            lingerMs: 3_600_000,
            fabric,
            logger,
            syncBufferBytes: bufferBytes,
          });
          const alice = new RecordingSession("alice");
          await router.join(alice);
          router.accept(alice, send("stored0001")); // bob is offline: stored at once
          await alice.waitSent("stored0001");
          router.queue.storeReceipt({ sender: "bob", recipient: "alice", id: "bobs000001" });
          await router.flush();

          // bob's announcement is held: a live message arrives while bob joins.
          let announced!: () => void;
          fabric.announcing = () => new Promise((r) => announced = r);
          const bob = new RecordingSession("bob");
          const joined = router.join(bob);
          expect(fabric.announced).toEqual([[["alice"], true], [["bob"], true]]);
          router.accept(alice, send("live000001"));
          expect(bob.delivered).toEqual([]); // held back until the backlog is out
          announced();
          await joined;
          expect(bob.storedReceipts).toEqual([["alice", "bobs000001"]]);
          expect(bob.deliveredIds).toEqual(["stored0001", "live000001"]);

          // A second session of bob is not announced; the last one to leave is.
          fabric.announcing = () => Promise.resolve();
          const bob2 = new RecordingSession("bob");
          await router.join(bob2);
          expect(fabric.announced.length).toBe(2);
          router.leave(bob2);
          expect(fabric.announced.length).toBe(2);
          // A failed offline announcement is logged, not lost.
          fabric.announcing = () => Promise.reject(new Error("link down"));
          router.leave(bob);
          expect(fabric.announced.at(-1)).toEqual([["bob"], false]);
          await firstWarning;
          expect(warnings).toEqual(["presence_announce_failed"]);
          router.close();
        }));
    }
  });

  Deno.test(`router (${kind}): resync sends stored messages again, not once stopped`, () =>
    withStore(kind, async (store) => {
      const fabric = new RecordingFabric();
      const router = new MessageRouter(store, { lingerMs: 0, fabric });
      const alice = new RecordingSession("alice");
      const bob = new RecordingSession("bob");
      await router.join(alice);
      await router.join(bob);
      router.accept(alice, send("resync0001"));
      await alice.waitSent("resync0001"); // bob has not acknowledged: it stays stored
      expect(bob.deliveredIds).toEqual(["resync0001"]);
      fabric.sink!.resync("test");
      await bob.waitDelivered(2);
      expect(bob.deliveredIds).toEqual(["resync0001", "resync0001"]);
      router.stopResync();
      fabric.sink!.resync("test");
      await router.flush();
      await store.pendingFor("bob", 0, 1); // a round trip in which a resync would have run
      expect(bob.delivered.length).toBe(2);
      router.close();
    }));
}

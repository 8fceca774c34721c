/** StoreSideWrites against PGlite and (when configured) PostgreSQL. */
import { expect } from "expect";
import { DB_KINDS, type DbKind, withTestStore } from "@fastchat/testing";
import type { ChatStore, MessageRef } from "./store.ts";
import { StoreSideWrites } from "./store_side_writes.ts";

const LIMITS = { maxRows: 1000, maxBytes: 8 * 1024 * 1024 };

/** Runs `fn` on a store of a new database of `kind` with users alice and bob. */
const withStore = (kind: DbKind, fn: (store: ChatStore) => Promise<void>) =>
  withTestStore(kind, ["alice", "bob"], fn);

/** Side writes on `store` whose events are recorded. */
function sideOn(store: ChatStore) {
  const delivered: MessageRef[] = [];
  const setAside: string[] = [];
  const side = new StoreSideWrites(store, {
    retain: false,
    delivered: (r) => delivered.push(r),
    setAside: (what) => setAside.push(what),
  });
  return { side, delivered, setAside };
}

for (const kind of DB_KINDS) {
  Deno.test(`side writes (${kind}): completions delete stored messages and store their receipts once`, () =>
    withStore(kind, async (store) => {
      await store.insertMessages([
        {
          id: "m-00000001",
          sender: "alice",
          recipient: "bob",
          kind: 1,
          body: new Uint8Array(3),
          sentAt: 1,
        },
      ]);
      const { side, delivered } = sideOn(store);
      const ref = { sender: "alice", recipient: "bob", id: "m-00000001" };
      side.complete(ref);
      // A forged completion (bob did not receive this) completes nothing.
      side.complete({ sender: "alice", recipient: "bob", id: "m-00000002" });
      expect(side.pending).toBe(true);
      await side.writeRest(LIMITS);
      expect(side.pending).toBe(false);
      expect(delivered).toEqual([ref]);
      expect([side.completed, side.unmatched]).toEqual([1, 1]);
      expect(await store.pendingFor("bob", 0, 10)).toEqual([]);
      expect(await store.pendingReceipts("alice")).toEqual([ref]);
      side.deleteReceipts([ref]);
      await side.writeRest(LIMITS);
      expect(await store.pendingReceipts("alice")).toEqual([]);
    }));

  Deno.test(`side writes (${kind}): envelopes are served from memory, then from the store`, () =>
    withStore(kind, async (store) => {
      const { side, setAside } = sideOn(store);
      const env = {
        recipient: "bob",
        kid: "kid-0001",
        sender: "alice",
        envelope: new Uint8Array(5),
      };
      expect(side.addEnvelope(env)).toBe(true);
      expect(side.addEnvelope({ ...env })).toBe(false); // queued already
      expect(await store.getEnvelope("bob", "kid-0001")).toBe(null);
      expect(await side.envelope("bob", "kid-0001")).toBe(env);
      await side.writeEnvelopes(LIMITS);
      expect(side.pending).toBe(false);
      expect((await side.envelope("bob", "kid-0001"))?.sender).toBe("alice");
      expect(setAside).toEqual([]);
    }));

  Deno.test(`side writes (${kind}): a receipt the store refuses is set aside, the others are stored`, () =>
    withStore(kind, async (store) => {
      await store.sql`alter table receipts add constraint refuses_poison
        check (message_id not like 'poison-%')`;
      const { side, setAside } = sideOn(store);
      side.storeReceipt({ sender: "alice", recipient: "bob", id: "ok-00000001" });
      side.storeReceipt({ sender: "alice", recipient: "bob", id: "poison-0001" });
      side.storeReceipt({ sender: "alice", recipient: "bob", id: "ok-00000002" });
      await side.writeRest(LIMITS);
      expect(setAside).toEqual(["receipt"]);
      expect((await store.pendingReceipts("alice")).map((r) => r.id).sort()).toEqual([
        "ok-00000001",
        "ok-00000002",
      ]);
    }));

  Deno.test(`side writes (${kind}): a completion the store refuses is set aside, not counted as unmatched`, () =>
    withStore(kind, async (store) => {
      await store.sql`alter table receipts add constraint refuses_poison
        check (message_id not like 'poison-%')`;
      const msg = (id: string) => ({
        id,
        sender: "alice",
        recipient: "bob",
        kind: 1,
        body: new Uint8Array(3),
        sentAt: 1,
      });
      await store.insertMessages([msg("ok-00000001"), msg("poison-0002")]);
      const { side, setAside } = sideOn(store);
      for (const id of ["ok-00000001", "poison-0002", "gone-000003"]) {
        side.complete({ sender: "alice", recipient: "bob", id });
      }
      await side.writeRest(LIMITS);
      expect(setAside).toEqual(["completion"]);
      // One completed, one set aside, one that found no row.
      expect([side.completed, side.unmatched]).toEqual([1, 1]);
    }));
}

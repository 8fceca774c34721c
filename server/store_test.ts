/** ChatStore against PGlite and (when configured) real PostgreSQL. */
import { expect } from "expect";
import type { Sql } from "postgres";
import type { ChatStore, StoredMessage } from "./store.ts";
import { DB_KINDS, type DbKind, withTestStore } from "@fastchat/testing";

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

/** Runs `fn` against a fresh database of `kind` (no users yet) with a ChatStore on it. */
const withStore = (kind: DbKind, fn: (store: ChatStore, sql: Sql) => Promise<void>) =>
  withTestStore(kind, [], fn);

for (const kind of DB_KINDS) {
  Deno.test({
    name: `store (${kind}): accounts, sessions, messages, envelopes, receipts`,
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
}

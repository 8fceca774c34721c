/** MessageRouter's write-behind batches against PGlite and (when configured) PostgreSQL. */
import { expect } from "expect";
import { connectStore } from "@fastchat/db/connect";
import { MessageRouter } from "./message_router.ts";
import { RecordingSession } from "./recording_session.ts";
import { ChatStore, type StoredMessage } from "./store.ts";
import { DB_KINDS, openTestDb } from "@fastchat/testing";

function message(id: string, bytes: number): StoredMessage {
  return { id, sender: "alice", recipient: "bob", kind: 1, body: new Uint8Array(bytes), sentAt: 1 };
}

const frameOf = (m: StoredMessage) => ({
  t: "msg" as const,
  id: m.id,
  from: m.sender,
  to: m.recipient,
  kind: "dm" as const,
  ts: m.sentAt,
  body: m.body,
});

/** A real store that records the payload bytes of every message insert. */
class MeasuredStore extends ChatStore {
  statements: number[] = [];
  /** Inserts that fail with a connection error before the real ones run. */
  outages = 0;
  override insertMessages(rows: StoredMessage[]): Promise<void> {
    if (this.outages > 0) {
      this.outages--;
      return Promise.reject(
        Object.assign(new Error("connection closed"), { code: "CONNECTION_CLOSED" }),
      );
    }
    this.statements.push(rows.reduce((n, r) => n + r.body.length, 0));
    return super.insertMessages(rows);
  }
}

async function withRouter(
  kind: (typeof DB_KINDS)[number],
  fn: (store: MeasuredStore) => Promise<void>,
): Promise<void> {
  const db = await openTestDb(kind);
  const sql = connectStore(db.url, { max: 2 });
  try {
    const store = new MeasuredStore(sql);
    for (const u of ["alice", "bob"]) {
      await sql`insert into users (username, auth_hash, auth_salt, auth_params, kdf_salt,
        kdf_iterations, enc_key, sign_key, key_backup) values (${u}, ${new Uint8Array(32)},
        ${new Uint8Array(16)}, 'scrypt', ${new Uint8Array(16)}, 600000, ${new Uint8Array(294)},
        ${new Uint8Array(32)}, ${new Uint8Array(100)})`;
    }
    await fn(store);
  } finally {
    await sql.end();
    await db.close();
  }
}

for (const kind of DB_KINDS) {
  Deno.test(`router (${kind}): write batches are capped in bytes, not only rows`, () =>
    withRouter(kind, async (store) => {
      const router = new MessageRouter(store, { lingerMs: 0, batchBytes: 1024 * 1024 });
      const alice = new RecordingSession("alice");
      const msgs = Array.from({ length: 24 }, (_, i) => message(`big-${1000 + i}`, 300 * 1024));
      for (const m of msgs) await router.accept(alice, m, frameOf(m));
      await router.flush();
      expect(alice.sent.sort()).toEqual(msgs.map((m) => m.id).sort());
      expect(store.statements.length).toBeGreaterThan(1);
      for (const bytes of store.statements) expect(bytes).toBeLessThanOrEqual(1024 * 1024);
      expect((await store.pendingFor("bob", 0, 100)).length).toBe(24);
    }));

  Deno.test(`router (${kind}): a row the store refuses is set aside, the queue goes on`, () =>
    withRouter(kind, async (store) => {
      await store.sql`alter table messages add constraint refuses_poison
        check (id not like 'poison-%')`;
      const logged: string[] = [];
      const router = new MessageRouter(store, {
        lingerMs: 0,
        logger: {
          debug() {},
          info() {},
          warn() {},
          error: (event: string) => logged.push(event),
        } as unknown as import("@fastchat/lib/logger").Logger,
      });
      const alice = new RecordingSession("alice");
      const ids = Array.from({ length: 20 }, (_, i) => i === 7 ? "poison-0007" : `ok-${1000 + i}`);
      for (const id of ids) {
        const m = message(id, 100);
        await router.accept(alice, m, frameOf(m));
      }
      await router.flush();
      expect(alice.rejected).toEqual([["poison-0007", "STORE_FAILED"]]);
      expect(alice.sent.sort()).toEqual(ids.filter((i) => i !== "poison-0007").sort());
      expect(router.stats.setAside).toBe(1);
      expect(logged).toContain("store_row_set_aside");
      expect(router.backlog).toBe(0);
      const stored = (await store.pendingFor("bob", 0, 100)).map((m) => m.id);
      expect(stored).toEqual(ids.filter((i) => i !== "poison-0007")); // order kept

      // later messages are stored as usual
      const after = message("ok-after-1", 100);
      await router.accept(alice, after, frameOf(after));
      await router.flush();
      expect(alice.sent).toContain("ok-after-1");
    }));

  Deno.test(`router (${kind}): an outage sets nothing aside; rows are written after it`, () =>
    withRouter(kind, async (store) => {
      store.outages = 2;
      const router = new MessageRouter(store, { lingerMs: 0 });
      const alice = new RecordingSession("alice");
      const ids = Array.from({ length: 5 }, (_, i) => `out-${1000 + i}`);
      for (const id of ids) {
        const m = message(id, 100);
        await router.accept(alice, m, frameOf(m));
      }
      await router.flush();
      expect(store.outages).toBe(0);
      expect(router.stats.storeErrors).toBe(2);
      expect(router.stats.setAside).toBe(0);
      expect(alice.rejected).toEqual([]);
      expect(alice.sent.sort()).toEqual(ids);
    }));
}

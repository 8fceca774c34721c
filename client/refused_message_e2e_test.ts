/**
 * A message the server accepted but could never store (its database
 * refuses the row) comes back to the real client as an `error` event that
 * names the message and whom it was for (`to`), and leaves the outbox: it
 * is not sent again when the client logs in anew. A real chat server in
 * process over PGlite and PostgreSQL; the recipient is offline, so the
 * message must be stored, and a check constraint refuses it.
 */
import { expect } from "expect";
import { connectStore } from "@fastchat/db/connect";
import { DB_KINDS, EventLog, openTestDb, withChatServer } from "@fastchat/testing";
import { ChatClient, type ClientEvent } from "./chat_client.ts";

const KDF = 100_000;

for (const kind of DB_KINDS) {
  Deno.test(`refused message (${kind}): the error names the message and its recipient, once`, async () => {
    const db = await openTestDb(kind);
    const sql = connectStore(db.url, { max: 1 });
    const root = await Deno.makeTempDir({ prefix: "fastchat-refused-" });
    const clients: ChatClient[] = [];
    const client = (log: EventLog<ClientEvent>, port: number) => {
      const c = new ChatClient({
        server: { host: "127.0.0.1", port },
        homeRoot: root,
        kdfIterations: KDF,
        onEvent: log.push,
      });
      clients.push(c);
      return c;
    };
    try {
      await withChatServer(db, {}, async (server) => {
        const logA = new EventLog<ClientEvent>();
        const logB = new EventLog<ClientEvent>();
        const alice = client(logA, server.port);
        const bob = client(logB, server.port);
        await alice.register("alice", "alice-password-1");
        await bob.register("bob", "bob-password-1");
        await alice.send("bob", "warm-up"); // keys and envelopes in place
        await logA.waitFor((e) => e.event === "delivered");
        const gone = server.sessionClosed((u) => u === "bob");
        await bob.close();
        await gone; // offline: what alice sends now must be stored

        await sql`alter table messages add constraint refuses_bob check (recipient <> 'bob')`;
        const id = await alice.send("bob", "never stored");
        const err = await logA.waitFor((e) => e.event === "error" && e.id === id);
        expect(err).toEqual({
          event: "error",
          code: "STORE_FAILED",
          message: "the server could not store this message",
          id,
          to: "bob",
        });
        expect(logA.events.filter((e) => e.event === "sent" && e.id === id)).toEqual([]);
        await sql`alter table messages drop constraint refuses_bob`;

        // A new login: had the refused message stayed in the outbox, it would go out
        // again now and be stored, ahead of the next one.
        const aliceGone = server.sessionClosed((u) => u === "alice");
        await alice.close();
        await aliceGone;
        const logA2 = new EventLog<ClientEvent>();
        const alice2 = client(logA2, server.port);
        await alice2.login("alice", "alice-password-1");
        const next = await alice2.send("bob", "stored");
        await logA2.waitFor((e) => e.event === "sent" && e.id === next);
        const logB2 = new EventLog<ClientEvent>();
        await client(logB2, server.port).login("bob", "bob-password-1");
        await logB2.waitFor((e) => e.event === "message" && e.id === next);
        expect(logB2.events.flatMap((e) => e.event === "message" ? [e.text] : [])).toEqual([
          "stored",
        ]);
        expect(logA2.events.filter((e) => e.event === "error")).toEqual([]);
      });
    } finally {
      for (const c of clients) await c.close();
      await sql.end();
      await db.close();
      await Deno.remove(root, { recursive: true });
    }
  });
}

/**
 * Texts sent to one contact in the same tick travel as one sealed frame
 * (one message for the server) and arrive as separate messages with the
 * ids `send` returned: shown once each, in order, receipted and in both
 * histories; offline, they wait in the store as one frame. A real chat
 * server in process over PGlite and PostgreSQL.
 */
import { expect } from "expect";
import { waitUntil } from "@fastchat/lib/wait_until";
import { DB_KINDS, EventLog, openTestDb, withChatServer } from "@fastchat/testing";
import { ChatClient, type ClientEvent } from "./chat_client.ts";

const KDF = 100_000;

for (const kind of DB_KINDS) {
  Deno.test(`message batch (${kind}): a tick's texts to one contact are one frame, shown as each text once`, async () => {
    const db = await openTestDb(kind);
    const root = await Deno.makeTempDir({ prefix: "fastchat-batch-" });
    try {
      await withChatServer(db, {}, async (server) => {
        const logA = new EventLog<ClientEvent>();
        const logB = new EventLog<ClientEvent>();
        const client = (onEvent: (e: ClientEvent) => void) =>
          new ChatClient({
            server: { host: "127.0.0.1", port: server.port },
            homeRoot: root,
            kdfIterations: KDF,
            onEvent,
          });
        const alice = client(logA.push);
        let bob = client(logB.push);
        try {
          await alice.register("alice", "alice-password-1");
          await bob.register("bob", "bob-password-1");
          await alice.send("bob", "warm-up"); // keys and envelopes in place
          await logA.waitFor((e) => e.event === "delivered");
          await logB.waitFor((e) => e.event === "message");

          // Online: five texts in one tick.
          const texts = ["one", "two", "three", "four", "five"];
          const before = server.stats().accepted;
          const ids = await Promise.all(texts.map((t) => alice.send("bob", t)));
          expect(new Set(ids).size).toBe(5);
          for (const id of ids) await logA.waitFor((e) => e.event === "delivered" && e.id === id);
          await logB.waitFor((e) => e.event === "message" && e.id === ids[4]);
          expect(server.stats().accepted - before).toBe(1);
          const shown = logB.events.filter((e) => e.event === "message" && ids.includes(e.id));
          expect(shown.map((e) => e.event === "message" && [e.id, e.text])).toEqual(
            ids.map((id, i) => [id, texts[i]]),
          );
          expect(logA.events.filter((e) => e.event === "sent" && ids.includes(e.id)).length)
            .toBe(5);
          expect(logA.events.filter((e) => e.event === "delivered" && ids.includes(e.id)).length)
            .toBe(5);
          await waitUntil(
            async () => (await alice.history("bob", 10)).length === 6,
            15_000,
            "alice's history to hold the five sent texts",
          );
          expect((await alice.history("bob", 5)).map((r) => [r.id, r.text])).toEqual(
            ids.map((id, i) => [id, texts[i]]),
          );
          await bob.idle();

          // Offline: stored as one frame, delivered whole at the next login, shown once.
          await bob.close();
          const later = ["six", "seven", "eight"];
          const stored = server.stats().accepted;
          const laterIds = await Promise.all(later.map((t) => alice.send("bob", t)));
          for (const id of laterIds) await logA.waitFor((e) => e.event === "sent" && e.id === id);
          expect(server.stats().accepted - stored).toBe(1);
          bob = client(logB.push);
          await bob.login("bob", "bob-password-1");
          for (const id of laterIds) {
            await logA.waitFor((e) => e.event === "delivered" && e.id === id);
          }
          const all = logB.events.filter((e) => e.event === "message").map((e) =>
            e.event === "message" && e.text
          );
          expect(all).toEqual(["warm-up", ...texts, ...later]);
          await bob.idle();
          expect((await bob.history("alice", 20)).map((r) => r.text)).toEqual(all);
        } finally {
          await alice.close();
          await bob.close();
        }
      });
    } finally {
      await db.close();
      await Deno.remove(root, { recursive: true });
    }
  });
}

/**
 * First contact, many at once (what the perf key warm-up does at scale):
 * six clients on two linked servers each send a first message to every
 * other one, all at the same time, so every message carries a new session
 * key that its recipient must open before it acknowledges. Each message is
 * shown once, and its sender gets `sent` and `delivered` for it exactly
 * once. A short write-behind linger makes some acknowledgements come after
 * the server wrote the message (the stored-receipt path). Real clients
 * (end-to-end encryption) and in-process servers over PGlite and PostgreSQL.
 */
import { expect } from "expect";
import { connectStore } from "@fastchat/db/connect";
import { DB_KINDS, EventLog, openTestDb, startLinkedServers } from "@fastchat/testing";
import type { ChatServer } from "@fastchat/server/chat_server";
import { ChatClient, type ClientEvent } from "./chat_client.ts";

const KDF = 100_000;
const USERS = ["ada", "bea", "cyd", "dot", "eve", "fay"];

for (const kind of DB_KINDS) {
  Deno.test(`first contact (${kind}): every first message of many at once is shown once and confirmed once`, async () => {
    const db = await openTestDb(kind);
    const pools = [0, 1].map(() => connectStore(db.url, { max: 4 }));
    const root = await Deno.makeTempDir({ prefix: "fastchat-first-contact-" });
    const servers: ChatServer[] = [];
    const clients: ChatClient[] = [];
    try {
      await startLinkedServers(pools, servers, () => ({}), { lingerMs: 5 });
      const logs = USERS.map(() => new EventLog<ClientEvent>());
      for (const [i, user] of USERS.entries()) {
        const s = servers[i % 2];
        const c = new ChatClient({
          server: { host: s.host, port: s.port },
          homeRoot: root,
          kdfIterations: KDF,
          onEvent: logs[i].push,
        });
        clients.push(c);
        await c.register(user, `${user}-password-1`);
      }

      // Everyone writes to everyone else at once: 30 new session keys.
      const sent = await Promise.all(
        clients.map((c, i) =>
          Promise.all(
            USERS.filter((u) => u !== USERS[i]).map(async (to) => ({
              id: await c.send(to, `first from ${USERS[i]} to ${to}`),
              to,
            })),
          )
        ),
      );

      for (const [i, mine] of sent.entries()) {
        const log = logs[i];
        await log.waitForCount((e) => e.event === "delivered", mine.length);
        for (const { id, to } of mine) {
          const of = (event: string) =>
            log.events.filter((e) => e.event === event && "id" in e && e.id === id);
          expect(of("sent")).toHaveLength(1);
          expect(of("delivered")).toEqual([{ event: "delivered", id, to }]);
          const shown = logs[USERS.indexOf(to)].events.filter((e) =>
            e.event === "message" && e.id === id
          );
          expect(shown).toEqual([expect.objectContaining({
            from: USERS[i],
            text: `first from ${USERS[i]} to ${to}`,
          })]);
        }
      }
      expect(logs.flatMap((l) => l.events.filter((e) => e.event === "error"))).toEqual([]);
    } finally {
      for (const c of clients) await c.close();
      for (const s of servers) await s.close();
      for (const sql of pools) await sql.end();
      await db.close();
      await Deno.remove(root, { recursive: true });
    }
  });
}

import { expect } from "expect";
import { connectStore } from "@fastchat/db/connect";
import { describeServers, waitForClients, waitForLive, waitForRegistry } from "./registry_waits.ts";
import { DB_KINDS, openTestDb } from "@fastchat/testing";

const opts = {};

for (const kind of DB_KINDS) {
  Deno.test({
    name: `registry waits (${kind}): resolve on the awaited state, time out describing the last`,
    ...opts,
    async fn() {
      const db = await openTestDb(kind);
      const sql = connectStore(db.url, { max: 1 });
      const row = (id: string, port: number, clients: number, draining = false) =>
        sql`insert into servers (id, host, port, peer_host, peer_port, public_key, clients, draining)
          values (${id}, '127.0.0.1', ${port}, '127.0.0.1', ${port + 1}, ${new Uint8Array(32)},
            ${clients}, ${draining})`;
      try {
        await row("srv-2", 7702, 1);
        const pending = waitForLive(sql, ["srv-2", "srv-1"], 10_000);
        await row("srv-1", 7701, 0);
        expect((await pending).map((s) => s.id)).toEqual(["srv-1", "srv-2"]);
        expect((await waitForClients(sql, { "srv-2": 1 })).length).toBe(2);
        await sql`update servers set draining = true where id = 'srv-1'`;
        const err = await waitForLive(sql, ["srv-1", "srv-2"], 200).catch((e) => e);
        expect(err.code).toBe("TIMEOUT");
        expect(err.message).toMatch(
          /waiting for live servers = \[srv-1, srv-2\]; registry: srv-1@127\.0\.0\.1:7701 clients=0 draining age=\d+ms; srv-2@/,
        );
        const none = await waitForRegistry(sql, () => false, "nothing", 100).catch((e) => e);
        expect(none.message).toContain("waiting for nothing; registry: srv-1@");
        expect(describeServers([])).toBe("(none live)");
      } finally {
        await sql.end();
        await db.close();
      }
    },
  });
}

import { expect } from "expect";
import { connectStore } from "@fastchat/db/connect";
import { DB_KINDS, insertServer, openTestDb } from "@fastchat/testing";
import { allServers, liveServers } from "./live_servers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

for (const kind of DB_KINDS) {
  Deno.test({
    name: `live servers (${kind}): fresh heartbeats only, ordered by id; all for status`,
    ...opts,
    async fn() {
      const db = await openTestDb(kind);
      const sql = connectStore(db.url, { max: 1 });
      try {
        expect(await liveServers(sql)).toEqual([]);
        await insertServer(sql, { id: "fc-b", port: 7702, clients: 4 });
        await insertServer(sql, { id: "fc-a", port: 7701, draining: true });
        await insertServer(sql, { id: "fc-old", port: 7703, ageMs: 10_000 });
        const live = await liveServers(sql);
        expect(live.map((s) => s.id)).toEqual(["fc-a", "fc-b"]);
        expect(live[1]).toMatchObject({
          id: "fc-b",
          host: "127.0.0.1",
          port: 7702,
          clients: 4,
          draining: false,
          live: true,
        });
        expect(live[0].draining).toBe(true);
        expect(live[1].ageMs).toBeLessThan(3_000);
        const all = await allServers(sql);
        expect(all.map((s) => [s.id, s.live])).toEqual([
          ["fc-a", true],
          ["fc-b", true],
          ["fc-old", false],
        ]);
        expect(all[2].ageMs).toBeGreaterThanOrEqual(10_000);
      } finally {
        await sql.end();
        await db.close();
      }
    },
  });
}

Deno.test({
  name: "live servers: an unreachable store gives STORE_UNAVAILABLE",
  ...opts,
  async fn() {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const sql = connectStore(`postgres://postgres@127.0.0.1:${port}/none`, {
      max: 1,
    });
    try {
      await expect(liveServers(sql)).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      await expect(allServers(sql)).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    } finally {
      await sql.end({ timeout: 0 });
    }
  },
});

import { expect } from "expect";
import type { Sql } from "postgres";
import { connectStore } from "@fastchat/db/connect";
import { DB_KINDS, openTestDb } from "@fastchat/testing";
import { allServers, heartbeatFresh, heartbeatStale, liveServers } from "./server_directory.ts";
import { LIVENESS_MS } from "./timing.ts";

const opts = {};

/** A registry row whose heartbeat is `ageMs` old by the database clock. */
async function insert(
  sql: Sql,
  s: { id: string; port: number; clients?: number; draining?: boolean; ageMs?: number },
): Promise<void> {
  await sql`insert into servers
      (id, host, port, peer_host, peer_port, public_key, clients, draining, heartbeat_at)
    values (${s.id}, '127.0.0.1', ${s.port}, '127.0.0.3', ${s.port + 1000},
      ${new Uint8Array(32).fill(s.port % 256)}, ${s.clients ?? 0}, ${s.draining ?? false},
      now() - ${s.ageMs ?? 0} * interval '1 millisecond')`;
}

for (const kind of DB_KINDS) {
  Deno.test({
    name: `server directory (${kind}): fresh heartbeats only, ordered by id; all for status`,
    ...opts,
    async fn() {
      const db = await openTestDb(kind);
      const sql = connectStore(db.url, { max: 1 });
      try {
        expect(await liveServers(sql)).toEqual([]);
        await insert(sql, { id: "fc-b", port: 7702, clients: 4 });
        await insert(sql, { id: "fc-a", port: 7701, draining: true });
        await insert(sql, { id: "fc-old", port: 7703, ageMs: LIVENESS_MS + 6_500 });
        const live = await liveServers(sql);
        expect(live.map((s) => s.id)).toEqual(["fc-a", "fc-b"]);
        expect(live[1]).toMatchObject({
          id: "fc-b",
          host: "127.0.0.1",
          port: 7702,
          peerHost: "127.0.0.3",
          peerPort: 8702,
          clients: 4,
          draining: false,
          live: true,
        });
        // A plain Uint8Array (not a driver Buffer), usable as an Ed25519 key.
        expect(live[1].publicKey.constructor).toBe(Uint8Array);
        expect([...live[1].publicKey]).toEqual(new Array(32).fill(7702 % 256));
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

  Deno.test({
    name: `server directory (${kind}): heartbeatFresh and heartbeatStale split the registry`,
    ...opts,
    async fn() {
      const db = await openTestDb(kind);
      const sql = connectStore(db.url, { max: 1 });
      try {
        await insert(sql, { id: "now", port: 1 });
        await insert(sql, { id: "just-live", port: 2, ageMs: LIVENESS_MS - 1_000 });
        await insert(sql, { id: "just-dead", port: 3, ageMs: LIVENESS_MS + 1_000 });
        const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
        expect(ids(await sql`select id from servers where ${heartbeatFresh(sql)} order by id`))
          .toEqual(["just-live", "now"]);
        expect(ids(await sql`select id from servers where ${heartbeatStale(sql)} order by id`))
          .toEqual(["just-dead"]);
      } finally {
        await sql.end();
        await db.close();
      }
    },
  });
}

Deno.test({
  name: "server directory: an unreachable store gives STORE_UNAVAILABLE",
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

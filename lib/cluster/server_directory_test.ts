import { expect } from "expect";
import type { Sql } from "postgres";
import { connectStore } from "@fastchat/db/connect";
import { DB_KINDS, openTestDb } from "@fastchat/testing";
import {
  allServers,
  checkForgetAfterMs,
  heartbeatFresh,
  heartbeatStale,
  liveServers,
  sweepDeadServers,
} from "./server_directory.ts";
import { DEFAULT_FORGET_AFTER_MS, LIVENESS_MS } from "./timing.ts";

const opts = {};

/** A registry row whose heartbeat is `ageMs` old by the database clock. */
async function insert(
  sql: Sql,
  s: {
    id: string;
    port: number;
    tls?: boolean;
    clients?: number;
    draining?: boolean;
    ageMs?: number;
  },
): Promise<void> {
  await sql`insert into servers
      (id, host, port, tls, peer_host, peer_port, public_key, clients, draining, heartbeat_at)
    values (${s.id}, '127.0.0.1', ${s.port}, ${s.tls ?? false}, '127.0.0.3', ${s.port + 1000},
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
        await insert(sql, { id: "fc-b", port: 7702, clients: 4, tls: true });
        await insert(sql, { id: "fc-a", port: 7701, draining: true });
        await insert(sql, { id: "fc-old", port: 7703, ageMs: LIVENESS_MS + 6_500 });
        const live = await liveServers(sql);
        expect(live.map((s) => s.id)).toEqual(["fc-a", "fc-b"]);
        expect(live[1]).toMatchObject({
          id: "fc-b",
          host: "127.0.0.1",
          port: 7702,
          tls: true,
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
        expect(live[0].tls).toBe(false);
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
  Deno.test({
    name: `server directory (${kind}): sweepDeadServers forgets servers dead past the retention`,
    ...opts,
    async fn() {
      const db = await openTestDb(kind);
      const sql = connectStore(db.url, { max: 1 });
      try {
        const forgetAfterMs = 60_000;
        await insert(sql, { id: "live", port: 1 });
        await insert(sql, { id: "dead", port: 2, ageMs: LIVENESS_MS + 5_000 });
        await insert(sql, { id: "gone", port: 3, ageMs: forgetAfterMs + 5_000 });
        await insert(sql, { id: "gone-too", port: 4, ageMs: forgetAfterMs + 600_000 });
        for (const id of ["live", "dead", "gone", "gone-too"]) {
          await sql`insert into presence (username, server_id, sessions) values ('alice', ${id}, 1)`;
        }
        expect(await sweepDeadServers(sql, forgetAfterMs)).toEqual(["gone", "gone-too"]);
        const ids = async (table: "servers" | "presence") =>
          (table === "servers"
            ? await sql`select id from servers order by id`
            : await sql`select server_id as id from presence order by server_id`).map((r) => r.id);
        // The recently dead stay (shown as dead) but lose their presence.
        expect(await ids("servers")).toEqual(["dead", "live"]);
        expect(await ids("presence")).toEqual(["live"]);
        expect((await allServers(sql)).map((s) => [s.id, s.live])).toEqual([
          ["dead", false],
          ["live", true],
        ]);
        // Idempotent: nothing more to do.
        expect(await sweepDeadServers(sql, forgetAfterMs)).toEqual([]);
        expect(await ids("servers")).toEqual(["dead", "live"]);
      } finally {
        await sql.end();
        await db.close();
      }
    },
  });

  Deno.test({
    name:
      `server directory (${kind}): concurrent sweeps (several LBs and servers) forget each row once`,
    ...opts,
    async fn() {
      const db = await openTestDb(kind);
      const sweepers = [1, 2, 3].map(() => connectStore(db.url, { max: 1 }));
      const sql = sweepers[0];
      try {
        for (let i = 0; i < 20; i++) {
          await insert(sql, { id: `gone-${i}`, port: 100 + i, ageMs: DEFAULT_FORGET_AFTER_MS + i });
        }
        await insert(sql, { id: "live", port: 1 });
        const results = await Promise.all(
          sweepers.map((s) => sweepDeadServers(s, DEFAULT_FORGET_AFTER_MS)),
        );
        const forgotten = results.flat().sort();
        expect(forgotten.length).toBe(20);
        expect(new Set(forgotten).size).toBe(20);
        expect((await sql`select id from servers`).map((r) => r.id)).toEqual(["live"]);
      } finally {
        for (const s of sweepers) await s.end();
        await db.close();
      }
    },
  });
}

Deno.test("checkForgetAfterMs: a retention must outlast the liveness window", () => {
  expect(checkForgetAfterMs(DEFAULT_FORGET_AFTER_MS)).toBe(DEFAULT_FORGET_AFTER_MS);
  expect(checkForgetAfterMs(LIVENESS_MS + 1)).toBe(LIVENESS_MS + 1);
  for (const bad of [LIVENESS_MS, 0, -1, 1.5, NaN, Infinity]) {
    expect(() => checkForgetAfterMs(bad)).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG" }),
    );
  }
  expect(() => checkForgetAfterMs(10, "--retention")).toThrow(/--retention/);
});

Deno.test({
  name: "server directory: sweepDeadServers refuses a retention that would delete live servers",
  ...opts,
  async fn() {
    // Checked before any query: no database needed.
    await expect(sweepDeadServers(null as unknown as Sql, LIVENESS_MS)).rejects.toMatchObject({
      code: "INVALID_CONFIG",
    });
  },
});

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
      await expect(sweepDeadServers(sql, DEFAULT_FORGET_AFTER_MS)).rejects.toMatchObject({
        code: "STORE_UNAVAILABLE",
        message: /cannot sweep the server registry/,
      });
    } finally {
      await sql.end({ timeout: 0 });
    }
  },
});

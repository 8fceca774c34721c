/**
 * The server registry against real databases: registration publishes the
 * client address and TLS flag, heartbeats sweep the dead (presence of dead
 * servers, rows of servers dead past the retention), a forgotten row of a
 * live server comes back with its next heartbeat, and deregistering (a
 * clean shutdown) removes the server's own row.
 */
import { expect } from "expect";
import type { Sql } from "postgres";
import { DB_KINDS, insertServer, withTestSql } from "@fastchat/testing";
import { allServers } from "@fastchat/lib/cluster/server_directory";
import { LIVENESS_MS, type Registration, ServerRegistry } from "./server_registry.ts";

/** Heartbeats are driven by hand: the timer's interval is never reached in a test. */
const MANUAL = { heartbeatMs: 3_600_000 };

function me(id: string, extra: Partial<Registration> = {}): Registration {
  return {
    id,
    host: "10.0.0.5",
    port: 7701,
    tls: true,
    peerHost: "10.1.0.5",
    peerPort: 9701,
    publicKey: new Uint8Array(32).fill(7),
    ...extra,
  };
}

async function rows(sql: Sql): Promise<Record<string, unknown>[]> {
  return [
    ...await sql`select id, host, port, tls, peer_host, peer_port, clients, draining
    from servers order by id`,
  ];
}

/** The `servers` row that {@link me}(`id`) registers, as {@link rows} reads it. */
function row(id: string, state: { clients: number; draining: boolean }): Record<string, unknown> {
  return {
    id,
    host: "10.0.0.5",
    port: 7701,
    tls: true,
    peer_host: "10.1.0.5",
    peer_port: 9701,
    ...state,
  };
}

async function presence(sql: Sql): Promise<string[]> {
  return (await sql`select server_id from presence order by server_id`).map((r) => r.server_id);
}

for (const kind of DB_KINDS) {
  Deno.test(`server registry (${kind}): registers address and TLS; deregister removes the row`, async () => {
    await withTestSql(kind, async (sql) => {
      let clients = 0;
      const reg = await ServerRegistry.register(sql, me("fc-a"), () => clients, MANUAL);
      expect(await rows(sql)).toEqual([row("fc-a", { clients: 0, draining: false })]);
      const [listed] = await ServerRegistry.liveServers(sql);
      expect(listed).toMatchObject({ id: "fc-a", host: "10.0.0.5", port: 7701, tls: true });
      clients = 5;
      await reg.heartbeat();
      expect((await rows(sql))[0].clients).toBe(5);
      await sql`insert into presence (username, server_id, sessions) values ('alice', 'fc-a', 1)`;
      await reg.deregister();
      expect(await rows(sql)).toEqual([]);
      expect(await presence(sql)).toEqual([]);
      await reg.heartbeat(); // stopped: writes nothing back
      expect(await rows(sql)).toEqual([]);
    });
  });

  Deno.test(`server registry (${kind}): a heartbeat forgets servers dead past the retention`, async () => {
    await withTestSql(kind, async (sql) => {
      const forgetAfterMs = LIVENESS_MS + 10_000;
      const reg = await ServerRegistry.register(sql, me("fc-a", { tls: false }), () => 0, {
        ...MANUAL,
        forgetAfterMs,
      });
      expect(reg.forgetAfterMs).toBe(forgetAfterMs);
      await insertServer(sql, { id: "fc-dead", port: 7702, ageMs: LIVENESS_MS + 1_000 });
      await insertServer(sql, { id: "fc-gone", port: 7703, ageMs: forgetAfterMs + 1_000 });
      for (const id of ["fc-a", "fc-dead", "fc-gone"]) {
        await sql`insert into presence (username, server_id, sessions) values ('bob', ${id}, 1)`;
      }
      await reg.heartbeat();
      expect((await rows(sql)).map((r) => r.id)).toEqual(["fc-a", "fc-dead"]);
      expect(await presence(sql)).toEqual(["fc-a"]);
      const all = await allServers(sql);
      expect(all.map((s) => [s.id, s.live, s.tls])).toEqual([
        ["fc-a", true, false],
        ["fc-dead", false, false],
      ]);
      await reg.deregister();
    });
  });

  Deno.test(`server registry (${kind}): a live server whose row was forgotten registers again`, async () => {
    await withTestSql(kind, async (sql) => {
      const reg = await ServerRegistry.register(sql, me("fc-a"), () => 2, MANUAL);
      await reg.drain();
      // What another process's sweep does to a server that looked dead (a long store outage).
      await sql`delete from servers where id = 'fc-a'`;
      await reg.heartbeat();
      expect(await rows(sql)).toEqual([row("fc-a", { clients: 2, draining: true })]); // still leaving the rotation
      await reg.deregister();
      expect(await rows(sql)).toEqual([]);
    });
  });
}

Deno.test("server registry: a retention within the liveness window is refused before registering", async () => {
  await withTestSql(DB_KINDS[0], async (sql) => {
    await expect(
      ServerRegistry.register(sql, me("fc-a"), () => 0, { ...MANUAL, forgetAfterMs: LIVENESS_MS }),
    ).rejects.toMatchObject({ code: "INVALID_CONFIG", message: /--forget-after/ });
    expect(await rows(sql)).toEqual([]);
  }, { max: 1 });
});

/**
 * The default NATS namespace is the cluster's id, held by its database:
 * servers sharing a database share subjects without being told a
 * namespace; a cluster with another database, on the same NATS, never
 * publishes into them. Real NATS at 127.0.0.1:4222 (ignored, under a name
 * that says so, only where it does not answer outside CI), real PGlite
 * databases, in-process chat servers.
 */
import { expect } from "expect";
import { connect } from "@nats-io/transport-node";
import { connectStore, migrate } from "@fastchat/db";
import { readClusterId } from "@fastchat/lib/cluster/cluster_id";
import { waitUntil } from "@fastchat/lib/wait_until";
import { NATS_TEST_URL, natsTestsIgnored, openTestDb, type TestDb } from "@fastchat/testing";
import { ChatServer } from "./chat_server.ts";

const ignore = await natsTestsIgnored();

Deno.test({
  name: `NATS namespace by default: one per database; two clusters on one NATS stay apart${
    ignore ? " (needs NATS at 127.0.0.1:4222)" : ""
  }`,
  ignore,
  async fn() {
    const dbs: TestDb[] = [];
    const pools: ReturnType<typeof connectStore>[] = [];
    const servers: ChatServer[] = [];
    const nc = await connect({ servers: [NATS_TEST_URL] });
    try {
      for (let i = 0; i < 2; i++) {
        dbs.push(await openTestDb("pglite"));
        pools.push(connectStore(dbs[i].url, { max: 4 }));
      }
      const [sqlA, sqlB] = pools;
      const idA = await readClusterId(sqlA), idB = await readClusterId(sqlB);
      expect(idA).not.toBe(idB);
      // Everything published in either namespace, by subject.
      const heard = new Map<string, string[]>([[idA, []], [idB, []]]);
      for (const [ns, subjects] of heard) {
        const sub = nc.subscribe(`fastchat.${ns}.>`);
        (async () => {
          for await (const m of sub) subjects.push(m.subject);
        })();
      }
      await nc.flush();
      const start = async (sql: typeof sqlA, id: string) => {
        const s = await ChatServer.start({
          sql,
          port: 0,
          id,
          cluster: { nats: { servers: [NATS_TEST_URL] } }, // no namespace given
        });
        servers.push(s);
        return s;
      };
      const a1 = await start(sqlA, "a-1"), a2 = await start(sqlA, "a-2");
      const b1 = await start(sqlB, "b-1");
      expect([a1.natsNamespace, a2.natsNamespace, b1.natsNamespace]).toEqual([idA, idA, idB]);

      // Each namespace carries its own cluster's heartbeats, a few of each.
      const beats = (ns: string, id: string) =>
        heard.get(ns)!.filter((s) => s === `fastchat.${ns}.hb.${id}`).length;
      await waitUntil(
        () => beats(idA, "a-1") >= 3 && beats(idA, "a-2") >= 3 && beats(idB, "b-1") >= 3,
        20_000,
        () => `three heartbeats of each server; heard ${JSON.stringify([...heard])}`,
      );
      // The servers of cluster A talk to each other (a newcomer is asked for its snapshot) …
      expect(heard.get(idA)!.some((s) => !s.includes(".hb."))).toBe(true);
      // … and nothing of one cluster ever shows in the other's namespace.
      expect(heard.get(idA)!.filter((s) => s.includes("b-1"))).toEqual([]);
      expect(heard.get(idB)!.filter((s) => s.includes("a-1") || s.includes("a-2"))).toEqual([]);

      // Migrating again keeps the id: it is made once, with the schema.
      await migrate(sqlA);
      expect(await readClusterId(sqlA)).toBe(idA);
    } finally {
      for (const s of servers) await s.close();
      await nc.close();
      for (const p of pools) await p.end();
      for (const db of dbs) await db.close();
    }
  },
});

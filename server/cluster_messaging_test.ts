/**
 * Cluster: direct messages and groups across servers, live and offline.
 *
 * Real load balancer and chat server processes (`--require-ticket`, linked
 * server to server) over PGlite and, with `FASTCHAT_TEST_DATABASE_URL`, real
 * PostgreSQL; real clients through the load balancer. Where a test runs over
 * NATS too (`--fabric nats`, the NATS server at 127.0.0.1:4222 that every
 * development and CI machine runs), it does so on PGlite and is ignored, under
 * a name that says so, only if NATS does not answer.
 * `FASTCHAT_CLUSTER_ECHO=1` echoes the processes' logs; the shared harness is
 * in `@fastchat/testing/cluster_run`, `cluster_peers` and `crash_stream`.
 */
import { expect } from "expect";
import { DB_KINDS } from "@fastchat/testing";
import {
  closeAll,
  type Ev,
  exchange,
  FAILOVER_MS,
  join,
  joinAll,
  type Peer,
  within,
} from "@fastchat/testing/cluster_peers";
import { fabricsFor, NATS_UP, over, withCluster } from "@fastchat/testing/cluster_run";

for (const kind of DB_KINDS) {
  for (const fabric of fabricsFor(kind)) {
    Deno.test({
      name: `cluster ${over(kind, fabric)}: direct messages across servers, live and offline`,
      ignore: fabric === "nats" && !NATS_UP,
      async fn(t) {
        await withCluster(t, kind, { servers: 3, fabric }, async (cluster, home, step) => {
          const alice = await join(cluster.lb, home, "alice", "register");
          let bob = await join(cluster.lb, home, "bob", "register");
          try {
            await step("alice and bob are on different servers", () => {
              expect(bob.server).not.toBe(alice.server);
              expect(cluster.running().map((s) => s.id)).toContain(alice.server);
              expect(cluster.running().map((s) => s.id)).toContain(bob.server);
            });

            await step("live both ways with sent and delivered receipts", async () => {
              await exchange(alice, bob, "live");
              // Key lookups cross servers too: both see the same safety number.
              expect(await alice.client.verify("bob")).toBe(await bob.client.verify("alice"));
            });

            await step("offline: stored, delivered in order at the next login", async () => {
              await bob.client.close();
              const sent: string[] = [];
              for (let i = 0; i < 5; i++) sent.push(await alice.client.send("bob", `offline ${i}`));
              await within(alice.client.idle(), 20_000, "alice's outbox to empty");
              for (const id of sent) {
                expect(alice.log.events).toContainEqual({ event: "sent", id, to: "bob" });
              }
              bob = await join(cluster.lb, home, "bob", "login"); // on any server
              const got = await bob.log.waitForCount(
                (e) => e.event === "message" && e.text.startsWith("offline "),
                5,
              );
              expect(got.map((e) => (e as Ev<"message">).id)).toEqual(sent);
              expect(got.map((e) => (e as Ev<"message">).text)).toEqual(
                sent.map((_, i) => `offline ${i}`),
              );
              for (const id of sent) {
                await alice.log.waitFor((e) =>
                  e.event === "delivered" && e.id === id && e.to === "bob"
                );
              }
            });
          } finally {
            await closeAll([alice, bob]);
          }
        });
      },
    });

    Deno.test({
      name: `cluster ${over(kind, fabric)}: a group spans three servers, online and offline`,
      ignore: fabric === "nats" && !NATS_UP,
      async fn(t) {
        await withCluster(t, kind, { servers: 3, fabric }, async (cluster, home, step) => {
          let peers = await joinAll(cluster.lb, home, ["ann", "ben", "cat"], "register");
          try {
            await step("one member per server", () => {
              expect(new Set(peers.map((p) => p.server)).size).toBe(3);
            });
            const [ann, ben, cat] = peers;
            const texts = (p: Peer) =>
              p.log.events.flatMap((e) =>
                e.event === "message" && "group" in e && e.group === "crew" ? [e.text] : []
              );
            await step("created and posted: every member gets every post once", async () => {
              await ann.client.group("create", "crew", ["ben", "cat"]);
              for (const p of peers) {
                await p.log.waitFor((e) => e.event === "group" && e.change === "created");
              }
              await ann.client.send("#crew", "from ann");
              await ben.client.send("#crew", "from ben");
              for (const p of peers) {
                const want = ["from ann", "from ben"].filter((x) => x !== `from ${p.user}`);
                await p.log.waitFor(() => want.every((w) => texts(p).includes(w)), FAILOVER_MS);
                expect(texts(p).sort()).toEqual(want);
              }
            });
            await step("a member offline gets the posts at its next login", async () => {
              await cat.client.close();
              await ann.client.send("#crew", "while cat is away");
              await within(ann.client.idle(), 20_000, "ann's outbox to empty");
              const cat2 = await join(cluster.lb, home, "cat", "login");
              peers = [ann, ben, cat2];
              await cat2.log.waitFor(() => texts(cat2).includes("while cat is away"), FAILOVER_MS);
              await ben.log.waitFor(() => texts(ben).includes("while cat is away"));
              expect(texts(ben).filter((x) => x === "while cat is away")).toHaveLength(1);
            });
          } finally {
            await closeAll(peers);
          }
        });
      },
    });
  }
}

/**
 * Cluster: kill -9 of a server mid-conversation loses and duplicates nothing,
 * and every message gets its delivered receipt.
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
import { requestTicket } from "@fastchat/client/lb_client";
import { waitForLive } from "./registry_waits.ts";
import { DB_KINDS } from "@fastchat/testing";
import { closeAll, exchange, join, type Peer } from "@fastchat/testing/cluster_peers";
import { joinApart } from "@fastchat/testing/cluster_pair";
import { fabricsFor, NATS_UP, over, withCluster } from "@fastchat/testing/cluster_run";
import { expectAllReceipts, type Stream, streamThroughCrash } from "@fastchat/testing/crash_stream";

for (const kind of DB_KINDS) {
  for (const fabric of fabricsFor(kind)) {
    Deno.test({
      name: `cluster ${over(kind, fabric)}: kill -9 mid-conversation loses and duplicates nothing`,
      ignore: fabric === "nats" && !NATS_UP,
      async fn(t) {
        await withCluster(t, kind, { servers: 3, fabric }, async (cluster, home, step) => {
          const peers: Peer[] = [];
          try {
            let same: Stream | undefined;
            await step("both on the killed server: all sent, each received once", async () => {
              const alice = await join(cluster.lb, home, "alice", "register");
              peers.push(alice);
              // Round-robin over 3 servers: two more tickets bring the rotation back to alice's.
              await requestTicket(cluster.lb);
              await requestTicket(cluster.lb);
              const bob = await join(cluster.lb, home, "bob", "register");
              peers.push(bob);
              expect(bob.server).toBe(alice.server);
              await exchange(alice, bob, "warm-up");
              same = await streamThroughCrash(
                cluster,
                alice,
                bob,
                cluster.server(alice.server),
                "same",
              );
              // The survivors see the dead server leave the registry.
              await waitForLive(cluster.sql, cluster.running().map((s) => s.id));
            });

            await step("both on the killed server: a delivered receipt for each", async () => {
              if (!same) throw new Error("skipped: the previous step failed");
              await expectAllReceipts(cluster, same);
            });

            let cross: Stream | undefined;
            await step("recipient's server killed: all sent, each received once", async () => {
              // Fresh users on two different servers: consecutive round-robin picks differ.
              const [carol, dave] = await joinApart(cluster.lb, home, "carol", "dave", peers);
              cross = await streamThroughCrash(
                cluster,
                carol,
                dave,
                cluster.server(dave.server),
                "x",
              );
            });

            await step("recipient's server killed: a delivered receipt for each", async () => {
              if (!cross) throw new Error("skipped: the previous step failed");
              await expectAllReceipts(cluster, cross);
            });
          } finally {
            await closeAll(peers);
          }
        });
      },
    });
  }
}

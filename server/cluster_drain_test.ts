/**
 * Cluster: SIGTERM drains a server; its clients move and it leaves the registry.
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
import { waitUntil } from "@fastchat/lib/wait_until";
import { waitForLive } from "./registry_waits.ts";
import { DB_KINDS } from "@fastchat/testing";
import { closeAll, count, exchange, joinAll, nextReconnect } from "@fastchat/testing/cluster_peers";
import { fabricsFor, NATS_UP, over, withCluster } from "@fastchat/testing/cluster_run";

for (const kind of DB_KINDS) {
  for (const fabric of fabricsFor(kind)) {
    Deno.test({
      name: `cluster ${
        over(kind, fabric)
      }: SIGTERM drains a server, its clients move, it leaves the registry`,
      ignore: fabric === "nats" && !NATS_UP,
      async fn(t) {
        await withCluster(t, kind, { servers: 3, fabric }, async (cluster, home, step) => {
          // Round-robin: a, b, c on the three servers, d back on a's server.
          const peers = await joinAll(cluster.lb, home, ["a", "b", "c", "d"], "register");
          try {
            const [a, b, , d] = peers;
            const victim = cluster.server(a.server);
            expect(d.server).toBe(victim.id);
            const moving = [a, d];
            const before = moving.map((p) => count(p.log, "reconnected"));

            await step("SIGTERM: exits cleanly and deregisters", async () => {
              const status = await cluster.terminate(victim);
              expect(status.code).toBe(0);
              const rest = cluster.running().map((s) => s.id);
              expect(rest).not.toContain(victim.id);
              const live = await waitForLive(cluster.sql, rest);
              expect(live.map((s) => s.id)).not.toContain(victim.id);
              if (fabric === "nats") {
                // The others heard its drain signal (bye) on NATS, not only its heartbeats stop.
                for (const s of cluster.running()) {
                  await waitUntil(
                    () =>
                      s.proc.stderr.some((l) =>
                        l.includes('"peer_link_down"') && l.includes(`"peer":"${victim.id}"`) &&
                        l.includes("said bye")
                      ),
                    10_000,
                    `${s.id} to log ${victim.id}'s bye`,
                  );
                }
              }
            });

            await step("its clients are told and reconnect elsewhere", async () => {
              const rest = cluster.running().map((s) => s.id);
              for (const [i, p] of moving.entries()) {
                await p.log.waitFor((e) =>
                  e.event === "error" && e.code === "SERVER_SHUTTING_DOWN"
                );
                const r = await nextReconnect(p, before[i]);
                expect(r.server).not.toBe(victim.id);
                expect(rest).toContain(r.server);
              }
              await exchange(a, b, "after drain");
              await exchange(d, a, "after drain");
            });
          } finally {
            await closeAll(peers);
          }
        });
      },
    });
  }
}

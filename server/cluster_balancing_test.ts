/**
 * Cluster: the load balancer's algorithms (round-robin, least-connections,
 * random) spread logins over the servers.
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
import { waitForClients } from "./registry_waits.ts";
import { DB_KINDS } from "@fastchat/testing";
import {
  closeAll,
  joinAll,
  LOGIN_GAP_MS,
  type Peer,
  spread,
  users,
} from "@fastchat/testing/cluster_peers";
import { withCluster } from "@fastchat/testing/cluster_run";

for (const kind of DB_KINDS) {
  Deno.test({
    name: `cluster (${kind}): round-robin, least-connections and random spread logins`,
    async fn(t) {
      await withCluster(
        t,
        kind,
        { servers: 3, algorithm: "round-robin" },
        async (cluster, home, step) => {
          const ids = cluster.running().map((s) => s.id);
          const names = users("user", 30);
          const open: Peer[] = []; // closed at the end whatever happens
          const track = (peers: Peer[]) => (open.push(...peers), peers);
          try {
            await step("round-robin: 30 registrations land 10/10/10", async () => {
              const peers = track(await joinAll(cluster.lb, home, names, "register", { limit: 6 }));
              expect(spread(peers, ids)).toEqual(Object.fromEntries(ids.map((id) => [id, 10])));
              await closeAll(peers);
            });

            await step("least-connections: even spread, refills an emptied server", async () => {
              await waitForClients(cluster.sql, Object.fromEntries(ids.map((id) => [id, 0])));
              const lb = await cluster.addLoadBalancer("least-connections");
              // One at a time: each login is counted (by ticket, then by heartbeat) before the next.
              const peers = track(
                await joinAll(lb, home, names, "login", { minGapMs: LOGIN_GAP_MS }),
              );
              const first = spread(peers, ids);
              // Exactly even but for a ticket that races a heartbeat (then counted in neither).
              for (const id of ids) expect(Math.abs(first[id] - 10)).toBeLessThanOrEqual(1);

              const emptied = ids[0];
              const gone = peers.filter((p) => p.server === emptied);
              const kept = peers.filter((p) => p.server !== emptied);
              await closeAll(gone);
              // The registry (heartbeat every second) reports the emptied server and the others.
              await waitForClients(
                cluster.sql,
                Object.fromEntries(ids.map((id) => [id, id === emptied ? 0 : first[id]])),
              );
              // Second sessions of 10 users, from another home (not sharing files with the first).
              const home2 = await Deno.makeTempDir({ dir: home });
              const more = track(
                await joinAll(lb, home2, names.slice(0, 10), "login", { minGapMs: LOGIN_GAP_MS }),
              );
              const refill = spread(more, ids);
              expect(refill[emptied]).toBeGreaterThanOrEqual(8);
              const final = spread([...kept, ...more], ids);
              const total = Object.values(final).reduce((a, b) => a + b, 0);
              expect(total).toBe(30 - gone.length + 10);
              for (const id of ids) {
                expect(Math.abs(final[id] - total / ids.length)).toBeLessThanOrEqual(2);
              }
              await closeAll([...kept, ...more]);
            });

            await step("random: 30 logins touch every server", async () => {
              const lb = await cluster.addLoadBalancer("random");
              const peers = track(
                await joinAll(lb, home, names, "login", { minGapMs: LOGIN_GAP_MS }),
              );
              const s = spread(peers, ids);
              expect(Object.keys(s).sort()).toEqual([...ids].sort());
              for (const id of ids) expect(s[id]).toBeGreaterThan(0);
              await closeAll(peers);
            });
          } finally {
            await closeAll(open);
          }
        },
      );
    },
  });
}

/**
 * Cluster: a server joins at runtime on another loopback address.
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
import type { ClusterMember as ClusterServer } from "./cluster_launcher.ts";
import { waitForLive } from "./registry_waits.ts";
import { DB_KINDS } from "@fastchat/testing";
import { closeAll, exchange, join, type Peer, users } from "@fastchat/testing/cluster_peers";
import { withCluster } from "@fastchat/testing/cluster_run";

for (const kind of DB_KINDS) {
  Deno.test({
    name: `cluster (${kind}): a server joins at runtime on 127.0.0.2`,
    async fn(t) {
      await withCluster(t, kind, { servers: 3 }, async (cluster, home, step) => {
        const peers: Peer[] = [];
        try {
          const alice = await join(cluster.lb, home, "alice", "register");
          peers.push(alice);
          let joined!: ClusterServer;

          await step("it binds 127.0.0.2, registers and links with every peer", async () => {
            joined = await cluster.addServer({
              args: ["--host", "127.0.0.2", "--advertise-host", "127.0.0.2"],
            }); // waits for the full mesh (peer_link_up both ways)
            expect(joined.host).toBe("127.0.0.2");
            const live = await waitForLive(cluster.sql, cluster.running().map((s) => s.id));
            expect(live.find((s) => s.id === joined.id)).toMatchObject({
              host: "127.0.0.2",
              port: joined.port,
              peerHost: "127.0.0.2",
            });
          });

          let carol: Peer | undefined;
          await step("round-robin sends one of the next 4 logins to it", async () => {
            const seen: string[] = [];
            for (const user of users("joiner", 4)) {
              const p = await join(cluster.lb, home, user, "register");
              peers.push(p);
              seen.push(p.server);
              if (p.server === joined.id) {
                carol = p;
                break;
              }
            }
            expect(seen).toContain(joined.id);
            expect(carol!.address.startsWith("127.0.0.2:")).toBe(true);
            expect(carol!.client.whoami()).toMatchObject({
              server: joined.id,
              address: joined.address,
            });
          });

          await step("a user on it chats with a user on another server", async () => {
            expect(alice.server).not.toBe(joined.id);
            await exchange(carol!, alice, "joined");
          });
        } finally {
          await closeAll(peers);
        }
      });
    },
  });
}

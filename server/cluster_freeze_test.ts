/**
 * Cluster: a chat server frozen with SIGSTOP (not killed: its sockets stay
 * open, nothing is reset, it just stops answering) is noticed by its peer
 * through unanswered peer-link pings (`--peer-ping-ms`), well before its
 * registry heartbeat goes stale; messages for its users are stored meanwhile
 * and, after SIGCONT, the links are dialled again and the stored messages
 * arrive, each once, with their delivered receipts.
 *
 * Real database, load balancer and chat server processes, real clients
 * through the load balancer. `FASTCHAT_CLUSTER_ECHO=1` echoes the logs.
 */
import { expect } from "expect";
import type { ClientEvent } from "@fastchat/client";
import type { ClusterMember } from "@fastchat/server/cluster_launcher";
import { waitUntil } from "@fastchat/lib/wait_until";
import {
  closeAll,
  type Ev,
  exchange,
  FAILOVER_MS,
  type Peer,
} from "@fastchat/testing/cluster_peers";
import { joinApart } from "@fastchat/testing/cluster_pair";
import { withCluster } from "@fastchat/testing/cluster_run";

const PEER_PING_MS = 200;

/** The JSON log events of `m` from its `from`-th stderr line on. */
function logEvents(m: ClusterMember, from: number): Record<string, unknown>[] {
  return m.proc.stderr.slice(from).flatMap((line) => {
    try {
      const e = JSON.parse(line);
      return e && typeof e === "object" ? [e] : [];
    } catch {
      return []; // not a log event
    }
  });
}

/** Waits for an event of `m` logged after its `from`-th stderr line that `match` accepts. */
function logged(
  m: ClusterMember,
  from: number,
  what: string,
  match: (e: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return waitUntil(() => logEvents(m, from).find(match), FAILOVER_MS, `${m.id}: ${what}`);
}

Deno.test("cluster (pglite): a peer frozen with SIGSTOP is dropped by pings; its users' messages are stored and flow once after SIGCONT", async (t) => {
  await withCluster(t, "pglite", {
    servers: 2,
    serverArgs: ["--peer-ping-ms", String(PEER_PING_MS)],
  }, async (cluster, home, step) => {
    const peers: Peer[] = [];
    try {
      // Round-robin over two servers: consecutive picks differ.
      const [alice, bob] = await joinApart(cluster.lb, home, "alice", "bob", peers);
      const frozen = cluster.server(bob.server), other = cluster.server(alice.server);
      const ids: string[] = [];
      const otherMark = other.proc.stderr.length, frozenMark = frozen.proc.stderr.length;

      frozen.proc.kill("SIGSTOP");
      let thawed = false;
      try {
        await step(
          "the other server drops both silent links: TIMEOUT, pings unanswered",
          async () => {
            // Its link to the frozen server and the frozen server's link to it.
            const closed = await waitUntil(
              () => {
                const c = logEvents(other, otherMark).filter((e) =>
                  e.event === "peer_link_closed" && e.peer === frozen.id
                );
                return c.length >= 2 && c;
              },
              FAILOVER_MS,
              `${other.id}: both peer links with the frozen ${frozen.id} closed`,
            );
            for (const c of closed) {
              expect(c).toMatchObject({ code: "TIMEOUT" });
              expect(String(c.error)).toContain("pings unanswered");
            }
          },
        );

        await step("messages to the frozen server's user are stored, not lost", async () => {
          for (let i = 0; i < 5; i++) ids.push(await alice.client.send(bob.user, `frozen ${i}`));
          const isSent = (e: ClientEvent) => e.event === "sent" && ids.includes(e.id);
          await alice.log.waitForCount(isSent, ids.length, FAILOVER_MS);
          const stored = await cluster.sql`select id from messages where id = any(${ids})`;
          expect(stored.map((r) => r.id).sort()).toEqual([...ids].sort());
          expect(bob.log.events.filter((e) => e.event === "message" && ids.includes(e.id)))
            .toEqual([]);
        });

        frozen.proc.kill("SIGCONT");
        thawed = true;

        await step("after SIGCONT both dial again, and the stored messages flow once", async () => {
          await logged(
            frozen,
            frozenMark,
            "its link to the other up again",
            (e) => e.event === "peer_link_up" && e.peer === other.id,
          );
          await logged(
            other,
            otherMark,
            "its link to the thawed one up again",
            (e) => e.event === "peer_link_up" && e.peer === frozen.id,
          );
          const isOurs = (e: ClientEvent) =>
            e.event === "message" && e.from === alice.user && ids.includes(e.id);
          await bob.log.waitForCount(isOurs, ids.length, FAILOVER_MS);
          // A marker after them gives late duplicates time to show up.
          const marker = await alice.client.send(bob.user, "after the thaw");
          await bob.log.waitFor((e) => e.event === "message" && e.id === marker, FAILOVER_MS);
          const got = bob.log.events.filter(isOurs).map((e) => (e as Ev<"message">).id);
          expect(got.sort()).toEqual([...ids].sort());
          expect(
            got.map((id) =>
              bob.log.events.filter((e) => e.event === "message" && e.id === id).length
            ),
          )
            .toEqual(ids.map(() => 1));
          const isReceipt = (e: ClientEvent) =>
            e.event === "delivered" && e.to === bob.user && ids.includes(e.id);
          await alice.log.waitForCount(isReceipt, ids.length, FAILOVER_MS);
          await exchange(alice, bob, "after the thaw");
        });
      } finally {
        if (!thawed) frozen.proc.kill("SIGCONT");
      }
    } finally {
      await closeAll(peers);
    }
  });
});

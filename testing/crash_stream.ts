/**
 * Kill -9 a chat server while a client streams messages through it, and
 * check that nothing was lost or duplicated and every receipt arrives.
 *
 * @example
 * ```ts
 * import { expectAllReceipts, streamThroughCrash } from "@fastchat/testing/crash_stream";
 * import type { Peer } from "@fastchat/testing/cluster_peers";
 * import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
 * declare const cluster: ClusterLauncher, alice: Peer, bob: Peer;
 * const s = await streamThroughCrash(cluster, alice, bob, cluster.server(bob.server), "x");
 * await expectAllReceipts(cluster, s);
 * ```
 * @module
 */
import { expect } from "expect";
import type { ClientEvent } from "@fastchat/client";
import type {
  ClusterLauncher as Cluster,
  ClusterMember as ClusterServer,
} from "@fastchat/server/cluster_launcher";
import { count, type Ev, FAILOVER_MS, nextReconnect, type Peer, within } from "./cluster_peers.ts";

/**
 * What {@link streamThroughCrash} sent.
 *
 * @example
 * ```ts
 * import type { Stream } from "@fastchat/testing/crash_stream";
 * declare const s: Stream;
 * console.log(s.ids.length, s.killedAfter);
 * ```
 */
export interface Stream {
  /** Who sent. */
  sender: Peer;
  /** Who received. */
  recipient: Peer;
  /** Ids in send order. */
  ids: string[];
  /** How many had been sent when the server was killed. */
  killedAfter: number;
}

/**
 * Streams messages `sender` → `recipient` while `victim` is killed with
 * SIGKILL. Returns once every affected client reconnected elsewhere and 20
 * more messages were confirmed after that; then checks that every message
 * was confirmed (`sent`) and received exactly once.
 *
 * @example
 * ```ts
 * import { streamThroughCrash } from "@fastchat/testing/crash_stream";
 * import type { Peer } from "@fastchat/testing/cluster_peers";
 * import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
 * declare const cluster: ClusterLauncher, alice: Peer, bob: Peer;
 * await streamThroughCrash(cluster, alice, bob, cluster.server(alice.server), "same");
 * ```
 */
export async function streamThroughCrash(
  cluster: Cluster,
  sender: Peer,
  recipient: Peer,
  victim: ClusterServer,
  tag: string,
): Promise<Stream> {
  const affected = [sender, recipient].filter((p) => p.client.whoami().server === victim.id);
  expect(affected.length).toBeGreaterThan(0);
  const before = affected.map((p) => count(p.log, "reconnected"));
  const ids: string[] = [];
  const idSet = new Set<string>();
  const isOurSent = (e: ClientEvent) => e.event === "sent" && idSet.has(e.id);
  let streaming = true;
  let killedAfter = -1;
  const stream = (async () => {
    for (let i = 0; streaming; i++) {
      // During the outage send() queues in the outbox and returns at once.
      const id = await sender.client.send(recipient.user, `${tag} ${i}`);
      ids.push(id);
      idSet.add(id);
      await new Promise((r) => setTimeout(r, 5)); // paces the stream; waits for nothing
    }
  })();
  try {
    await sender.log.waitForCount(isOurSent, 20);
    killedAfter = ids.length;
    const status = await cluster.kill(victim);
    expect(status.signal).toBe("SIGKILL");
    const liveIds = cluster.running().map((s) => s.id);
    for (const [i, p] of affected.entries()) {
      const r = await nextReconnect(p, before[i]);
      expect(r.user).toBe(p.user);
      expect(r.server).not.toBe(victim.id);
      expect(liveIds).toContain(r.server);
      expect(p.client.whoami().server).toBe(r.server);
    }
    // Keep streaming a while on the new servers.
    const confirmed = sender.log.events.filter(isOurSent).length;
    await sender.log.waitForCount(isOurSent, confirmed + 20, FAILOVER_MS);
  } finally {
    streaming = false;
    await within(stream, FAILOVER_MS, "the sending loop to stop");
  }
  // Everything sent is eventually confirmed: the outbox was resent after reconnect.
  try {
    await sender.log.waitForCount(isOurSent, ids.length, FAILOVER_MS);
  } catch (err) {
    const sent = new Set(sender.log.events.filter(isOurSent).map((e) => (e as Ev<"sent">).id));
    const missing = ids.filter((id) => !sent.has(id));
    const stored = await cluster.sql`select id from messages where id = any(${missing})`;
    const errors = sender.log.events.filter((e) => e.event === "error");
    const gotByRecipient = recipient.log.events.filter((e) =>
      e.event === "message" && missing.includes(e.id)
    ).length;
    throw new Error(
      `${missing.length} of ${ids.length} messages never confirmed (no sent): ` +
        `#${missing.map((id) => ids.indexOf(id)).join(", #")}, the server was killed after ` +
        `#${killedAfter - 1}; still in ${sender.user}'s outbox: ${sender.client.unconfirmed}; ` +
        `in the store: ${stored.length}; received by ${recipient.user}: ${gotByRecipient}; ` +
        `${sender.user}'s errors: ${JSON.stringify(errors)}\n${(err as Error).message}`,
    );
  }
  expect(sender.client.unconfirmed).toBe(0);
  // ... and every message reaches the recipient exactly once.
  const isOurs = (e: ClientEvent) =>
    e.event === "message" && e.from === sender.user && idSet.has(e.id);
  await recipient.log.waitForCount(isOurs, ids.length, FAILOVER_MS);
  // A marker after the stream gives late duplicates time to show up.
  const marker = await sender.client.send(recipient.user, `${tag} end`);
  await recipient.log.waitFor((e) => e.event === "message" && e.id === marker, FAILOVER_MS);
  const received = recipient.log.events.filter(isOurs).map((e) => (e as Ev<"message">).id);
  const dups = received.filter((id, i) => received.indexOf(id) !== i);
  expect(dups).toEqual([]);
  expect(new Set(received)).toEqual(idSet);
  return { sender, recipient, ids, killedAfter };
}

/**
 * Waits until the sender of `s` has a `delivered` receipt for every message of it.
 *
 * @example
 * ```ts
 * import { expectAllReceipts, type Stream } from "@fastchat/testing/crash_stream";
 * import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
 * declare const cluster: ClusterLauncher, s: Stream;
 * await expectAllReceipts(cluster, s);
 * ```
 */
export async function expectAllReceipts(cluster: Cluster, s: Stream): Promise<void> {
  const { sender, recipient, ids } = s;
  const idSet = new Set(ids);
  const isOurReceipt = (e: ClientEvent) =>
    e.event === "delivered" && e.to === recipient.user && idSet.has(e.id);
  try {
    await sender.log.waitForCount(isOurReceipt, ids.length, 10_000);
  } catch (err) {
    const got = new Set(
      sender.log.events.filter(isOurReceipt).map((e) => (e as Ev<"delivered">).id),
    );
    const missing = ids.filter((id) => !got.has(id));
    // Still stored as undelivered, or parked as receipts for an "offline" sender?
    const stored = await cluster.sql`select id from messages where id = any(${missing})`;
    const parked = await cluster.sql`select message_id from receipts
      where username = ${sender.user} and message_id = any(${missing})`;
    throw new Error(
      `${missing.length} of ${ids.length} messages (received by ${recipient.user}) never got ` +
        `a delivered receipt: #${missing.map((id) => ids.indexOf(id)).join(", #")}; the server ` +
        `was killed after #${s.killedAfter - 1} was sent; of them still in messages: ` +
        `${stored.length}, parked in receipts: ${parked.length}\n${(err as Error).message}`,
    );
  }
}

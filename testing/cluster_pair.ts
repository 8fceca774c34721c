/**
 * Two users of a test cluster on two different servers who have already
 * talked: the start of the cluster tests that then kill, freeze or cut off
 * one side's server.
 *
 * @example
 * ```ts
 * import { closeAll, type Peer } from "@fastchat/testing/cluster_peers";
 * import { joinApart } from "@fastchat/testing/cluster_pair";
 * declare const lb: { host: string; port: number };
 * const peers: Peer[] = [];
 * try {
 *   const [ann, ben] = await joinApart(lb, "/tmp/home", "ann", "ben", peers);
 *   console.log(ann.server, ben.server); // two different servers
 * } finally {
 *   await closeAll(peers);
 * }
 * ```
 * @module
 */
import { expect } from "expect";
import { exchange, join, type Lb, type Peer } from "./cluster_peers.ts";

/**
 * Registers `first`, then `second`, through the load balancer `lb` (files
 * under `home`): consecutive round-robin picks, so on two different servers,
 * which it checks. Each is pushed onto `peers` as soon as it is in (for the
 * caller's `closeAll`); then they exchange a warm-up message each way, with
 * its receipts. Resolves with the two.
 *
 * @example
 * ```ts
 * import { exchange, type Peer } from "@fastchat/testing/cluster_peers";
 * import { joinApart } from "@fastchat/testing/cluster_pair";
 * declare const lb: { host: string; port: number };
 * declare const peers: Peer[];
 * const [carol, dave] = await joinApart(lb, "/tmp/home", "carol", "dave", peers);
 * await exchange(carol, dave, "again");
 * ```
 */
export async function joinApart(
  lb: Lb,
  home: string,
  first: string,
  second: string,
  peers: Peer[],
): Promise<[Peer, Peer]> {
  const a = await join(lb, home, first, "register");
  peers.push(a);
  const b = await join(lb, home, second, "register");
  peers.push(b);
  expect(b.server).not.toBe(a.server);
  await exchange(a, b, "warm-up");
  return [a, b];
}

/**
 * Bounded peer sets for `--peers K`: whom each client of a `--mode dm` run
 * may write to. Without it every client writes to random clients among all
 * the others, and the key warm-up (one RSA envelope per sender/recipient
 * pair) grows as N², which rules out thousands of clients.
 *
 * The design is a ring over a seeded shuffle of the clients: the run seed
 * shuffles the client indices onto ring positions, and each client's peers
 * are the clients 1..⌊K/2⌋ positions away on either side. For an odd K
 * each client also gets the client half way round the ring (position
 * p ↔ p + ⌊N/2⌋). So:
 *
 * - every client has exactly K peers (for odd K and odd N no K-regular
 *   graph exists; there the one position left over is linked to a client
 *   that then has K + 1);
 * - the relation is symmetric: j is a peer of i exactly when i is a peer
 *   of j, so every pair that talks does so in both directions, and the
 *   warm-up's N·K envelopes cover exactly those directed pairs;
 * - it is deterministic from the seed, and the shuffle keeps the ring
 *   uncorrelated with anything else decided by client index (the workers'
 *   round-robin, the load balancer's spread over servers), so the share of
 *   messages crossing servers is what random recipients would give;
 * - with K = N − 1 the set is every other client, sorted, and picking from
 *   it draws exactly what the unbounded default draws.
 *
 * @example
 * ```ts
 * import { peerSets } from "./peer_graph.ts";
 * const sets = peerSets("s1", 10, 4);
 * sets[3].length; // 4: client 3's peers, sorted, the same on every run with seed s1
 * ```
 * @module
 */
import { hash32, mulberry32 } from "./seeded_rng.ts";

/**
 * The client indices `0..clients-1` in a seeded random order (Fisher–Yates).
 *
 * @example
 * ```ts
 * import { seededOrder } from "./peer_graph.ts";
 * seededOrder("s1", 5).sort(); // [0, 1, 2, 3, 4]
 * ```
 */
export function seededOrder(seed: string, clients: number): number[] {
  const rng = mulberry32(hash32(`${seed}/peer-ring`));
  const order = Array.from({ length: clients }, (_, i) => i);
  for (let i = clients - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Every client's peers for `--peers k` among `clients` (1 ≤ k ≤ clients − 1),
 * sorted ascending: `sets[i]` are the clients that client i writes to, and
 * they all write to i. See the module comment for the construction.
 *
 * @example
 * ```ts
 * import { peerSets } from "./peer_graph.ts";
 * peerSets("s1", 3, 2); // [[1, 2], [0, 2], [0, 1]]: everyone
 * ```
 */
export function peerSets(seed: string, clients: number, k: number): number[][] {
  if (!Number.isSafeInteger(k) || k < 1 || k > clients - 1) {
    throw new RangeError(`peers per client must be 1..${clients - 1}, got ${k}`);
  }
  const order = seededOrder(seed, clients);
  const sets: number[][] = Array.from({ length: clients }, () => []);
  const link = (p: number, q: number) => {
    sets[order[p]].push(order[q]);
    sets[order[q]].push(order[p]);
  };
  // Ring distances 1..half: each edge once, from its earlier end (half < N/2).
  const half = Math.floor(k / 2);
  for (let p = 0; p < clients; p++) {
    for (let d = 1; d <= half; d++) link(p, (p + d) % clients);
  }
  if (k % 2 === 1) {
    // A matching of chords at distance ⌊N/2⌋, longer than any ring edge.
    const m = Math.floor(clients / 2);
    for (let p = 0; p < m; p++) link(p, p + m);
    // Odd N: the last position has no partner; its chord to m − 1 is also at distance m.
    if (clients % 2 === 1) link(clients - 1, m - 1);
  }
  for (const s of sets) s.sort((a, b) => a - b);
  return sets;
}

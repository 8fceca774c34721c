import { expect } from "expect";
import { peerSets, seededOrder } from "./peer_graph.ts";
import { pickRecipient, plannedRecipients, warmupRecipients } from "./load_plan.ts";
import { streamRng } from "./seeded_rng.ts";

/** Checks the invariants of one graph; returns the degree of each client. */
function checkGraph(sets: number[][], clients: number): number[] {
  expect(sets).toHaveLength(clients);
  sets.forEach((s, i) => {
    expect(s).not.toContain(i);
    expect(new Set(s).size).toBe(s.length); // no pair twice
    expect(s).toEqual([...s].sort((a, b) => a - b));
    for (const j of s) {
      expect(j >= 0 && j < clients).toBe(true);
      // Symmetric: whoever i writes to writes to i.
      expect({ i, j, back: sets[j].includes(i) }).toEqual({ i, j, back: true });
    }
  });
  return sets.map((s) => s.length);
}

Deno.test("peerSets: K peers each, symmetric, for every K of small runs", () => {
  for (const clients of [2, 3, 4, 5, 8, 9, 16, 17]) {
    for (let k = 1; k < clients; k++) {
      const degrees = checkGraph(peerSets("s1", clients, k), clients);
      const extra = degrees.filter((d) => d === k + 1).length;
      // K-regular; odd K with odd N has no such graph: exactly one client gets K + 1.
      expect({ clients, k, other: degrees.filter((d) => d !== k && d !== k + 1) })
        .toEqual({ clients, k, other: [] });
      expect({ clients, k, extra }).toEqual({ clients, k, extra: k % 2 && clients % 2 ? 1 : 0 });
    }
  }
});

Deno.test("peerSets: 1,000 clients with 8 peers, 8,000 directed pairs", () => {
  const sets = peerSets("big", 1000, 8);
  expect(checkGraph(sets, 1000).every((d) => d === 8)).toBe(true);
  expect(sets.reduce((a, s) => a + s.length, 0)).toBe(8000);
});

Deno.test("peerSets: deterministic per seed, different across seeds", () => {
  expect(peerSets("a", 50, 6)).toEqual(peerSets("a", 50, 6));
  expect(peerSets("a", 50, 6)).not.toEqual(peerSets("b", 50, 6));
  expect(seededOrder("a", 50)).toEqual(seededOrder("a", 50));
  expect([...seededOrder("a", 50)].sort((x, y) => x - y)).toEqual(
    Array.from({ length: 50 }, (_, i) => i),
  );
});

Deno.test("peerSets: K = N-1 is everyone, and picks from it replay the unbounded default", () => {
  for (const clients of [6, 7]) {
    const sets = peerSets("s", clients, clients - 1);
    for (let i = 0; i < clients; i++) {
      expect(sets[i]).toEqual(Array.from({ length: clients }, (_, j) => j).filter((j) => j !== i));
      const a = streamRng("s", i, "recipients"), b = streamRng("s", i, "recipients");
      for (let n = 0; n < 100; n++) {
        expect(pickRecipient(a, i, clients, sets[i])).toBe(pickRecipient(b, i, clients));
      }
    }
  }
});

Deno.test("peerSets: out-of-range K is a RangeError", () => {
  for (const k of [0, 10, 1.5]) expect(() => peerSets("s", 10, k)).toThrow(RangeError);
});

Deno.test("pickRecipient with peers: only ever a peer, every peer in time", () => {
  const sets = peerSets("p", 40, 4);
  for (const self of [0, 13, 39]) {
    const rng = streamRng("p", self, "recipients");
    const seen = new Set<number>();
    for (let n = 0; n < 400; n++) {
      const r = pickRecipient(rng, self, 40, sets[self]);
      expect(sets[self]).toContain(r);
      seen.add(r);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual(sets[self]);
  }
  expect(() => pickRecipient(streamRng("p", 0, "recipients"), 0, 40, [])).toThrow(RangeError);
});

Deno.test("warm-up recipients with peers: exactly the pairs the sends use", () => {
  const sets = peerSets("w", 30, 6);
  for (const self of [0, 7, 29]) {
    // --messages M: the distinct recipients of the M sends, replayed from the same stream.
    const rng = streamRng("w", self, "recipients");
    const used = new Set<number>();
    for (let n = 0; n < 5; n++) used.add(pickRecipient(rng, self, 30, sets[self]));
    const planned = plannedRecipients("w", self, 30, 5, sets[self]);
    expect(new Set(planned)).toEqual(used);
    expect(planned.length).toBe(used.size);
    expect(warmupRecipients("w", self, 30, 5, sets[self])).toEqual(planned);
    // --duration: every peer, since every one of them may be written to.
    expect(warmupRecipients("w", self, 30, null, sets[self])).toEqual(sets[self]);
  }
  // Without a peer set: as before, the first 1000 picks among all the others.
  expect(warmupRecipients("w", 0, 4, null, null).sort()).toEqual([1, 2, 3]);
});

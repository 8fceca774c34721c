import { expect } from "expect";
import { HeapSampler } from "./heap_sampler.ts";
import { summarizeHeapProfiles } from "./heap_profile.ts";
import type { SamplingHeapProfile } from "./heap_sampler.ts";

/** Allocates `n` small records, keeping at most a thousand at a time (they escape, so V8 must allocate them). */
function allocateRecords(n: number): number {
  let kept: { a: number; d: number[] }[] = [];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    kept.push({ a: i, d: [i, i] });
    if (kept.length === 1000) {
      sum += kept.length;
      kept = [];
    }
  }
  return sum + kept.length;
}

Deno.test("HeapSampler: counts what a function allocated, collected objects included", async () => {
  const sampler = await HeapSampler.start(1024);
  expect(allocateRecords(200_000)).toBe(200_000); // > 10 MB, none of it alive at the end
  const profile = await sampler.stop();
  const s = summarizeHeapProfiles([profile]);
  const mine = s.byProjectFrame.find((r) =>
    r.name.startsWith("allocateRecords perf/heap_profile_test.ts")
  );
  expect(mine).toBeDefined();
  // Sampling is statistical: > 10 MB allocated reads as several MB, not as nothing.
  expect(mine!.bytes).toBeGreaterThan(5_000_000);
  expect(mine!.bytes).toBeLessThanOrEqual(s.totalBytes);
  await expect(sampler.stop()).rejects.toThrow(/already stopped/);
});

Deno.test("summarizeHeapProfiles: library allocations are charged to the nearest project frame", () => {
  const frame = (functionName: string, url: string, lineNumber = 0) => ({
    functionName,
    url,
    lineNumber,
  });
  const profile: SamplingHeapProfile = {
    head: {
      id: 1,
      callFrame: frame("(root)", "", -1),
      selfSize: 0,
      children: [{
        id: 2,
        callFrame: frame("sealMessage", "file:///p/lib/crypto/aead.ts", 127),
        selfSize: 0,
        children: [{
          id: 3,
          callFrame: frame("Cipheriv", "ext:deno_node/internal/crypto/cipher.ts", 0),
          selfSize: 300,
          children: [],
        }],
      }, {
        id: 4,
        callFrame: frame(
          "pack",
          "file:///p/node_modules/.deno/msgpackr@1.12.1/node_modules/msgpackr/pack.js",
          9,
        ),
        selfSize: 100,
        children: [],
      }],
    },
    samples: [
      { size: 200, nodeId: 3, ordinal: 1 },
      { size: 100, nodeId: 3, ordinal: 2 },
      { size: 100, nodeId: 4, ordinal: 3 },
      { size: 5, nodeId: 99, ordinal: 4 }, // a node not in the tree: skipped
    ],
  };
  const s = summarizeHeapProfiles([profile, profile]);
  expect(s.totalBytes).toBe(800);
  expect(s.byProjectFrame).toEqual([
    { name: "sealMessage lib/crypto/aead.ts:128", bytes: 600 },
    { name: "(runtime)", bytes: 200 },
  ]);
  expect(s.byProjectModule).toEqual([
    { name: "lib/crypto/aead.ts", bytes: 600 },
    { name: "(runtime)", bytes: 200 },
  ]);
  expect(s.byFunction.map((r) => r.name)).toEqual([
    "Cipheriv ext:deno_node:1",
    "pack msgpackr:10",
  ]);
});

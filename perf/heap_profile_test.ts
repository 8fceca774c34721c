import { expect } from "expect";
import { HeapSampler } from "./heap_sampler.ts";
import {
  formatHeapAllocation,
  heapAllocationRows,
  readHeapAllocation,
  runHeapProfileFiles,
  summarizeHeapProfiles,
} from "./heap_profile.ts";
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

Deno.test("HeapSampler: with survivorsOnly, what scavenges collected is left out", async () => {
  const sampled = async (survivorsOnly: boolean) => {
    const sampler = await HeapSampler.start(1024, survivorsOnly);
    // ~100 MB of records, each dead before the next scavenge: many scavenges.
    for (let round = 0; round < 10; round++) allocateRecords(200_000);
    return summarizeHeapProfiles([await sampler.stop()]).totalBytes;
  };
  const all = await sampled(false);
  const survivors = await sampled(true);
  expect(all).toBeGreaterThan(50_000_000);
  // What is left: whatever is young and live when sampling stops (at most a young generation).
  expect(survivors).toBeLessThan(all / 4);
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

Deno.test("readHeapAllocation: a run's worker profiles per message received; null when not sampled", async () => {
  const dir = await Deno.makeTempDir();
  try {
    expect(await runHeapProfileFiles(dir)).toEqual([]);
    expect(await readHeapAllocation(dir, 100)).toBeNull();
    await Deno.mkdir(`${dir}/profiles`);
    await Deno.writeTextFile(`${dir}/profiles/worker-0.cpuprofile`, "not a heap profile");
    expect(await readHeapAllocation(dir, 100)).toBeNull();
    const profile = (bytes: number): SamplingHeapProfile => ({
      head: {
        id: 1,
        callFrame: { functionName: "(root)", url: "", lineNumber: -1 },
        selfSize: 0,
        children: [{
          id: 2,
          callFrame: {
            functionName: "openMessage",
            url: "file:///p/lib/crypto/aead.ts",
            lineNumber: 4,
          },
          selfSize: bytes,
          children: [],
        }, {
          id: 3,
          callFrame: { functionName: "read", url: "ext:deno_net/01_net.js", lineNumber: 0 },
          selfSize: bytes,
          children: [],
        }],
      },
      samples: [{ size: 3 * bytes, nodeId: 2, ordinal: 1 }, { size: bytes, nodeId: 3, ordinal: 2 }],
    });
    await Deno.writeTextFile(`${dir}/profiles/worker-1.heapprofile`, JSON.stringify(profile(1000)));
    await Deno.writeTextFile(`${dir}/profiles/worker-0.heapprofile`, JSON.stringify(profile(500)));
    expect(await runHeapProfileFiles(dir)).toEqual([
      `${dir}/profiles/worker-0.heapprofile`,
      `${dir}/profiles/worker-1.heapprofile`,
    ]);
    const h = await readHeapAllocation(dir, 3);
    expect(h).toEqual({
      profiles: 2,
      totalBytes: 6000,
      bytesPerMessage: 2000,
      top: [
        { name: "openMessage lib/crypto/aead.ts:5", bytes: 4500 },
        { name: "(runtime)", bytes: 1500 },
      ],
      survivors: false,
    });
    expect(formatHeapAllocation(h!).split("\n")).toEqual([
      "load workers' JS heap allocations while sending (--heap-sample), by nearest project frame",
      "  allocated (2 profiles)            0.0 MB, 2000 B per message",
      "  openMessage lib/crypto/aead.ts:5  75.0 %, 1500 B per message",
      "  (runtime)                         25.0 %, 500 B per message",
    ]);
    expect((await readHeapAllocation(dir, 0))!.bytesPerMessage).toBeNull();
    // perf --heap-survivors names its profiles apart, and the analysis says what they hold.
    for (const k of [0, 1]) {
      await Deno.rename(
        `${dir}/profiles/worker-${k}.heapprofile`,
        `${dir}/profiles/worker-${k}.survivors.heapprofile`,
      );
    }
    const survived = await readHeapAllocation(dir, 3);
    expect(survived).toMatchObject({ profiles: 2, totalBytes: 6000, survivors: true });
    expect(formatHeapAllocation(survived!).split("\n").slice(0, 2)).toEqual([
      "load workers' JS heap that survived a scavenge while sending (--heap-survivors), by nearest project frame",
      "  survived a scavenge (2 profiles)  0.0 MB, 2000 B per message",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("heapAllocationRows: profiles without a sample read as zero, not NaN", () => {
  expect(heapAllocationRows({ profiles: 1, totalBytes: 0, bytesPerMessage: 0, top: [] })).toEqual([
    ["allocated (1 profile)", "0.0 MB, 0 B per message"],
  ]);
});

import { expect } from "expect";
import {
  type CpuProfile,
  partOf,
  phaseBounds,
  summarizeProfiles,
  topLines,
} from "./cpu_profile_summary.ts";

const node = (id: number, functionName: string, url = "") => ({
  id,
  callFrame: { functionName, url, lineNumber: 9 },
});

/** Samples of 1 ms each from t = 1,000 µs: idle, a router function, a native op, idle. */
const profile: CpuProfile = {
  nodes: [
    node(1, "(root)"),
    node(2, "(idle)"),
    node(3, "accept", "file:///repo/server/message_router.ts"),
    node(4, "op_write"),
    node(
      5,
      "pack",
      "file:///repo/node_modules/.deno/msgpackr@1.12.1/node_modules/msgpackr/pack.js",
    ),
  ],
  startTime: 1000,
  endTime: 7000,
  samples: [2, 3, 3, 4, 5, 2],
  timeDeltas: [0, 1000, 1000, 1000, 1000, 1000],
};

Deno.test("summarizeProfiles: self time by function and module, idle apart, profiles summed", () => {
  const s = summarizeProfiles([profile, profile], {});
  // Each sample counts the time to the next one (the last, idle, counts none).
  expect(s.totalMs).toBe(8);
  expect(s.idleMs).toBe(2);
  expect(Object.fromEntries(s.byModule)).toEqual({
    "server/message_router.ts": 4,
    "(native)": 2,
    "msgpackr@1.12.1": 2,
  });
  expect(s.byFunction.get("accept server/message_router.ts:10")).toBe(4);
  expect(Object.fromEntries(s.byPart)).toEqual({
    "server/": 4,
    "runtime (Deno, node: modules, ops)": 2,
    "dependencies (npm, wasm)": 2,
  });
});

Deno.test("summarizeProfiles: a module in a subfolder is named by its path from the folder", () => {
  const p: CpuProfile = {
    nodes: [node(1, "(root)"), node(2, "seal", "file:///repo/lib/crypto/aead.ts")],
    startTime: 0,
    endTime: 2000,
    samples: [2, 2],
    timeDeltas: [0, 1000],
  };
  const s = summarizeProfiles([p], {});
  expect(Object.fromEntries(s.byModule)).toEqual({ "lib/crypto/aead.ts": 1 });
  expect(Object.fromEntries(s.byPart)).toEqual({ "lib/": 1 });
});

Deno.test("partOf: the load generator apart from the client it drives, the runtime, GC, dependencies", () => {
  expect(partOf("perf/load_client.ts")).toBe("perf/ (the load generator)");
  expect(partOf("client/outbox.ts")).toBe("client/");
  expect(partOf("lib/framed_conn.ts")).toBe("lib/");
  expect(partOf("(garbage collector)")).toBe("(garbage collector)");
  expect(partOf("(native)")).toBe("runtime (Deno, node: modules, ops)");
  expect(partOf("ext:deno_node/internal")).toBe("runtime (Deno, node: modules, ops)");
  expect(partOf("node:buffer")).toBe("runtime (Deno, node: modules, ops)");
  expect(partOf("msgpackr@1.12.1")).toBe("dependencies (npm, wasm)");
  expect(partOf("wasm://wasm/000d89ce")).toBe("dependencies (npm, wasm)");
});

Deno.test("summarizeProfiles: only samples inside the window count", () => {
  // Samples at 1,000 (idle), 2,000 and 3,000 (accept), 4,000 (op_write), 5,000, 6,000.
  const s = summarizeProfiles([profile], { window: [2500, 4500] });
  expect(s.totalMs).toBe(2);
  expect(Object.fromEntries(s.byModule)).toEqual({ "server/message_router.ts": 1, "(native)": 1 });
});

Deno.test("topLines: largest first, with ms and share", () => {
  const lines = topLines(new Map([["small", 1], ["big", 3]]), 4, 1);
  expect(lines.length).toBe(1);
  expect(lines[0]).toContain("3.0 ms");
  expect(lines[0]).toContain("75.0 %");
  expect(lines[0]).toContain("big");
});

Deno.test("phaseBounds: from the phase's first sample to the next phase's first", () => {
  const csv = [
    "t_ms,phase,role,name,pid,start_ms,cpu_ms,rss_bytes",
    "100,warmup,server,srv-1,9,0,0,0",
    "200,messaging,server,srv-1,9,0,0,0",
    "300,messaging,server,srv-1,9,0,0,0",
    "450,after,server,srv-1,9,0,0,0",
    "",
  ].join("\n");
  expect(phaseBounds(csv, "messaging")).toEqual([200, 450]);
  expect(phaseBounds(csv, "idle")).toBe(null);
});

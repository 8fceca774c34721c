import { expect } from "expect";
import { parseRunArgs } from "./run_config.ts";
import { plannedWarmupMessages, rateLimitedNote } from "./setup_phases.ts";
import { peerSets } from "./peer_graph.ts";

Deno.test("rateLimitedNote: only when requests were refused", () => {
  expect(rateLimitedNote(0)).toBe("");
  expect(rateLimitedNote(3)).toBe(
    "; 3 request(s) refused RATE_LIMITED by the servers' per-address auth limit and retried",
  );
});

Deno.test("plannedWarmupMessages: one per distinct sender/recipient pair", () => {
  // Two clients: each has exactly one peer.
  expect(plannedWarmupMessages(parseRunArgs(["--clients", "2", "--messages", "5"]))).toBe(2);
  // One message each: one recipient each.
  expect(plannedWarmupMessages(parseRunArgs(["--clients", "7", "--messages", "1"]))).toBe(7);
  // Many messages among few clients: every pair.
  expect(plannedWarmupMessages(parseRunArgs(["--clients", "4", "--messages", "500"]))).toBe(12);
  // With --duration: the first 1000 picks of each client, here reaching every peer.
  const cfg = parseRunArgs(["--clients", "50", "--duration", "10s", "--seed", "s1"]);
  expect(plannedWarmupMessages(cfg)).toBe(50 * 49);
});

Deno.test("plannedWarmupMessages with --peers: within the peer sets, N*K with --duration", () => {
  // 1,000 clients, 8 peers each: 8,000 pairs rather than ~1,000,000.
  const big = parseRunArgs(["--clients", "1000", "--duration", "60s", "--peers", "8"]);
  expect(plannedWarmupMessages(big)).toBe(8000);
  // One message each: one recipient each, whatever K.
  expect(plannedWarmupMessages(parseRunArgs(["--clients", "9", "--messages", "1", "--peers", "2"])))
    .toBe(9);
  // Many messages: every peer of every client; odd K and odd N: one client has K + 1.
  const odd = parseRunArgs(["--clients", "9", "--messages", "500", "--peers", "3", "--seed", "o"]);
  const degrees = peerSets("o", 9, 3).reduce((a, s) => a + s.length, 0);
  expect(degrees).toBe(9 * 3 + 1);
  expect(plannedWarmupMessages(odd)).toBe(degrees);
});

import { expect } from "expect";
import { parseRunArgs } from "./run_config.ts";
import { plannedWarmupMessages, rateLimitedNote } from "./setup_phases.ts";

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

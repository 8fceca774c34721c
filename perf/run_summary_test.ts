import { expect } from "expect";
import type { ReconnectRecord } from "./kill_one.ts";
import type { WorkerProgress } from "./worker_protocol.ts";
import type { RunPhaseStats } from "./phase_stats.ts";
import { workerProgress } from "./worker_protocol.ts";
import { formatRunSummary } from "./run_summary.ts";

const final = (p: Partial<WorkerProgress>): WorkerProgress =>
  workerProgress({ doneSending: true, ...p });

const phases: RunPhaseStats = {
  register: { count: 4, ms: 1234.5, perSecond: 3.24 },
  login: { count: 4, ms: 250, perSecond: 16 },
  messaging: {
    startMs: 1000,
    endMs: 3500,
    lastSendMs: 3000,
    completed: true,
    drainTimedOut: false,
    cpuSeconds: {},
  },
};

Deno.test("formatRunSummary: phases, messages and the run directory", () => {
  expect(formatRunSummary({
    interrupted: false,
    phases,
    final: final({ sent: 80, received: 80 }),
    reconnect: null,
    runDir: "/tmp/run",
  })).toBe(
    "register 4 in 1.23 s (3.24/s); login 4 in 0.25 s (16/s)\n" +
      "sent 80, received 80, 32 msgs/s over 2.50 s\n" +
      "run directory: /tmp/run",
  );
});

Deno.test("formatRunSummary: interrupted, missing messages and errors", () => {
  expect(formatRunSummary({
    interrupted: true,
    phases: { messaging: phases.messaging },
    final: final({ sent: 80, received: 70, failed: 4, errors: 6 }),
    reconnect: null,
    runDir: "/tmp/run",
  })).toBe(
    "INTERRUPTED (partial results)\n" +
      "sent 80, received 70 (6 missing), 28 msgs/s over 2.50 s, 6 errors\n" +
      "run directory: /tmp/run",
  );
});

Deno.test("formatRunSummary: --kill-one outcome after reconnect.json without its users", () => {
  const reconnect: ReconnectRecord = {
    server: "srv-1",
    killedAtMs: 2000,
    clients: 2,
    disconnected: 2,
    reconnected: 2,
    allReconnected: true,
    recoveryMs: 850,
    reconnectMs: { p50: 800, p90: 850, max: 850 },
    detectMs: { p50: 1, max: 2 },
    reconnectedTo: { "srv-2": 2 },
    users: ["perf-x-0", "perf-x-1"],
    messages: null,
  };
  const out = formatRunSummary({
    interrupted: false,
    phases,
    final: final({ sent: 80, received: 80 }),
    reconnect,
    runDir: "/tmp/run",
  });
  const { users: _, ...shown } = reconnect;
  const json = JSON.stringify({ ...shown, users: "2 (see reconnect.json)" }, null, 2);
  expect(out.startsWith(json + "\n")).toBe(true);
  expect(out.slice(json.length + 1).split("\n")).toEqual([
    "register 4 in 1.23 s (3.24/s); login 4 in 0.25 s (16/s)",
    "sent 80, received 80, 32 msgs/s over 2.50 s",
    "kill-one: srv-1 (2 clients): all reconnected after 850 ms; lost ?, duplicated ?",
    "run directory: /tmp/run",
  ]);
  const partial = formatRunSummary({
    interrupted: false,
    phases: {},
    final: null,
    reconnect: {
      ...reconnect,
      allReconnected: false,
      reconnected: 1,
      messages: {
        sent: 9,
        received: 8,
        lost: 1,
        duplicated: 0,
        duplicateRows: 0,
        lostIds: ["m"],
        duplicatedIds: [],
        lostDetails: [],
      },
    },
    runDir: "/r",
  });
  expect(partial).toContain("\nkill-one: srv-1 (2 clients): 1 reconnected; lost 1, duplicated 0\n");
});

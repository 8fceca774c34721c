import { expect } from "expect";
import type { WorkerProgress } from "./worker_protocol.ts";
import { describeSendModel, MessagingEnd } from "./messaging_phase.ts";
import { workerProgress } from "./worker_protocol.ts";

Deno.test("describeSendModel: each send model as the go line shows it", () => {
  expect(describeSendModel({ kind: "window", window: 16 })).toBe("closed loop, window 16");
  expect(describeSendModel({ kind: "rate", perSecond: 500 })).toBe("open loop, 500 msg/s in total");
  expect(describeSendModel({ kind: "delay", delay: { dist: "const", ms: 10 } })).toBe(
    "open loop, delay const:10ms",
  );
  expect(describeSendModel({ kind: "delay", delay: { dist: "exp", meanMs: 12 } })).toBe(
    "open loop, delay exp:12ms",
  );
  expect(describeSendModel({ kind: "delay", delay: { dist: "normal", meanMs: 10, sdMs: 5 } }))
    .toBe("open loop, delay normal:10ms,5ms");
});

function progress(
  p: Partial<WorkerProgress> & { allDone: boolean },
): WorkerProgress & { allDone: boolean } {
  return { ...workerProgress({ doneSending: p.allDone, ...p }), allDone: p.allDone };
}

Deno.test("MessagingEnd: completed once all is sent and every message arrived or failed", () => {
  const end = new MessagingEnd(30_000);
  expect(end.check(progress({ allDone: false, sent: 10, received: 10 }), 1000, true)).toBeNull();
  expect(end.check(progress({ allDone: true, sent: 10, received: 9 }), 1100, true)).toBeNull();
  expect(end.check(progress({ allDone: true, sent: 10, received: 9, failed: 1 }), 1200, true))
    .toBe("completed");
});

Deno.test("MessagingEnd: --kill-one waits for every client of the killed server", () => {
  const end = new MessagingEnd(30_000);
  const p = progress({ allDone: true, sent: 10, received: 10, lastSendMs: 1000 });
  expect(end.check(p, 2000, false)).toBeNull();
  expect(end.check(p, 2100, true)).toBe("completed");
  // Clients still away past the drain time end it all the same.
  const away = new MessagingEnd(500);
  expect(away.check(p, 1600, false)).toBeNull();
  expect(away.check(p, 2101, false)).toBe("drain-timeout");
});

Deno.test("MessagingEnd: drain timeout counted from the last send or the first all-done reading", () => {
  const end = new MessagingEnd(5_000);
  const missing = progress({ allDone: true, sent: 10, received: 8, lastSendMs: 1000 });
  // All done first seen at 4000: the drain runs until 9000, not 6000.
  expect(end.check(missing, 4000, true)).toBeNull();
  expect(end.check(missing, 9000, true)).toBeNull();
  expect(end.check(missing, 9001, true)).toBe("drain-timeout");
  // A send after that moment moves the deadline.
  const late = progress({ allDone: true, sent: 10, received: 8, lastSendMs: 8000 });
  expect(end.check(late, 12_000, true)).toBeNull();
  expect(end.check(late, 13_001, true)).toBe("drain-timeout");
});

Deno.test("MessagingEnd: a group message is complete once each of its N-1 receptions arrived", () => {
  const end = new MessagingEnd(30_000, 9); // groups of 10
  expect(end.check(progress({ allDone: true, sent: 10, received: 10 }), 1000, true)).toBeNull();
  expect(end.check(progress({ allDone: true, sent: 10, received: 89 }), 1100, true)).toBeNull();
  expect(end.check(progress({ allDone: true, sent: 10, received: 81, failed: 1 }), 1200, true))
    .toBe("completed");
});

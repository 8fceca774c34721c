import { expect } from "expect";
import { IssueLog } from "./issue_log.ts";

Deno.test("IssueLog counts tickets issued at or after a time, per server", () => {
  const log = new IssueLog();
  for (const t of [10, 20, 20, 30]) log.record("a", t);
  log.record("b", 25);
  expect(log.countSince("a", 0)).toBe(4);
  expect(log.countSince("a", 20)).toBe(3);
  expect(log.countSince("a", 21)).toBe(1);
  expect(log.countSince("a", 31)).toBe(0);
  expect(log.countSince("b", 25)).toBe(1);
  expect(log.countSince("c", 0)).toBe(0);
  expect(log.size).toBe(5);
});

Deno.test("IssueLog.prune drops old times and departed servers", () => {
  const log = new IssueLog(100);
  for (const t of [0, 50, 150, 200]) log.record("a", t);
  log.record("gone", 200);
  log.prune(220, new Set(["a"]));
  expect(log.countSince("a", 0)).toBe(2); // 150 and 200 are within 100 ms of 220
  expect(log.countSince("gone", 0)).toBe(0);
  expect(log.size).toBe(2);
});

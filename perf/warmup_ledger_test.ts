import { expect } from "expect";
import { WarmupLedger } from "./warmup_ledger.ts";

Deno.test("WarmupLedger: a receipt counts once, only for a warm-up message sent", () => {
  const ledger = new WarmupLedger();
  ledger.sent("m1", "bob");
  ledger.sent("m2", "carol");
  expect(ledger.missing()).toContainEqual(["bob", "m1"]);
  expect(ledger.receipt("other")).toBe(false);
  expect(ledger.receipt("m1")).toBe(true);
  expect(ledger.receipt("m1")).toBe(false); // a stored receipt shown again
  expect(ledger.missing()).not.toContainEqual(["bob", "m1"]);
  expect(ledger.missing()).toEqual([["carol", "m2"]]);
});

Deno.test("WarmupLedger: a sent confirmation is noted for awaited messages until their receipt", () => {
  const ledger = new WarmupLedger();
  ledger.sent("m1", "bob");
  expect(ledger.confirmed("m1")).toBe(false);
  expect(ledger.confirm("m1")).toBe(true);
  expect(ledger.confirmed("m1")).toBe(true);
  expect(ledger.confirm("timed-1")).toBe(false); // not a warm-up message: recorded as timed
  expect(ledger.confirmed("timed-1")).toBe(false);
  expect(ledger.receipt("m1")).toBe(true);
  expect(ledger.confirmed("m1")).toBe(false);
  expect(ledger.confirm("m1")).toBe(false); // a late "sent" after the receipt
});

Deno.test("WarmupLedger: what was displayed, until the warm-up is over; disconnects", () => {
  const ledger = new WarmupLedger();
  ledger.displayed("alice", "m1");
  expect(ledger.shown("alice", "m1")).toBe(true);
  expect(ledger.shown("alice", "m2")).toBe(false);
  expect(ledger.shown("bob", "m1")).toBe(false);
  ledger.clearShown();
  expect(ledger.shown("alice", "m1")).toBe(false);
  ledger.disconnected();
  ledger.disconnected();
  expect(ledger.disconnects).toBe(2);
});

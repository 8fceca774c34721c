/** ConnectionCaps counts per address and in total; refusals at the caps; idempotent release. */
import { expect } from "expect";
import { ConnectionCaps, DEFAULT_PREAUTH_CAPS } from "./connection_caps.ts";

Deno.test("ConnectionCaps: per-address cap refuses the extra one; release frees it once", () => {
  const caps = new ConnectionCaps({ maxTotal: 10, maxPerAddress: 2 });
  const a1 = caps.admit("10.0.0.1")!;
  const a2 = caps.admit("10.0.0.1")!;
  expect(a1).not.toBeNull();
  expect(a2).not.toBeNull();
  expect(caps.admit("10.0.0.1")).toBeNull();
  expect(caps.admit("10.0.0.2")).not.toBeNull(); // another address
  expect(caps.countOf("10.0.0.1")).toBe(2);
  a1.release();
  a1.release(); // idempotent: frees one place only
  expect(caps.countOf("10.0.0.1")).toBe(1);
  expect(caps.total).toBe(2);
  expect(caps.admit("10.0.0.1")).not.toBeNull();
  expect(caps.admit("10.0.0.1")).toBeNull();
  expect(caps.refused).toBe(2);
});

Deno.test("ConnectionCaps: the total cap holds across addresses; empty addresses are forgotten", () => {
  const caps = new ConnectionCaps({ maxTotal: 3, maxPerAddress: 3 });
  const slots = ["a", "b", "c"].map((addr) => caps.admit(addr)!);
  expect(caps.admit("d")).toBeNull();
  for (const s of slots) s.release();
  expect(caps.total).toBe(0);
  expect(caps.countOf("a")).toBe(0);
  expect(caps.admit("d")).not.toBeNull();
});

Deno.test("ConnectionCaps: limits must be positive integers; defaults 1000 / 32", () => {
  expect(() => new ConnectionCaps({ maxTotal: 0, maxPerAddress: 1 })).toThrow(RangeError);
  expect(() => new ConnectionCaps({ maxTotal: 1, maxPerAddress: 1.5 })).toThrow(RangeError);
  expect(DEFAULT_PREAUTH_CAPS).toEqual({ maxTotal: 1000, maxPerAddress: 32 });
});

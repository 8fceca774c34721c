import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { AddressLimiter } from "./address_limiter.ts";

Deno.test("AddressLimiter allows a burst, then the rate", () => {
  let now = 0;
  const l = new AddressLimiter({ rate: 2, burst: 3, clock: () => now });
  expect([l.take("a"), l.take("a"), l.take("a"), l.take("a")]).toEqual([true, true, true, false]);
  expect(l.waitMs("a")).toBe(500);
  expect(l.take("b")).toBe(true); // addresses are independent
  now = 500;
  expect(l.take("a")).toBe(true);
  expect(l.take("a")).toBe(false);
  now = 100_000;
  expect(l.waitMs("a")).toBe(0);
  expect([l.take("a"), l.take("a"), l.take("a"), l.take("a")]).toEqual([true, true, true, false]);
});

Deno.test("AddressLimiter with rate 0 never limits", () => {
  const l = new AddressLimiter({ rate: 0 });
  for (let i = 0; i < 1000; i++) expect(l.take("a")).toBe(true);
  expect(l.waitMs("a")).toBe(0);
  expect(l.size).toBe(0);
});

Deno.test("AddressLimiter forgets the least recently used address when full", () => {
  const l = new AddressLimiter({ rate: 1, burst: 1, maxAddresses: 2, clock: () => 0 });
  l.take("a");
  l.take("b");
  l.take("a"); // a is now the most recent
  l.take("c"); // evicts b
  expect(l.size).toBe(2);
  expect(l.take("a")).toBe(false); // still remembered, still empty
  expect(l.take("b")).toBe(true); // forgotten: a fresh bucket
});

Deno.test("AddressLimiter rejects a bad rate", () => {
  expect(() => new AddressLimiter({ rate: -1 })).toThrow(FastChatError);
  expect(() => new AddressLimiter({ rate: NaN })).toThrow(FastChatError);
});

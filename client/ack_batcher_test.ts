import { expect } from "expect";
import { AckBatcher } from "./ack_batcher.ts";

/** A source that records when it was flushed. */
function source(name: string, order: string[]) {
  return { flushAcks: () => order.push(name) };
}

Deno.test("AckBatcher: every scheduled source flushes in one turn, once, after the delay", async () => {
  const acks = new AckBatcher(1);
  const order: string[] = [];
  const a = source("a", order);
  const b = source("b", order);
  acks.schedule(a);
  acks.schedule(b);
  acks.schedule(a); // already waiting: flushed once
  expect(acks.waiting).toBe(2);
  await Promise.resolve();
  expect(order).toEqual([]); // not within the current turn
  const flushed = Promise.withResolvers<void>();
  acks.schedule({ flushAcks: () => flushed.resolve() });
  await flushed.promise;
  expect(order).toEqual(["a", "b"]);
  expect(acks.waiting).toBe(0);
});

Deno.test("AckBatcher: cancelling the last waiting source stops the timer", () => {
  const acks = new AckBatcher(60_000);
  const order: string[] = [];
  const a = source("a", order);
  const b = source("b", order);
  acks.schedule(a);
  acks.schedule(b);
  acks.cancel(a);
  expect(acks.waiting).toBe(1);
  acks.cancel(b);
  acks.cancel(b); // not waiting: nothing to do
  expect(acks.waiting).toBe(0);
  expect(order).toEqual([]);
  // The op sanitizer fails this test if the 60 s timer were still armed.
});

Deno.test("AckBatcher: two batchers keep separate state", async () => {
  const one = new AckBatcher(1);
  const two = new AckBatcher(60_000);
  const order: string[] = [];
  const done = Promise.withResolvers<void>();
  one.schedule({ flushAcks: () => (order.push("one"), done.resolve()) });
  const b = source("two", order);
  two.schedule(b);
  await done.promise;
  expect(order).toEqual(["one"]);
  expect(two.waiting).toBe(1);
  two.cancel(b);
});

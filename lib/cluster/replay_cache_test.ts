import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { ReplayCache } from "./replay_cache.ts";

Deno.test("ReplayCache remembers a key until its deadline", () => {
  const c = new ReplayCache();
  expect(c.add("a", 100, 0)).toBe("added");
  expect(c.add("a", 100, 50)).toBe("replayed");
  expect(c.has("a", 99)).toBe(true);
  expect(c.has("a", 100)).toBe(false);
  expect(c.add("a", 200, 100)).toBe("added"); // evicted at its deadline
  expect(c.size).toBe(1);
});

Deno.test("ReplayCache evicts expired entries in deadline order", () => {
  const c = new ReplayCache();
  const deadlines = Array.from({ length: 500 }, () => Math.floor(Math.random() * 1000) + 1);
  deadlines.forEach((d, i) => expect(c.add(`k${i}`, d, 0)).toBe("added"));
  for (let t = 0; t <= 1000; t += 37) {
    c.sweep(t);
    expect(c.size).toBe(deadlines.filter((d) => d > t).length);
    const next = c.nextDeadline();
    if (next !== undefined) expect(next).toBe(Math.min(...deadlines.filter((d) => d > t)));
  }
});

Deno.test("ReplayCache refuses new keys when full of live ones (fail closed)", () => {
  const c = new ReplayCache({ maxEntries: 3 });
  expect(c.add("a", 10, 0)).toBe("added");
  expect(c.add("b", 20, 0)).toBe("added");
  expect(c.add("c", 30, 0)).toBe("added");
  expect(c.add("d", 40, 5)).toBe("full");
  expect(c.add("a", 40, 5)).toBe("replayed"); // live entries are never dropped
  expect(c.nextDeadline()).toBe(10);
  expect(c.add("d", 40, 10)).toBe("added"); // "a" expired, room again
  expect(c.size).toBe(3);
});

Deno.test("ReplayCache ignores already-dead keys and validates options", () => {
  const c = new ReplayCache({ maxEntries: 1 });
  expect(c.add("old", 5, 10)).toBe("added");
  expect(c.size).toBe(0);
  c.add("x", 50, 10);
  c.clear();
  expect(c.size).toBe(0);
  expect(c.nextDeadline()).toBeUndefined();
  for (const maxEntries of [0, -1, 1.5, NaN]) {
    expect(() => new ReplayCache({ maxEntries })).toThrow(FastChatError);
  }
});

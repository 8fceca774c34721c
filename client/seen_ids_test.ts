/** SeenIds: per-sender ids, repeats counted once, the bound. */
import { expect } from "expect";
import { SeenIds } from "./seen_ids.ts";

Deno.test("SeenIds: an id is seen for its sender only, repeats are counted once", () => {
  const seen = new SeenIds();
  expect(seen.has("alice", "m1")).toBe(false);
  seen.add("alice", "m1");
  seen.add("alice", "m1");
  expect(seen.size).toBe(1);
  expect(seen.has("alice", "m1")).toBe(true);
  expect(seen.has("bob", "m1")).toBe(false);
  // A name and an id that would concatenate alike stay apart.
  seen.add("a\nb", "c");
  expect(seen.has("a", "b\nc")).toBe(false);
  seen.clear();
  expect(seen.size).toBe(0);
  expect(seen.has("alice", "m1")).toBe(false);
});

Deno.test("SeenIds: when full it starts over with the new entry", () => {
  const seen = new SeenIds(3);
  for (const id of ["1", "2", "3"]) seen.add("a", id);
  expect(seen.size).toBe(3);
  seen.add("b", "4");
  expect(seen.size).toBe(1);
  expect(seen.has("a", "1")).toBe(false);
  expect(seen.has("b", "4")).toBe(true);
});

Deno.test("SeenIds: 100,000 ids of 50 senders are all found, 100,000 others are not", () => {
  const seen = new SeenIds();
  const ids = Array.from({ length: 100_000 }, () => crypto.randomUUID().slice(0, 22));
  const from = (i: number) => `user-${i % 50}`;
  ids.forEach((id, i) => seen.add(from(i), id));
  expect(seen.size).toBe(100_000);
  expect(ids.every((id, i) => seen.has(from(i), id))).toBe(true);
  // The same ids from the next sender, and fresh ids: none was shown.
  expect(ids.some((id, i) => seen.has(from(i + 1), id))).toBe(false);
  expect(ids.some((id, i) => seen.has(from(i), id + "_1"))).toBe(false);
  // Adding them again changes nothing.
  ids.forEach((id, i) => seen.add(from(i), id));
  expect(seen.size).toBe(100_000);
  seen.clear();
  expect(ids.some((id, i) => seen.has(from(i), id))).toBe(false);
  seen.add("a", "b");
  expect(seen.has("a", "b")).toBe(true);
});

Deno.test("SeenIds: names and ids that differ only by where they split, or by length, stay apart", () => {
  const seen = new SeenIds();
  seen.add("ab", "c");
  expect(seen.has("a", "bc")).toBe(false);
  expect(seen.has("abc", "")).toBe(false);
  seen.add("", "x");
  expect(seen.has("x", "")).toBe(false);
  seen.add("u", "\u0000");
  expect(seen.has("u", "")).toBe(false);
  expect(seen.has("u", "\u0000\u0000")).toBe(false);
  seen.add("ü", "é");
  expect(seen.has("ü", "é")).toBe(true);
  expect(seen.has("u", "e")).toBe(false);
});

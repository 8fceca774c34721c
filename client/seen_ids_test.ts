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

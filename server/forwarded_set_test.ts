import { expect } from "expect";
import { ForwardedSet } from "./forwarded_set.ts";

Deno.test("ForwardedSet: an ack counts only from the server the message went to, once", () => {
  const s = new ForwardedSet();
  s.add("fc-2", "alice", "m-1");
  expect(s.take("fc-3", "alice", "m-1")).toEqual(false);
  expect(s.take("fc-2", "bob", "m-1")).toEqual(false);
  expect(s.take("fc-2", "alice", "m-1")).toEqual(true);
  expect(s.take("fc-2", "alice", "m-1")).toEqual(false);
  expect(s.size).toEqual(0);
});

Deno.test("ForwardedSet: fields cannot run into each other", () => {
  const s = new ForwardedSet();
  s.add("a", "b\nc", "d");
  expect(s.take("a\nb", "c", "d")).toEqual(false);
  expect(s.take("a", "b\nc", "d")).toEqual(true);
});

Deno.test("ForwardedSet: past the bound the older half is forgotten, re-adding keeps its place", () => {
  const s = new ForwardedSet(4);
  s.add("p", "u", "1");
  s.add("p", "u", "2");
  s.add("p", "u", "1"); // already there: does not refresh or grow
  expect(s.size).toEqual(2);
  s.add("p", "u", "3"); // 1 and 2 are the older half now
  s.add("p", "u", "4");
  s.add("p", "u", "2"); // still held, in the older half: no change
  expect(s.size).toEqual(4);
  s.add("p", "u", "5"); // 1 and 2 are forgotten
  expect(s.size).toEqual(3);
  expect([s.take("p", "u", "1"), s.take("p", "u", "2")]).toEqual([false, false]);
  expect([s.take("p", "u", "3"), s.take("p", "u", "4"), s.take("p", "u", "5")]).toEqual([
    true,
    true,
    true,
  ]);
  expect(s.size).toEqual(0);
});

Deno.test("ForwardedSet: a bound below 2 still remembers the newest", () => {
  for (const max of [0, 1, -5, 1.5]) {
    const s = new ForwardedSet(max);
    s.add("p", "u", "1");
    s.add("p", "u", "2");
    s.add("p", "u", "3");
    expect(s.size).toEqual(2);
    expect([s.take("p", "u", "1"), s.take("p", "u", "3"), s.take("p", "u", "2")]).toEqual([
      false,
      true,
      true,
    ]);
  }
});

Deno.test("ForwardedSet: one id forwarded to two servers, or sent by two senders, is two entries", () => {
  const s = new ForwardedSet();
  s.add("fc-2", "alice", "m-1");
  s.add("fc-3", "alice", "m-1"); // bob has sessions on both
  s.add("fc-3", "alice", "m-1"); // again: no change
  s.add("fc-2", "mallory", "m-1"); // another sender chose the same id
  expect(s.size).toEqual(2); // messages, not servers
  expect(s.take("fc-4", "alice", "m-1")).toEqual(false);
  expect(s.take("fc-3", "alice", "m-1")).toEqual(true);
  expect(s.take("fc-3", "alice", "m-1")).toEqual(false);
  expect(s.take("fc-2", "mallory", "m-1")).toEqual(true);
  expect(s.size).toEqual(1);
  expect(s.take("fc-2", "alice", "m-1")).toEqual(true);
  expect(s.size).toEqual(0);
  s.add("fc-2", "alice", "m-1"); // the id is free again
  expect(s.take("fc-2", "alice", "m-1")).toEqual(true);
});

Deno.test("ForwardedSet: three servers for one message, taken in any order", () => {
  const s = new ForwardedSet();
  for (const server of ["fc-2", "fc-3", "fc-4"]) s.add(server, "alice", "m-1");
  expect(s.take("fc-3", "alice", "m-1")).toEqual(true);
  expect(s.take("fc-3", "alice", "m-1")).toEqual(false);
  s.add("fc-3", "alice", "m-1"); // forwarded again after a resync
  expect(["fc-4", "fc-2", "fc-3", "fc-2"].map((p) => s.take(p, "alice", "m-1"))).toEqual([
    true,
    true,
    true,
    false,
  ]);
  expect(s.size).toEqual(0);
});

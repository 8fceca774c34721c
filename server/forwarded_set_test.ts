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

Deno.test("ForwardedSet: past the bound the oldest is forgotten first, re-adding keeps its place", () => {
  const s = new ForwardedSet(3);
  s.add("p", "u", "1");
  s.add("p", "u", "2");
  s.add("p", "u", "1"); // already there: does not refresh or grow
  s.add("p", "u", "3");
  s.add("p", "u", "4"); // evicts 1
  expect(s.size).toEqual(3);
  expect(s.take("p", "u", "1")).toEqual(false);
  expect([s.take("p", "u", "2"), s.take("p", "u", "3"), s.take("p", "u", "4")]).toEqual([
    true,
    true,
    true,
  ]);
});

Deno.test("ForwardedSet: a bound below 1 still remembers the newest", () => {
  const s = new ForwardedSet(0);
  s.add("p", "u", "1");
  s.add("p", "u", "2");
  expect(s.size).toEqual(1);
  expect(s.take("p", "u", "2")).toEqual(true);
});

Deno.test("ForwardedSet: one id forwarded to two servers, or sent by two senders, is two entries", () => {
  const s = new ForwardedSet();
  s.add("fc-2", "alice", "m-1");
  s.add("fc-3", "alice", "m-1"); // bob has sessions on both
  s.add("fc-2", "mallory", "m-1"); // another sender chose the same id
  expect(s.size).toEqual(3);
  expect(s.take("fc-3", "alice", "m-1")).toEqual(true);
  expect(s.take("fc-3", "alice", "m-1")).toEqual(false);
  expect(s.take("fc-2", "mallory", "m-1")).toEqual(true);
  expect(s.take("fc-2", "alice", "m-1")).toEqual(true);
  expect(s.size).toEqual(0);
  s.add("fc-2", "alice", "m-1"); // the id is free again
  expect(s.take("fc-2", "alice", "m-1")).toEqual(true);
});

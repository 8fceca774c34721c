import { expect } from "expect";

const assertEquals = (actual: unknown, expected: unknown) => expect(actual).toEqual(expected);
import { MessageKeyMap } from "./message_key_map.ts";

Deno.test("MessageKeyMap keeps (sender, id) pairs apart when senders share an id", () => {
  const m = new MessageKeyMap<string>();
  m.set("alice", "m-1", "a");
  m.set("bob", "m-1", "b");
  m.set("carol", "m-1", "c");
  m.set("alice", "m-2", "a2");
  assertEquals(m.size, 4);
  assertEquals([m.get("alice", "m-1"), m.get("bob", "m-1"), m.get("carol", "m-1")], [
    "a",
    "b",
    "c",
  ]);
  assertEquals(m.get("dave", "m-1"), undefined);
  assertEquals(m.has("bob", "m-1"), true);
  assertEquals(m.has("bob", "m-2"), false);
  // "a\nb" + "c" must not meet "a" + "b\nc": nothing is concatenated.
  m.set("x\ny", "z", "1");
  assertEquals(m.get("x", "y\nz"), undefined);
  // Deleting from the middle, the head and the tail of a chain.
  assertEquals(m.delete("bob", "m-1"), true);
  assertEquals(m.delete("bob", "m-1"), false);
  assertEquals(m.get("alice", "m-1"), "a");
  assertEquals(m.get("carol", "m-1"), "c");
  assertEquals(m.delete("carol", "m-1"), true);
  assertEquals(m.delete("alice", "m-1"), true);
  assertEquals(m.get("alice", "m-1"), undefined);
  assertEquals(m.size, 2);
});

Deno.test("MessageKeyMap.set replaces a pair's value without growing", () => {
  const m = new MessageKeyMap<number>();
  m.set("alice", "m-1", 1);
  m.set("bob", "m-1", 2);
  m.set("alice", "m-1", 3);
  assertEquals(m.size, 2);
  assertEquals(m.get("alice", "m-1"), 3);
  assertEquals(m.get("bob", "m-1"), 2);
});

Deno.test("MessageKeyMap.deleteOldest removes in insertion order of ids, then nothing", () => {
  const m = new MessageKeyMap<number>();
  m.set("alice", "m-1", 1);
  m.set("alice", "m-2", 2);
  m.set("bob", "m-1", 3);
  assertEquals(m.deleteOldest(), true); // an entry of id m-1
  assertEquals(m.deleteOldest(), true); // the other entry of m-1
  assertEquals([m.has("alice", "m-1"), m.has("bob", "m-1"), m.get("alice", "m-2")], [
    false,
    false,
    2,
  ]);
  assertEquals(m.deleteOldest(), true);
  assertEquals(m.deleteOldest(), false);
  assertEquals(m.size, 0);
  m.set("a", "b", 1);
  m.clear();
  assertEquals([m.size, m.get("a", "b")], [0, undefined]);
});

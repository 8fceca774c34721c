import { expect } from "expect";
import type { ClientEvent } from "@fastchat/client/chat_client";
import { WireInbox } from "./wire_inbox.ts";

const body = new Uint8Array(8);
const msg = (from: string, id: string) =>
  ({ t: "msg", id, from, to: "me", kind: "dm", ts: 5, body }) as const;

function inbox() {
  const events: ClientEvent[] = [];
  return { events, inbox: new WireInbox("xyz", (e) => events.push(e)) };
}

Deno.test("wire inbox: a message resent by a resync is shown once and acknowledged each time", () => {
  const { events, inbox: box } = inbox();
  expect(box.push(msg("bob", "m1"))).toBe(true);
  expect(box.push(msg("bob", "m1"))).toBe(true); // the copy a resync sends
  expect(box.push(msg("carol", "m1"))).toBe(true); // another sender's id
  expect(events).toEqual([
    { event: "message", id: "m1", from: "bob", to: "me", text: "xyz", sent_at: 5 },
    { event: "message", id: "m1", from: "carol", to: "me", text: "xyz", sent_at: 5 },
  ]);
  expect(box.takeAcks()).toEqual({
    acks: [["bob", "m1"], ["bob", "m1"], ["carol", "m1"]],
    racks: [],
  });
  expect(box.takeAcks()).toEqual({ acks: [], racks: [] });
});

Deno.test("wire inbox: each send is confirmed once and receipted once, whatever the order and copies", () => {
  const { events, inbox: box } = inbox();
  box.sent("a", "bob");
  box.sent("b", "bob");
  expect(box.unreceipted).toBe(2);
  expect(box.push({ t: "sent", ids: ["a"] })).toBe(false);
  expect(box.push({ t: "sent", ids: ["a"] })).toBe(false);
  // "b" is receipted before its "sent": the receipt confirms it.
  expect(box.push({ t: "delivered", items: [["bob", "b"], ["bob", "a"]] })).toBe(false);
  expect(box.push({ t: "sent", ids: ["b"] })).toBe(false);
  // A resync sends the stored receipts again: no event, but each is acknowledged.
  expect(box.push({ t: "delivered", items: [["bob", "a"], ["bob", "b"]], stored: true }))
    .toBe(true);
  expect(box.push({ t: "delivered", items: [["bob", "zz"]], stored: true })).toBe(true);
  expect(events.map((e) => [e.event, (e as { id: string }).id])).toEqual([
    ["sent", "a"],
    ["sent", "b"],
    ["delivered", "b"],
    ["delivered", "a"],
  ]);
  expect(events.filter((e) => e.event === "sent")).toEqual([
    { event: "sent", id: "a", to: "bob" },
    { event: "sent", id: "b", to: "bob" },
  ]);
  expect(box.unreceipted).toBe(0);
  expect(box.takeAcks()).toEqual({
    acks: [],
    racks: [["bob", "a"], ["bob", "b"], ["bob", "zz"]],
  });
});

Deno.test("wire inbox: errors are reported; group messages and other frames are ignored", () => {
  const { events, inbox: box } = inbox();
  box.sent("mine", "carol");
  expect(box.push({ t: "error", code: "RATE_LIMITED", message: "slow down", id: "q" }))
    .toBe(false);
  expect(box.push({ t: "error", code: "UNKNOWN_USER", message: "who?", id: "mine" }))
    .toBe(false);
  expect(box.push({ ...msg("bob", "g1"), kind: "group" })).toBe(false);
  expect(box.push({ t: "pong", rid: 1 })).toBe(false);
  expect(events).toEqual([
    { event: "error", code: "RATE_LIMITED", message: "slow down", id: "q" },
    { event: "error", code: "UNKNOWN_USER", message: "who?", id: "mine", to: "carol" },
  ]);
  expect(box.takeAcks()).toEqual({ acks: [], racks: [] });
});

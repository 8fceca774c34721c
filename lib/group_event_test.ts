import { expect } from "expect";
import { codeOf } from "@fastchat/testing";
import { decodeGroupEvent, encodeGroupEvent, MAX_GROUP_EVENT_BYTES } from "./group_event.ts";

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

Deno.test("group events round-trip", () => {
  const members = Array.from({ length: 1000 }, (_, i) => `user${i}`);
  const body = encodeGroupEvent("team", { change: "created", user: "user0", by: "user0", members });
  expect(decodeGroupEvent(body)).toEqual({
    group: "team",
    change: "created",
    user: "user0",
    by: "user0",
    members,
  });
  expect(decodeGroupEvent(encodeGroupEvent("t", { change: "left", user: "b", by: "b" })))
    .toEqual({ group: "t", change: "left", user: "b", by: "b" });
});

Deno.test("malformed group events are refused before use", () => {
  const ok = { group: "team", change: "added", user: "bob", by: "alice" };
  expect(decodeGroupEvent(enc(ok))).toEqual(ok);
  expect(codeOf(() => decodeGroupEvent(enc({ ...ok, change: "exploded" })))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeGroupEvent(enc({ ...ok, group: "Bad Name" })))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeGroupEvent(enc({ ...ok, user: 7 })))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeGroupEvent(enc([ok])))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeGroupEvent(new Uint8Array([0xff, 0xfe])))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeGroupEvent(new Uint8Array(MAX_GROUP_EVENT_BYTES + 1)))).toBe(
    "BAD_REQUEST",
  );
  expect(codeOf(() => decodeGroupEvent(enc({ ...ok, extra: "x" })))).toBe("BAD_REQUEST");
});

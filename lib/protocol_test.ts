import { expect } from "expect";
import { FastChatError } from "./errors.ts";
import { msgpackCodec } from "./msgpack_codec.ts";
import { decodeClientFrame, decodeServerFrame, encodePayload } from "./protocol.ts";
import { codeOf } from "@fastchat/testing/assert_code";

const raw = msgpackCodec();

const send = {
  t: "send",
  id: "abcdefgh1234",
  to: "bob",
  kind: "dm",
  ts: 1700000000000,
  body: new Uint8Array([1, 2, 3]),
};

Deno.test("protocol: valid frames round-trip", () => {
  expect(decodeClientFrame(encodePayload({ t: "ping", rid: 5 }))).toEqual({ t: "ping", rid: 5 });
  const got = decodeClientFrame(raw.pack(send));
  expect(got.t).toBe("send");
  expect([...(got as typeof send).body]).toEqual([1, 2, 3]);
  const ack = decodeClientFrame(raw.pack({ t: "ack", items: [["alice", "abcdefgh1234"]] }));
  expect(ack).toEqual({ t: "ack", items: [["alice", "abcdefgh1234"]] });
  const welcome = decodeServerFrame(encodePayload({ t: "welcome", v: 1, server: "s1", max: 4096 }));
  expect(welcome.t).toBe("welcome");
});

Deno.test("protocol: malformed frames get stable codes", () => {
  expect(codeOf(() => decodeClientFrame(new Uint8Array([0xc1])))).toBe("BAD_FRAME");
  expect(codeOf(() => decodeClientFrame(raw.pack([1, 2])))).toBe("BAD_FRAME");
  expect(codeOf(() => decodeClientFrame(raw.pack("hello")))).toBe("BAD_FRAME");
  expect(codeOf(() => decodeClientFrame(raw.pack({ t: "nope" })))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeClientFrame(raw.pack({ t: "__proto__" })))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeClientFrame(raw.pack({ t: "ping" })))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeClientFrame(raw.pack({ t: "ping", rid: "1" })))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeClientFrame(raw.pack({ t: "ping", rid: 1, x: 2 })))).toBe(
    "BAD_REQUEST",
  );
  expect(codeOf(() => decodeClientFrame(raw.pack({ ...send, to: "Bob!" })))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeClientFrame(raw.pack({ ...send, to: "a".repeat(33) })))).toBe(
    "BAD_REQUEST",
  );
  expect(codeOf(() => decodeClientFrame(raw.pack({ ...send, kind: "smoke" })))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeClientFrame(raw.pack({ ...send, id: "short" })))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeClientFrame(raw.pack({ ...send, body: "text" })))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeClientFrame(raw.pack({ ...send, ts: -1 })))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeClientFrame(raw.pack({ ...send, ts: 1.5 })))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeClientFrame(raw.pack({ t: "ack", items: [] })))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeClientFrame(raw.pack({ t: "ack", items: [["a"]] })))).toBe(
    "BAD_REQUEST",
  );
});

Deno.test("protocol: the error names the offending field", () => {
  try {
    decodeClientFrame(raw.pack({ ...send, to: "NOPE" }));
  } catch (e) {
    expect((e as FastChatError).details?.field).toBe("to");
  }
});

Deno.test("protocol: a nested error names its path (built only for the item that fails)", () => {
  const ok = ["alice", "m-00000001"];
  const fieldOf = (frame: unknown) => {
    try {
      decodeClientFrame(raw.pack(frame));
    } catch (e) {
      return (e as FastChatError).details?.field;
    }
    return "accepted";
  };
  expect(fieldOf({ t: "ack", items: [ok, ok] })).toBe("accepted");
  expect(fieldOf({ t: "ack", items: [ok, ["alice", "bad id!"]] })).toBe("items[1][1]");
  expect(fieldOf({ t: "ack", items: [ok, ok, ["alice"]] })).toBe("items[2]");
  expect(fieldOf({ t: "ack", items: [ok], groups: [["Bob!", "m-00000001"]] })).toBe("groups[0][0]");
});

Deno.test("protocol fuzz: random and mutated payloads only raise FastChatError", () => {
  let seed = 99;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const valid = raw.pack(send);
  for (let i = 0; i < 3000; i++) {
    let buf: Uint8Array;
    if (i % 2 === 0) {
      buf = new Uint8Array(Math.floor(rand() * 200));
      for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256);
    } else {
      buf = valid.slice();
      const flips = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < flips; k++) {
        buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
      }
    }
    try {
      const f = decodeClientFrame(buf);
      // Whatever survives must be a fully valid frame.
      expect(typeof f.t).toBe("string");
    } catch (e) {
      expect(e).toBeInstanceOf(FastChatError);
    }
  }
});

Deno.test("protocol: group and file frames are validated", () => {
  const ok = (f: Record<string, unknown>) => decodeClientFrame(encodePayload(f as never));
  const bad = (f: Record<string, unknown>) => codeOf(() => decodeClientFrame(raw.pack(f)));
  const file = "AbCdEfGhIjKlMnOpQrStUv";
  expect(ok({ t: "group", rid: 1, op: "create", group: "team", users: ["bob"] }).t).toBe("group");
  expect(bad({ t: "group", rid: 1, op: "explode", group: "team" })).toBe("BAD_REQUEST");
  expect(bad({ t: "group", rid: 1, op: "add", group: "Team!" })).toBe("BAD_REQUEST");
  expect(ok({ t: "upload", rid: 2, file, bytes: 1000, chunks: 1 }).t).toBe("upload");
  expect(bad({ t: "upload", rid: 2, file: "short", bytes: 1000, chunks: 1 })).toBe("BAD_REQUEST");
  expect(bad({ t: "upload", rid: 2, file, bytes: -1, chunks: 1 })).toBe("BAD_REQUEST");
  expect(ok({ t: "chunk", rid: 3, file, idx: 0, data: new Uint8Array(100) }).t).toBe("chunk");
  expect(bad({ t: "chunk", rid: 3, file, idx: 0, data: new Uint8Array(256 * 1024 + 29) }))
    .toBe("BAD_REQUEST");
  expect(ok({ t: "fetch", rid: 4, file, from: 0, count: 3 }).t).toBe("fetch");
  expect(bad({ t: "fetch", rid: 4, file, from: 0, count: 4 })).toBe("BAD_REQUEST");
  expect(ok({ t: "ack", items: [], groups: [["alice", "m-00000001"]] }).t).toBe("ack");
  expect(bad({ t: "ack", items: [], groups: [] })).toBe("BAD_REQUEST");
  const send = {
    t: "send",
    id: "m-00000001",
    to: "team",
    kind: "group",
    ts: 1,
    body: new Uint8Array(1),
  };
  expect(ok(send).t).toBe("send");
  expect(bad({ ...send, kind: "event" })).toBe("BAD_REQUEST"); // only servers write events
  expect(ok({ ...send, file }).t).toBe("send");
  const ev = {
    t: "msg",
    id: "ev0123456789",
    from: "alice",
    to: "team",
    kind: "event",
    ts: 1,
    body: new Uint8Array(1),
  };
  expect(decodeServerFrame(encodePayload(ev as never)).t).toBe("msg");
});

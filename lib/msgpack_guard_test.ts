import { expect } from "expect";
import { checkMsgpack } from "./msgpack_guard.ts";
import { msgpackBombs } from "./msgpack_bombs.ts";
import { msgpackCodec } from "./msgpack_codec.ts";
import { decodeClientFrame, decodeServerFrame, encodePayload } from "./protocol.ts";
import { codeOf } from "@fastchat/testing/assert_code";

const packr = msgpackCodec({ compactMaps: true });

Deno.test("checkMsgpack accepts what our encoders write, at the depth they need", () => {
  const values = [
    { t: "ack", items: [["alice", "m-00000001"], ["bob", "m-00000002"]] },
    { t: "send", id: "m-00000001", body: new Uint8Array(300), ts: 2 ** 40, n: -5, f: 1.5 },
    { s: "x".repeat(70_000), b: new Uint8Array(70_000), a: new Array(300).fill(1) },
    { m: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])) },
    { t: "x", big: 2 ** 63, neg: -(2 ** 40), yes: true, no: false, nil: null },
    { t: "error", rid: undefined, code: "X" }, // msgpackr writes undefined as fixext1 0/0
  ];
  for (const v of values) checkMsgpack(packr.pack(v), { maxDepth: 3 });
});

Deno.test("checkMsgpack refuses every structured bomb with BAD_FRAME, in O(n)", () => {
  for (const [name, bytes] of msgpackBombs()) {
    expect({ name, code: codeOf(() => checkMsgpack(bytes, { maxDepth: 3 })) })
      .toEqual({ name, code: "BAD_FRAME" });
  }
});

Deno.test("checkMsgpack: depth limit, trailing bytes, truncation", () => {
  const nested = packr.pack({ a: [[1]] });
  expect(codeOf(() => checkMsgpack(nested, { maxDepth: 3 }))).toBeUndefined();
  expect(codeOf(() => checkMsgpack(nested, { maxDepth: 2 }))).toBe("BAD_FRAME");
  const ok = packr.pack({ t: "ping", rid: 1 });
  expect(codeOf(() => checkMsgpack(new Uint8Array([...ok, 0xc0]), { maxDepth: 1 })))
    .toBe("BAD_FRAME");
  for (let cut = 0; cut < ok.length; cut++) {
    expect(codeOf(() => checkMsgpack(ok.subarray(0, cut), { maxDepth: 1 }))).toBe("BAD_FRAME");
  }
});

Deno.test("frame decoders refuse the bombs before msgpackr allocates", () => {
  for (const [name, bytes] of msgpackBombs()) {
    expect({ name, code: codeOf(() => decodeClientFrame(bytes)) }).toEqual({
      name,
      code: "BAD_FRAME",
    });
    expect({ name, code: codeOf(() => decodeServerFrame(bytes)) }).toEqual({
      name,
      code: "BAD_FRAME",
    });
  }
  // and still decode real frames
  expect(decodeClientFrame(encodePayload({ t: "ping", rid: 7 }))).toEqual({ t: "ping", rid: 7 });
});

Deno.test("a frame type that is not a string is BAD_REQUEST (a uint64 `t` once threw a TypeError)", () => {
  // {"t": uint64 1} — found by `deno task fuzz`
  const bytes = new Uint8Array([0x81, 0xa1, 0x74, 0xcf, 0, 0, 0, 0, 0, 0, 0, 1]);
  expect(codeOf(() => decodeClientFrame(bytes))).toBe("BAD_REQUEST");
  expect(codeOf(() => decodeServerFrame(bytes))).toBe("BAD_REQUEST");
});

import { expect } from "expect";
import { FlatMapEncoder, MAX_FLAT_FRAME_BYTES } from "./flat_map_encoder.ts";
import { msgpackCodec } from "./msgpack_codec.ts";
import {
  hexOf,
  msgFrameFixture,
  MSGPACK_NUMBERS,
  seededRandom,
} from "@fastchat/testing/frame_fixtures";

const KEYS = ["t", "id", "from", "to", "kind", "ts", "body", "items", "ids", "stored", "n", "a"];
const compact = new FlatMapEncoder(KEYS, { compactMaps: true });
const fixed = new FlatMapEncoder(KEYS);
const packCompact = msgpackCodec({ compactMaps: true });
const packFixed = msgpackCodec();

const hex = hexOf;

/** Both encoders give msgpackr's bytes for `frame`. */
function expectSameAsMsgpackr(frame: Record<string, unknown>): void {
  expect(hex(compact.encode(frame))).toBe(hex(packCompact.pack(frame)));
  expect(hex(fixed.encode(frame))).toBe(hex(packFixed.pack(frame)));
}

const msg = msgFrameFixture();
const NUMBERS = MSGPACK_NUMBERS;

Deno.test("FlatMapEncoder writes msgpackr's bytes for the hot frames and every scalar", () => {
  expectSameAsMsgpackr(msg);
  expectSameAsMsgpackr({ ...msg, t: "send", body: new Uint8Array(0) });
  expectSameAsMsgpackr({
    t: "ack",
    items: [["alice", "AAAAAAAAAAAAAAAAAAAAAA"], ["carol", "B-2"]],
  });
  expectSameAsMsgpackr({ t: "sent", ids: ["a", "b", "c"] });
  expectSameAsMsgpackr({ t: "delivered", items: [["bob", "x"]], stored: true });
  expectSameAsMsgpackr({ t: "ping" });
  expectSameAsMsgpackr({});
  expectSameAsMsgpackr({ t: "n", n: [...NUMBERS, null, true, false] });
  for (const n of NUMBERS) expectSameAsMsgpackr({ n });
  for (const len of [0, 31, 32, 255, 256, 4000]) {
    expectSameAsMsgpackr({ t: "x".repeat(len), body: new Uint8Array(len).fill(len & 0xff) });
    if (len <= 256) expectSameAsMsgpackr({ ids: Array.from({ length: len }, (_, i) => i) });
  }
});

Deno.test("FlatMapEncoder returns null for what msgpackr must encode, and changes nothing", () => {
  const before = hex(compact.encode(msg));
  const refused: unknown[] = [
    { t: "msg", user: "x" }, // a key not listed
    { t: "msg", a: { nested: 1 } },
    { t: "héllo" }, // non-ASCII
    { t: "msg", id: undefined },
    { t: "msg", n: 10n },
    { t: "msg", n: new Date(0) },
    { t: "msg", n: new Map() },
    { t: "msg", n: new Uint16Array(2) },
    { n: [[[1]]] }, // arrays three deep
    { n: [1, , 3] }, // a hole is undefined
    { body: new Uint8Array(MAX_FLAT_FRAME_BYTES) }, // too large
    { ids: Array.from({ length: 2000 }, () => "x".repeat(8)) }, // too large, item by item
    Object.create(null),
    new (class Frame {
      t = "msg";
    })(),
    [1, 2],
  ];
  for (const frame of refused) {
    expect(compact.encode(frame as object)).toBeNull();
    expect(fixed.encode(frame as object)).toBeNull();
    packCompact.pack(frame); // msgpackr takes each of them
  }
  const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]));
  const many = new FlatMapEncoder(Object.keys(sixteen), { compactMaps: true });
  expect(many.encode(sixteen)).toBeNull(); // more than a fixmap holds
  expect(hex(new FlatMapEncoder(Object.keys(sixteen)).encode(sixteen))).toBe(
    hex(packFixed.pack(sixteen)),
  );
  expect(hex(compact.encode(msg))).toBe(before);
});

Deno.test("FlatMapEncoder results are never written again", () => {
  const first = compact.encode({ t: "a", ids: ["x"] })!;
  const copy = first.slice();
  for (let i = 0; i < 1000; i++) compact.encode({ t: "b".repeat(i % 40), ids: ["y", "z"] });
  expect(first).toEqual(copy);
});

Deno.test("FlatMapEncoder agrees with msgpackr on 20,000 random frames", () => {
  const rand = seededRandom(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const ascii = () =>
    Array.from(
      { length: pick([0, 1, 5, 22, 31, 32, 40, 255, 256]) },
      () => String.fromCharCode(32 + Math.floor(rand() * 95)),
    ).join("");
  const scalar = (): unknown => {
    switch (Math.floor(rand() * 6)) {
      case 0:
        return pick(NUMBERS);
      case 1:
        return Math.floor((rand() - 0.5) * 2 ** (1 + Math.floor(rand() * 52)));
      case 2:
        return ascii();
      case 3:
        return new Uint8Array(pick([0, 1, 100, 255, 256, 3000])).fill(9);
      case 4:
        return pick([null, true, false]);
      default:
        return rand() < 0.05 ? "ünïcode" : rand() * 1e6;
    }
  };
  const value = (depth: number): unknown =>
    depth < 3 && rand() < 0.25
      ? Array.from({ length: pick([0, 1, 2, 15, 16]) }, () => value(depth + 1))
      : scalar();
  let encoded = 0;
  for (let i = 0; i < 20_000; i++) {
    const frame: Record<string, unknown> = {};
    for (let k = pick([0, 1, 3, 7]); k > 0; k--) frame[pick(KEYS)] = value(0);
    const mine = compact.encode(frame);
    const theirs = packCompact.pack(frame);
    if (mine === null) continue;
    encoded++;
    expect(hex(mine)).toBe(hex(theirs));
    expect(hex(fixed.encode(frame))).toBe(hex(packFixed.pack(frame)));
  }
  expect(encoded).toBeGreaterThan(5000); // most shapes are encoded here, not left to msgpackr
});

Deno.test("FlatMapEncoder with a larger maxBytes writes msgpackr's 32-bit headers too", () => {
  const big = new FlatMapEncoder(KEYS, { compactMaps: true, maxBytes: 1 << 20 });
  for (
    const frame of [
      { t: "x".repeat(70_000) },
      { body: new Uint8Array(70_000).fill(5) },
      { ids: Array.from({ length: 70_000 }, (_, i) => i & 0x7f) },
      { items: [["a", new Uint8Array(300)], ["b", new Uint8Array(20_000)]] },
    ]
  ) {
    expect(hex(big.encode(frame))).toBe(hex(packCompact.pack(frame)));
    expect(compact.encode(frame)).toBeNull(); // over the default 8 KiB
  }
  expect(big.encode({ body: new Uint8Array((1 << 20) + 1) })).toBeNull();
  expect(() => new FlatMapEncoder(KEYS, { maxBytes: 2 ** 25 })).toThrow(RangeError);
});

Deno.test("FlatMapEncoder refuses keys it cannot list", () => {
  expect(() => new FlatMapEncoder([""])).toThrow(RangeError);
  expect(() => new FlatMapEncoder(["x".repeat(32)])).toThrow(RangeError);
  expect(() => new FlatMapEncoder(["ké"])).toThrow(RangeError);
});

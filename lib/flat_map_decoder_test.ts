import { expect } from "expect";
import { Packr } from "msgpackr";
import { FlatMapDecoder } from "./flat_map_decoder.ts";
import { msgpackCodec } from "./msgpack_codec.ts";
import { msgFrameFixture, MSGPACK_NUMBERS, seededRandom } from "@fastchat/testing/frame_fixtures";

const codec = msgpackCodec();
const KEYS = ["t", "id", "from", "to", "kind", "ts", "body", "items", "ids", "stored", "n", "a"];
const dec = new FlatMapDecoder(KEYS);
/** The same keys, with the values of some interned. */
const idec = new FlatMapDecoder(KEYS, ["t", "from", "to", "kind", "a"]);
/** The same keys, with the names in `items` pairs and two positions of `n` tuples interned. */
const tdec = new FlatMapDecoder(KEYS, ["t"], { items: [0], n: [0, 2] });
const reference = (b: Uint8Array) =>
  new Packr({ useRecords: false, mapsAsObjects: true }).unpack(b);

const msg = msgFrameFixture();
const frames: Record<string, unknown>[] = [
  msg,
  { ...msg, t: "send", body: new Uint8Array(10) },
  { t: "ack", items: [["alice", "AAAAAAAAAAAAAAAAAAAAAA"], ["carol", "BBBBBBBBBBBBBBBBBBBBBB-2"]] },
  { t: "sent", ids: ["a", "b", "c"] },
  { t: "delivered", items: [["bob", "x"]], stored: true },
  { t: "ping" },
  {
    t: "n",
    n: [...MSGPACK_NUMBERS, null, true, false],
  },
  { t: "", a: "x".repeat(31), id: "y".repeat(32), to: "z".repeat(255), from: "w".repeat(256) },
  { t: "a", a: [[1, [2]].slice(0, 1), []] },
];

Deno.test("FlatMapDecoder: protocol-shaped frames decode to exactly what msgpackr gives", () => {
  for (const f of frames) {
    const bytes = codec.pack(f);
    const got = dec.decode(bytes);
    expect(got).not.toBeNull();
    expect(got).toEqual(reference(bytes));
  }
  // a large frame (msgpackr's fresh-key path) with a binary: a view of the input, like msgpackr's
  const bytes = codec.pack(msg);
  expect(bytes.length).toBeGreaterThan(180);
  const body = dec.decode(bytes)!.body as Uint8Array;
  expect(body.buffer).toBe(bytes.buffer);
});

Deno.test("FlatMapDecoder: map16 headers and the three binary widths", () => {
  const many: Record<string, unknown> = { t: "x" };
  const big = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: false });
  for (const [k, n] of [["a", 5], ["n", 300], ["body", 70_000]] as const) {
    many[k] = new Uint8Array(n).fill(1);
  }
  const bytes = big.pack(many);
  expect(dec.decode(bytes)).toEqual(reference(bytes));
  // map16 written by hand: {"t": "m"}
  const m16 = new Uint8Array([0xde, 0x00, 0x01, 0xa1, 0x74, 0xa1, 0x6d]);
  expect(dec.decode(m16)).toEqual({ t: "m" });
});

Deno.test("FlatMapDecoder: anything else is null, for msgpackr to judge", () => {
  const no = (v: unknown) => expect(dec.decode(codec.pack(v))).toBeNull();
  no({ t: "x", user: "u" }); // key not listed
  no({ t: "x", a: { b: 1 } }); // nested map
  no({ t: "x", a: "é" }); // not ASCII
  no({ t: "x", a: "x".repeat(257) }); // long string
  expect(dec.decode(codec.pack({ t: "x", a: 2 ** 40 }))).toEqual({ t: "x", a: 2 ** 40 }); // msgpackr: float64
  no({ t: "x", a: [[[1]]] }); // arrays three deep
  no(["t", "x"]); // not a map
  no("t");
  expect(dec.decode(new Uint8Array(0))).toBeNull();
  const ok = codec.pack({ t: "x" });
  expect(dec.decode(new Uint8Array([...ok, 0xc0]))).toBeNull(); // trailing bytes
  expect(dec.decode(ok.subarray(0, ok.length - 1))).toBeNull(); // truncated
  expect(dec.decode(new Uint8Array([0x81, 0xa1, 0x74, 0xca, 0, 0, 0, 0]))).toBeNull(); // float32
  expect(dec.decode(new Uint8Array([0x81, 0xa1, 0x74, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0]))).toBeNull(); // uint64
  expect(dec.decode(new Uint8Array([0x81, 0xa1, 0x74, 0xd4, 0, 0]))).toBeNull(); // extension
  expect(dec.decode(new Uint8Array([0x81, 0x01, 0xa1, 0x74]))).toBeNull(); // a key that is no string
  expect(() => new FlatMapDecoder(["toolong"])).toThrow(RangeError);
  expect(() => new FlatMapDecoder([""])).toThrow(RangeError);
});

Deno.test("FlatMapDecoder fuzz: changed and cut frames decode as msgpackr does, or not at all", () => {
  const r = seededRandom(42);
  let decoded = 0;
  for (let i = 0; i < 20_000; i++) {
    const src = codec.pack(frames[Math.floor(r() * frames.length)]);
    const b = src.slice(0, r() < 0.2 ? Math.floor(r() * src.length) : src.length);
    for (let k = 1 + Math.floor(r() * 3); k > 0 && b.length > 0; k--) {
      b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    }
    const got = dec.decode(b);
    expect(idec.decode(b)).toEqual(got); // interning changes no value
    expect(tdec.decode(b)).toEqual(got);
    if (got === null) continue;
    decoded++;
    let want: unknown;
    try {
      want = reference(b);
    } catch (e) {
      throw new Error(`decoded what msgpackr refuses (${e}): ${[...b]}`);
    }
    expect(got).toEqual(want);
  }
  expect(decoded).toBeGreaterThan(1000); // the property was exercised
});

Deno.test("FlatMapDecoder: interned values are one instance, whatever collides", () => {
  const bytes = codec.pack(msg);
  const a = idec.decode(bytes)!, b = idec.decode(bytes.slice())!;
  expect(a).toEqual(reference(bytes));
  for (const k of ["t", "from", "to", "kind"]) expect(Object.is(a[k], b[k])).toBe(true);
  expect(a.id).toBe(b.id); // equal, but not interned: ids do not repeat
  // More distinct values than slots (the cache pauses for the key): each still decodes to itself.
  for (let i = 0; i < 80_000; i++) {
    const name = `user-${i}`;
    expect(idec.decode(codec.pack({ t: "x", from: name, a: i }))).toEqual({
      t: "x",
      from: name,
      a: i,
    });
  }
  // Interned keys whose values are no short ASCII string decode as usual.
  for (const v of [7, null, "", "é", "y".repeat(40), new Uint8Array(3), ["a"]]) {
    const f = { t: "x", a: v };
    const p = codec.pack(f);
    expect(idec.decode(p)).toEqual(dec.decode(p));
  }
  // A cut after an interned value's header is no frame.
  const cut = codec.pack({ t: "x", from: "alice" });
  expect(idec.decode(cut.subarray(0, cut.length - 2))).toBeNull();
  expect(() => new FlatMapDecoder(["t"], ["from"])).toThrow(RangeError); // not listed
});

Deno.test("FlatMapDecoder: names at listed tuple positions are one instance; nothing else changes", () => {
  const ack = {
    t: "ack",
    items: [["alice", "AAAAAAAAAAAAAAAAAAAAAA"], ["bob", "BBBBBBBBBBBBBBBBBBBBBB"]],
  };
  const a = tdec.decode(codec.pack(ack))!, b = tdec.decode(codec.pack(ack))!;
  expect(a).toEqual(ack);
  const [pa, pb] = [a.items as string[][], b.items as string[][]];
  expect(Object.is(pa[0][0], pb[0][0]) && Object.is(pa[1][0], pb[1][0])).toBe(true);
  expect(pa[0][1]).toBe(pb[0][1]); // equal ids, not interned
  // Positions 0 and 2 of each `n` tuple; odd items (numbers, bytes, nested lists) as usual.
  for (
    const n of [
      [["x", "y", "z"], ["x", 1, null]],
      [[new Uint8Array(2), "é", "w".repeat(40)]],
      [[["deep"]]], // a list in a tuple is a third level: refused, as without interning
      [[[]]],
      ["flat", "list"],
      [],
    ]
  ) {
    const p = codec.pack({ t: "x", n });
    expect(tdec.decode(p)).toEqual(dec.decode(p));
  }
  expect(dec.decode(codec.pack({ t: "x", n: [[["deep"]]] }))).toBeNull();
  expect(() => new FlatMapDecoder(["t"], [], { items: [0] })).toThrow(RangeError); // not listed
  expect(() => new FlatMapDecoder(["items"], [], { items: [16] })).toThrow(RangeError);
});

import { expect } from "expect";
import { BinaryReader, BinaryWriter, canonicalBytes, canonicalBytesView } from "./codec.ts";
import { codeOf } from "@fastchat/testing/assert_code";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("canonicalBytes is unambiguous", () => {
  const a = canonicalBytes("d", ["ab", "c"]);
  const b = canonicalBytes("d", ["a", "bc"]);
  const c = canonicalBytes("d", ["1"]);
  const d = canonicalBytes("d", [1]);
  const e = canonicalBytes("d", [new TextEncoder().encode("1")]);
  const f = canonicalBytes("e", ["1"]);
  const g = canonicalBytes("d", ["1", ""]);
  const all = [a, b, c, d, e, f, g].map(hex);
  expect(new Set(all).size).toBe(all.length);
  expect(canonicalBytes("d", ["ab", "c"])).toEqual(a);
});

Deno.test("canonicalBytes known layout", () => {
  expect(hex(canonicalBytes("x", ["y", 2, new Uint8Array([7])]))).toBe(
    "00000001" + "78" + "00000003" +
      "02" + "00000001" + "79" +
      "03" + "00000008" + "0000000000000002" +
      "01" + "00000001" + "07",
  );
});

Deno.test("canonicalBytes matches the BinaryWriter layout for any input", () => {
  const reference = (domain: string, fields: (string | number | Uint8Array)[]) => {
    const w = new BinaryWriter();
    w.bytes32(new TextEncoder().encode(domain));
    w.u32(fields.length);
    for (const f of fields) {
      if (typeof f === "string") {
        w.u8(2);
        w.bytes32(new TextEncoder().encode(f));
      } else if (typeof f === "number") {
        w.u8(3);
        w.u32(8);
        w.u64(f);
      } else {
        w.u8(1);
        w.bytes32(f);
      }
    }
    return w.finish();
  };
  const cases: [string, (string | number | Uint8Array)[]][] = [
    ["fastchat/msg/v1", ["dm", "alice", "bob", "AAAAAAAAAAAAAAAAAAAAAA", 1_700_000_000_123, "kid"]],
    ["é/ü", ["naïve café", "日本語", "emoji 😀 mixed", "", "a".repeat(5000)]],
    ["d", [0, 1, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER]],
    ["d", [new Uint8Array(0), new Uint8Array(3000).fill(9), "x\u0000y"]],
  ];
  for (const [domain, fields] of cases) {
    expect(hex(canonicalBytes(domain, fields))).toBe(hex(reference(domain, fields)));
  }
  // Results are independent copies, not views of a shared buffer.
  const one = canonicalBytes("d", ["one"]);
  canonicalBytes("d", ["two"]);
  expect(hex(one)).toBe(hex(reference("d", ["one"])));
});

Deno.test("canonicalBytes rejects non-integer or negative numbers", () => {
  for (const n of [-1, 1.5, NaN, Number.MAX_SAFE_INTEGER + 1]) {
    expect(codeOf(() => canonicalBytes("d", [n]))).toBe("BAD_REQUEST");
  }
  expect(codeOf(() => canonicalBytes("d", [{} as unknown as string]))).toBe("BAD_REQUEST");
});

Deno.test("BinaryWriter/BinaryReader round trip and grow", () => {
  const w = new BinaryWriter();
  const big = new Uint8Array(1000).fill(7);
  w.u8(255);
  w.u16(65535);
  w.u32(0xffffffff);
  w.u64(Number.MAX_SAFE_INTEGER);
  w.str16("héllo");
  w.bytes16(big);
  w.bytes32(new Uint8Array([1, 2]));
  w.raw(new Uint8Array([9]));
  const r = new BinaryReader(w.finish());
  expect(r.u8()).toBe(255);
  expect(r.u16()).toBe(65535);
  expect(r.u32()).toBe(0xffffffff);
  expect(r.u64()).toBe(Number.MAX_SAFE_INTEGER);
  expect(r.str16()).toBe("héllo");
  expect(r.bytes16()).toEqual(big);
  expect(r.bytes32()).toEqual(new Uint8Array([1, 2]));
  expect(r.raw(1)).toEqual(new Uint8Array([9]));
  r.end();
});

Deno.test("BinaryReader rejects truncation, trailing bytes, unsafe u64, bad UTF-8", () => {
  expect(codeOf(() => new BinaryReader(new Uint8Array([0, 5, 1])).bytes16())).toBe("BAD_REQUEST");
  expect(codeOf(() => new BinaryReader(new Uint8Array([1])).u16())).toBe("BAD_REQUEST");
  const r = new BinaryReader(new Uint8Array([1, 2]));
  r.u8();
  expect(codeOf(() => r.end())).toBe("BAD_REQUEST");
  expect(codeOf(() => new BinaryReader(new Uint8Array(8).fill(0xff)).u64())).toBe("BAD_REQUEST");
  expect(codeOf(() => new BinaryReader(new Uint8Array([0, 1, 0xff])).str16())).toBe(
    "BAD_REQUEST",
  );
  const w = new BinaryWriter();
  expect(codeOf(() => w.u8(256))).toBe("BAD_REQUEST");
  expect(codeOf(() => w.bytes16(new Uint8Array(65536)))).toBe("BAD_REQUEST");
});

Deno.test("BinaryReader works on a subarray view", () => {
  const outer = new Uint8Array([0xaa, 0, 2, 0xbb, 0xcc, 0xdd]);
  const r = new BinaryReader(outer.subarray(1, 5));
  expect(r.bytes16()).toEqual(new Uint8Array([0xbb, 0xcc]));
  r.end();
});

Deno.test("BinaryWriter integers survive buffer growth", () => {
  const w = new BinaryWriter();
  for (let i = 0; i < 1000; i++) {
    w.u8(i & 0xff);
    w.u16(i);
    w.u32(i * 1000);
    w.u64(i * 1e9);
  }
  const r = new BinaryReader(w.finish());
  for (let i = 0; i < 1000; i++) {
    expect([r.u8(), r.u16(), r.u32(), r.u64()]).toEqual([i & 0xff, i, i * 1000, i * 1e9]);
  }
  r.end();
});

Deno.test("BinaryReader refuses declared lengths beyond the bytes present, before allocating", () => {
  // bytes32 declaring 2^32-1 bytes with 6 present: refused before any copy
  // of the declared size is made (a 4 GiB copy would throw RangeError).
  const lying32 = new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6]);
  const lying16 = new Uint8Array([0xff, 0xff, 1, 2, 3]);
  expect(codeOf(() => new BinaryReader(lying32).bytes32())).toBe("BAD_REQUEST");
  expect(codeOf(() => new BinaryReader(lying16).str16())).toBe("BAD_REQUEST");
  // A view never reads past its end into the bytes of the buffer around it.
  const outer = new Uint8Array(64).fill(7);
  outer.set([0, 40], 10);
  expect(codeOf(() => new BinaryReader(outer.subarray(10, 20)).bytes16())).toBe("BAD_REQUEST");
});

Deno.test("canonicalBytesView: the same bytes as canonicalBytes, also when the scratch buffer grows", () => {
  for (const size of [1, 100, 5000, 70_000]) {
    const fields = ["dm", "alice", "x".repeat(size), 1700000000000, new Uint8Array(size)];
    const copy = canonicalBytes("fastchat/test/v1", fields);
    expect(canonicalBytesView("fastchat/test/v1", fields).slice()).toEqual(copy);
  }
});

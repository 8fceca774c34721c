import { expect } from "expect";
import { AsciiInterner, MAX_INTERNED_LENGTH } from "./ascii_interner.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("AsciiInterner: the same bytes give the same instance, wherever they lie", () => {
  const interner = new AsciiInterner(64);
  const a = interner.read(bytes("xxkid-0123456789yy"), 2, 14);
  const b = interner.read(bytes("kid-0123456789"), 0, 14);
  expect(a).toBe("kid-0123456789");
  expect(b).toBe(a);
  expect(interner.hits).toBe(1);
});

Deno.test("AsciiInterner: other bytes in the same slot replace it and are read right", () => {
  const interner = new AsciiInterner(1); // every string in the one slot
  const seen = ["kid-aaaaaaaa", "kid-aaaaaaab", "kid-aaaaaaaa", "k", "kid-aaaaaaab"];
  for (const s of seen) expect(interner.read(bytes(s), 0, s.length)).toBe(s);
  expect(interner.hits).toBe(0);
  // Same length, last byte differs: compared to the end, not taken for the cached one.
  expect(interner.read(bytes("kid-aaaaaaac"), 0, 12)).toBe("kid-aaaaaaac");
  expect(interner.read(bytes("kid-aaaaaaac"), 0, 12)).toBe("kid-aaaaaaac");
  expect(interner.hits).toBe(1);
});

Deno.test("AsciiInterner: empty and overlong strings are read, overlong ones not cached", () => {
  const interner = new AsciiInterner(16);
  expect(interner.read(new Uint8Array(0), 0, 0)).toBe("");
  expect(interner.read(new Uint8Array(0), 0, 0)).toBe("");
  expect(interner.hits).toBe(1);
  const long = "x".repeat(MAX_INTERNED_LENGTH + 1);
  expect(interner.read(bytes(long), 0, long.length)).toBe(long);
  expect(interner.read(bytes(long), 0, long.length)).toBe(long);
  expect(interner.hits).toBe(1); // the long string's second read is not a hit
});

Deno.test("AsciiInterner: the slot count must be a power of two", () => {
  for (const bad of [0, 3, 1.5, -4]) expect(() => new AsciiInterner(bad)).toThrow(RangeError);
});

Deno.test("AsciiInterner: a byte that is not ASCII gives null and caches nothing", () => {
  const interner = new AsciiInterner(16);
  expect(interner.read(bytes("kid-é"), 0, 6)).toBeNull();
  expect(interner.read(bytes("x".repeat(70) + "é"), 0, 72)).toBeNull(); // overlong too
  expect(interner.read(bytes("kid-e"), 0, 5)).toBe("kid-e");
  expect(interner.hits).toBe(0);
});

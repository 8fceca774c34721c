import { expect } from "expect";
import sodium from "libsodium-wrappers";
import { ByteSlab } from "../byte_slab.ts";
import { createCipheriv, createDecipheriv } from "node:crypto";
import {
  chachaOpen,
  chachaSeal,
  XCHACHA_TAG_BYTES,
  xchachaOpen,
  xchachaSeal,
} from "./xchacha_arena.ts";

const rand = (n: number) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, i + 65536));
  return b;
};
const slab = new ByteSlab();

Deno.test("xchacha_arena: the same bytes as libsodium-wrappers, both ways, for many sizes", () => {
  for (const [m, a] of [[0, 0], [1, 0], [100, 60], [130, 61], [2000, 5], [70_000, 300]]) {
    const key = rand(32), nonce = rand(24), pt = rand(m), aad = rand(a);
    const ct = xchachaSeal(slab, pt, aad, nonce, key);
    const ref = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, aad, null, nonce, key);
    expect(ct.length).toBe(m + XCHACHA_TAG_BYTES);
    expect(sodium.to_hex(ct)).toBe(sodium.to_hex(ref));
    expect(sodium.to_hex(xchachaOpen(slab, ref, aad, nonce, key)!)).toBe(sodium.to_hex(pt));
  }
});

Deno.test("xchacha_arena: any changed byte, key, nonce or AAD opens to null", () => {
  const key = rand(32), nonce = rand(24), aad = rand(40), pt = rand(100);
  const ct = xchachaSeal(slab, pt, aad, nonce, key);
  for (const i of [0, 50, ct.length - 1]) {
    const bad = ct.slice();
    bad[i] ^= 1;
    expect(xchachaOpen(slab, bad, aad, nonce, key)).toBeNull();
  }
  const flip = (b: Uint8Array) => {
    const c = b.slice();
    c[3] ^= 0x80;
    return c;
  };
  expect(xchachaOpen(slab, ct, flip(aad), nonce, key)).toBeNull();
  expect(xchachaOpen(slab, ct, aad, flip(nonce), key)).toBeNull();
  expect(xchachaOpen(slab, ct, aad, nonce, flip(key))).toBeNull();
  expect(xchachaOpen(slab, ct.subarray(0, XCHACHA_TAG_BYTES - 1), aad, nonce, key)).toBeNull();
  expect(xchachaOpen(slab, ct.subarray(0, ct.length - 1), aad, nonce, key)).toBeNull();
  // and it still opens when nothing changed
  expect([...xchachaOpen(slab, ct, aad, nonce, key)!]).toEqual([...pt]);
});

Deno.test("xchacha_arena: outputs are fresh views; wrong key or nonce sizes throw", () => {
  const key = rand(32), nonce = rand(24), aad = new Uint8Array(0);
  const a = xchachaSeal(slab, new Uint8Array([1, 2, 3]), aad, nonce, key);
  const keep = [...a];
  const b = xchachaSeal(slab, new Uint8Array([4, 5, 6]), aad, nonce, key);
  expect([...a]).toEqual(keep); // the second call wrote elsewhere
  expect(b.byteOffset).not.toBe(a.byteOffset);
  expect(() => xchachaSeal(slab, a, aad, nonce, rand(31))).toThrow(RangeError);
  expect(() => xchachaSeal(slab, a, aad, rand(12), key)).toThrow(RangeError);
  expect(() => xchachaOpen(slab, a, aad, nonce, rand(33))).toThrow(RangeError);
});

Deno.test("xchacha_arena: chachaSeal is node:crypto's chacha20-poly1305 (RFC 8439), both ways", () => {
  for (const [m, a] of [[0, 0], [1, 0], [200, 0], [3000, 17], [70_000, 0]]) {
    const key = rand(32), nonce = rand(12), pt = rand(m), aad = rand(a);
    const ct = chachaSeal(slab, pt, aad, nonce, key);
    const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
    if (a > 0) c.setAAD(aad, { plaintextLength: m });
    const ref = new Uint8Array([...c.update(pt), ...c.final(), ...c.getAuthTag()]);
    expect(sodium.to_hex(ct)).toBe(sodium.to_hex(ref));
    expect(sodium.to_hex(chachaOpen(slab, ref, aad, nonce, key)!)).toBe(sodium.to_hex(pt));
    const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
    if (a > 0) d.setAAD(aad, { plaintextLength: m });
    d.setAuthTag(ct.subarray(m));
    expect(sodium.to_hex(new Uint8Array([...d.update(ct.subarray(0, m)), ...d.final()])))
      .toBe(sodium.to_hex(pt));
  }
});

Deno.test("xchacha_arena: chachaOpen refuses changed bytes and wrong sizes", () => {
  const key = rand(32), nonce = rand(12), pt = rand(64);
  const ct = chachaSeal(slab, pt, new Uint8Array(0), nonce, key);
  const bad = ct.slice();
  bad[ct.length - 1] ^= 1;
  expect(chachaOpen(slab, bad, new Uint8Array(0), nonce, key)).toBeNull();
  const otherNonce = nonce.slice();
  otherNonce[11] ^= 1;
  expect(chachaOpen(slab, ct, new Uint8Array(0), otherNonce, key)).toBeNull();
  expect(() => chachaSeal(slab, pt, new Uint8Array(0), rand(24), key)).toThrow(RangeError);
  expect(() => xchachaSeal(slab, pt, new Uint8Array(0), nonce, key)).toThrow(RangeError);
  expect(() => chachaOpen(slab, ct, new Uint8Array(0), nonce, rand(16))).toThrow(RangeError);
});

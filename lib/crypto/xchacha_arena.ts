/**
 * XChaCha20-Poly1305 (IETF), and ChaCha20-Poly1305 as RFC 8439 defines it
 * (the servers' peer links), through libsodium's WebAssembly exports and one
 * scratch region of its memory, with the output written into a
 * {@link ByteSlab} view.
 *
 * Why not the `libsodium-wrappers` functions: each of their calls mallocs
 * and frees five buffers in the WebAssembly heap and returns a fresh
 * `Uint8Array`. The AEAD work on a 130-byte chat message is ~0.85 µs here;
 * the call through the wrapper measured 5.9–6.4 µs of CPU, almost all of it
 * the fresh output array (an `ArrayBuffer` costs 1.5–3 µs in this runtime,
 * see `lib/byte_slab.ts`). Same inputs, same bytes out: the tests check
 * this module against the wrapper both ways.
 *
 * The key is copied into the scratch region for the call and wiped after
 * it. Inputs larger than the region make it grow (it is never smaller than
 * 64 KiB).
 *
 * @example
 * ```ts
 * import { ByteSlab } from "@fastchat/lib/byte_slab";
 * import { xchachaOpen, xchachaSeal } from "@fastchat/lib/crypto/xchacha_arena";
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const nonce = crypto.getRandomValues(new Uint8Array(24));
 * const slab = new ByteSlab();
 * const aad = new Uint8Array([1, 2]);
 * const ct = xchachaSeal(slab, new TextEncoder().encode("hi"), aad, nonce, key);
 * new TextDecoder().decode(xchachaOpen(slab, ct, aad, nonce, key)!); // "hi"
 * ```
 * @module
 */

import sodium from "libsodium-wrappers";
import type { ByteSlab } from "../byte_slab.ts";

await sodium.ready;

/** The raw exports used here (libsodium compiled by Emscripten, 64-bit lengths split in two). */
interface SodiumExports {
  HEAPU8: Uint8Array;
  _malloc(n: number): number;
  _free(p: number): void;
  _crypto_aead_xchacha20poly1305_ietf_encrypt(
    c: number,
    clenP: number,
    m: number,
    mlenLo: number,
    mlenHi: number,
    ad: number,
    adlenLo: number,
    adlenHi: number,
    nsec: number,
    npub: number,
    k: number,
  ): number;
  _crypto_aead_chacha20poly1305_ietf_encrypt:
    SodiumExports["_crypto_aead_xchacha20poly1305_ietf_encrypt"];
  _crypto_aead_chacha20poly1305_ietf_decrypt:
    SodiumExports["_crypto_aead_xchacha20poly1305_ietf_decrypt"];
  _crypto_aead_xchacha20poly1305_ietf_decrypt(
    m: number,
    mlenP: number,
    nsec: number,
    c: number,
    clenLo: number,
    clenHi: number,
    ad: number,
    adlenLo: number,
    adlenHi: number,
    npub: number,
    k: number,
  ): number;
}

const lib = (sodium as unknown as { libsodium: SodiumExports }).libsodium;
/** Tag bytes appended to the ciphertext. */
export const XCHACHA_TAG_BYTES = 16;
const KEY_BYTES = 32;
const NONCE_BYTES = 24;
/** Nonce bytes of the IETF ChaCha20-Poly1305 (RFC 8439) of {@link chachaSeal}. */
export const CHACHA_NONCE_BYTES = 12;
/** Key and nonce (room for the longer one) sit at the start of the region, inputs and output after them. */
const HEAD = KEY_BYTES + NONCE_BYTES;
let regionSize = 65_536;
let region = lib._malloc(regionSize);

function reserve(n: number): number {
  if (HEAD + n > regionSize) {
    const size = Math.max(HEAD + n, regionSize * 2);
    const p = lib._malloc(size);
    if (p === 0) throw new RangeError(`cannot reserve ${size} bytes for XChaCha20-Poly1305`);
    lib.HEAPU8.fill(0, region, region + HEAD);
    lib._free(region);
    region = p;
    regionSize = size;
  }
  return region;
}

function checkSizes(key: Uint8Array, nonce: Uint8Array, nonceBytes = NONCE_BYTES): void {
  if (key.length !== KEY_BYTES) throw new RangeError(`key of ${key.length} bytes, not 32`);
  if (nonce.length !== nonceBytes) {
    throw new RangeError(`nonce of ${nonce.length} bytes, not ${nonceBytes}`);
  }
}

type Encrypt = SodiumExports["_crypto_aead_xchacha20poly1305_ietf_encrypt"];
type Decrypt = SodiumExports["_crypto_aead_xchacha20poly1305_ietf_decrypt"];

function seal(
  encrypt: Encrypt,
  out: ByteSlab,
  plaintext: Uint8Array,
  aad: Uint8Array,
  nonce: Uint8Array,
  key: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const m = plaintext.length, a = aad.length, c = m + XCHACHA_TAG_BYTES;
  const base = reserve(a + m + c);
  const heap = lib.HEAPU8; // read after reserve: a malloc may grow the memory
  const pk = base, pn = base + KEY_BYTES, pa = base + HEAD, pm = pa + a, pc = pm + m;
  heap.set(key, pk);
  heap.set(nonce, pn);
  heap.set(aad, pa);
  heap.set(plaintext, pm);
  encrypt(pc, 0, pm, m, 0, pa, a, 0, 0, pn, pk);
  heap.fill(0, pk, pk + KEY_BYTES);
  const ct = out.take(c);
  ct.set(heap.subarray(pc, pc + c));
  heap.fill(0, pm, pm + m);
  return ct;
}

function open(
  decrypt: Decrypt,
  out: ByteSlab,
  ciphertext: Uint8Array,
  aad: Uint8Array,
  nonce: Uint8Array,
  key: Uint8Array,
): Uint8Array<ArrayBuffer> | null {
  const c = ciphertext.length;
  if (c < XCHACHA_TAG_BYTES) return null;
  const a = aad.length, m = c - XCHACHA_TAG_BYTES;
  const base = reserve(a + c + m);
  const heap = lib.HEAPU8;
  const pk = base, pn = base + KEY_BYTES, pa = base + HEAD, pc = pa + a, pm = pc + c;
  heap.set(key, pk);
  heap.set(nonce, pn);
  heap.set(aad, pa);
  heap.set(ciphertext, pc);
  const rc = decrypt(pm, 0, 0, pc, c, 0, pa, a, 0, pn, pk);
  heap.fill(0, pk, pk + KEY_BYTES);
  if (rc !== 0) {
    heap.fill(0, pm, pm + m);
    return null;
  }
  const pt = out.take(m);
  pt.set(heap.subarray(pm, pm + m));
  heap.fill(0, pm, pm + m);
  return pt;
}

/**
 * Seals `plaintext` under `key` and the 24-byte `nonce`, authenticating
 * `aad`: ciphertext ‖ 16-byte tag, as a view from `out`.
 *
 * @example
 * ```ts
 * import { ByteSlab } from "@fastchat/lib/byte_slab";
 * import { xchachaSeal } from "@fastchat/lib/crypto/xchacha_arena";
 * const ct = xchachaSeal(new ByteSlab(), new Uint8Array(5), new Uint8Array(0), new Uint8Array(24), new Uint8Array(32));
 * ct.length; // 21
 * ```
 */
export function xchachaSeal(
  out: ByteSlab,
  plaintext: Uint8Array,
  aad: Uint8Array,
  nonce: Uint8Array,
  key: Uint8Array,
): Uint8Array<ArrayBuffer> {
  checkSizes(key, nonce);
  return seal(lib._crypto_aead_xchacha20poly1305_ietf_encrypt, out, plaintext, aad, nonce, key);
}

/**
 * Opens what {@link xchachaSeal} sealed: the plaintext as a view from
 * `out`, or null when the tag does not verify (wrong key, nonce, AAD or
 * any changed byte). Nothing of an unverified plaintext is returned.
 *
 * @example
 * ```ts
 * import { ByteSlab } from "@fastchat/lib/byte_slab";
 * import { xchachaOpen } from "@fastchat/lib/crypto/xchacha_arena";
 * xchachaOpen(new ByteSlab(), new Uint8Array(20), new Uint8Array(0), new Uint8Array(24), new Uint8Array(32)); // null
 * ```
 */
export function xchachaOpen(
  out: ByteSlab,
  ciphertext: Uint8Array,
  aad: Uint8Array,
  nonce: Uint8Array,
  key: Uint8Array,
): Uint8Array<ArrayBuffer> | null {
  checkSizes(key, nonce);
  return open(lib._crypto_aead_xchacha20poly1305_ietf_decrypt, out, ciphertext, aad, nonce, key);
}

/**
 * Seals `plaintext` with ChaCha20-Poly1305 as RFC 8439 defines it (the
 * IETF construction, 12-byte `nonce`, what `node:crypto` calls
 * `chacha20-poly1305`): ciphertext ‖ 16-byte tag, as a view from `out`.
 *
 * @example
 * ```ts
 * import { ByteSlab } from "@fastchat/lib/byte_slab";
 * import { chachaSeal } from "@fastchat/lib/crypto/xchacha_arena";
 * const ct = chachaSeal(new ByteSlab(), new Uint8Array(5), new Uint8Array(0), new Uint8Array(12), new Uint8Array(32));
 * ct.length; // 21
 * ```
 */
export function chachaSeal(
  out: ByteSlab,
  plaintext: Uint8Array,
  aad: Uint8Array,
  nonce: Uint8Array,
  key: Uint8Array,
): Uint8Array<ArrayBuffer> {
  checkSizes(key, nonce, CHACHA_NONCE_BYTES);
  return seal(lib._crypto_aead_chacha20poly1305_ietf_encrypt, out, plaintext, aad, nonce, key);
}

/**
 * Opens what {@link chachaSeal} (or `node:crypto`'s `chacha20-poly1305`)
 * sealed: the plaintext as a view from `out`, or null when the tag does not
 * verify.
 *
 * @example
 * ```ts
 * import { ByteSlab } from "@fastchat/lib/byte_slab";
 * import { chachaOpen } from "@fastchat/lib/crypto/xchacha_arena";
 * chachaOpen(new ByteSlab(), new Uint8Array(20), new Uint8Array(0), new Uint8Array(12), new Uint8Array(32)); // null
 * ```
 */
export function chachaOpen(
  out: ByteSlab,
  ciphertext: Uint8Array,
  aad: Uint8Array,
  nonce: Uint8Array,
  key: Uint8Array,
): Uint8Array<ArrayBuffer> | null {
  checkSizes(key, nonce, CHACHA_NONCE_BYTES);
  return open(lib._crypto_aead_chacha20poly1305_ietf_decrypt, out, ciphertext, aad, nonce, key);
}

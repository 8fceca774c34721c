/**
 * The record layer of a server-to-server link: an ephemeral X25519 key
 * agreement bound to the signed handshake transcript, HKDF-SHA-256 to one
 * ChaCha20-Poly1305 key per direction, and a {@link SealedFrameCodec} that
 * seals every frame with a 64-bit counter nonce. (ChaCha20-Poly1305 rather
 * than AES-256-GCM: in Deno's `node:crypto` it seals and opens a 10.8 KB
 * frame in ~22 µs against ~135 µs, a 400-byte one in ~9 µs against ~14 µs,
 * `deno bench -A server/peer_channel_bench.ts`; a peer link carries every
 * forwarded message and acknowledgement, so this is per-message server CPU
 * that grows with the share of messages crossing servers.) The receiver expects the next
 * counter, so a replayed, reordered, dropped or altered frame fails to open
 * (`PEER_LINK_TAMPERED`) and the link must close. Transport-agnostic: any
 * fabric that carries length-delimited frames can reuse it.
 *
 * @example
 * ```ts
 * import { ChannelEphemeral } from "@fastchat/server/peer_channel";
 * const a = new ChannelEphemeral(), b = new ChannelEphemeral();
 * const transcript = new Uint8Array([1, 2, 3]); // both sides' signed handshake bytes
 * const ca = a.derive(b.publicKey, transcript, "connector");
 * const cb = b.derive(a.publicKey, transcript, "acceptor");
 * cb.open(ca.seal(new TextEncoder().encode("hi"))); // "hi"
 * ```
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from "node:crypto";
import { Buffer } from "node:buffer";
import { FastChatError } from "@fastchat/lib/errors";
import { ByteSlab } from "@fastchat/lib/byte_slab";
import { chachaOpen, chachaSeal } from "@fastchat/lib/crypto/xchacha_arena";

/** Bytes of the Poly1305 tag appended to every sealed frame. */
export const SEAL_OVERHEAD = 16;
const X25519_SPKI_PREFIX = new Uint8Array([
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x03,
  0x21,
  0x00,
]);
// v2: ChaCha20-Poly1305 (v1 was AES-256-GCM); a v1 peer derives other keys, so its first sealed frame fails.
const KDF_LABEL = "fastchat/peer-channel/v2";
const AEAD = "chacha20-poly1305";
const TAG = { authTagLength: SEAL_OVERHEAD } as const;
/**
 * Frames up to this size are sealed and opened by libsodium's raw exports
 * into slabs (one for ciphertext, one for plaintext): `node:crypto`'s
 * `createCipheriv` builds a stream object and three `Buffer`s per frame,
 * which was 12 % of a server's CPU at 2,000 msgs/s (a peer frame per
 * message). A 365-byte frame sealed and opened: 2.8 µs against 26 µs
 * (`deno bench -A server/peer_channel_bench.ts`). Larger frames stay with
 * `node:crypto`, whose native cipher is faster per byte (10.8 KB: 53 µs
 * against 73 µs). Same cipher, same bytes: RFC 8439 ChaCha20-Poly1305, no AAD.
 */
const ARENA_MAX_PAYLOAD = 4096;
const sealedFrames = new ByteSlab(65_536);
const openedFrames = new ByteSlab(65_536);
const NO_AAD = new Uint8Array(0);
/** Counters stay below 2^53 (exact in a JS number); a link never gets near it. */
const MAX_COUNTER = 2 ** 53 - 1;

/** Which end of the handshake a side was; picks its sending key. */
export type ChannelRole = "connector" | "acceptor";

/**
 * Seals outbound and opens inbound frames of one link, each direction with
 * its own key and counter.
 *
 * @example
 * ```ts
 * import { SealedFrameCodec } from "@fastchat/server/peer_channel";
 * const k1 = new Uint8Array(32).fill(1), k2 = new Uint8Array(32).fill(2);
 * const a = new SealedFrameCodec(k1, k2), b = new SealedFrameCodec(k2, k1);
 * b.open(a.seal(new Uint8Array([7]))); // Uint8Array [7]
 * ```
 */
export class SealedFrameCodec {
  readonly #sendKey: Uint8Array;
  readonly #recvKey: Uint8Array;
  #sent = 0;
  #received = 0;
  #broken = false;
  readonly #nonce = new Uint8Array(12);

  constructor(sendKey: Uint8Array, recvKey: Uint8Array) {
    if (sendKey.length !== 32 || recvKey.length !== 32) {
      throw new FastChatError("INTERNAL", "ChaCha20-Poly1305 keys are 32 bytes");
    }
    this.#sendKey = sendKey;
    this.#recvKey = recvKey;
  }

  readonly #nonceView = new DataView(this.#nonce.buffer);

  #nonceFor(counter: number): Uint8Array {
    const v = this.#nonceView;
    v.setUint32(4, Math.floor(counter / 2 ** 32));
    v.setUint32(8, counter >>> 0);
    return this.#nonce;
  }

  /** Encrypts `payload` as the next outbound frame: ciphertext ‖ 16-byte tag. */
  seal(payload: Uint8Array): Uint8Array {
    if (this.#sent >= MAX_COUNTER) {
      throw new FastChatError("CONNECTION_CLOSED", "peer channel counter exhausted");
    }
    const nonce = this.#nonceFor(this.#sent++);
    if (payload.length <= ARENA_MAX_PAYLOAD) {
      return chachaSeal(sealedFrames, payload, NO_AAD, nonce, this.#sendKey);
    }
    const c = createCipheriv(AEAD, this.#sendKey, nonce, TAG);
    const out = new Uint8Array(payload.length + SEAL_OVERHEAD);
    const body = c.update(payload);
    out.set(body, 0);
    const tail = c.final();
    out.set(tail, body.length);
    out.set(c.getAuthTag(), payload.length);
    return out;
  }

  /** Opens with `node:crypto` (frames over {@link ARENA_MAX_PAYLOAD}); null if it fails to verify. */
  #openLarge(sealed: Uint8Array, nonce: Uint8Array): Uint8Array | null {
    const at = sealed.length - SEAL_OVERHEAD;
    try {
      const d = createDecipheriv(AEAD, this.#recvKey, nonce, TAG);
      d.setAuthTag(sealed.subarray(at));
      const body = d.update(sealed.subarray(0, at));
      const tail = d.final();
      if (tail.length === 0) return new Uint8Array(body.buffer, body.byteOffset, body.length);
      const out = new Uint8Array(body.length + tail.length);
      out.set(body, 0);
      out.set(tail, body.length);
      return out;
    } catch {
      return null;
    }
  }

  /**
   * Opens the next inbound frame; throws `PEER_LINK_TAMPERED` if it was
   * altered, replayed, reordered or one was dropped (the codec then refuses
   * everything after).
   */
  open(sealed: Uint8Array): Uint8Array {
    if (this.#broken) throw new FastChatError("PEER_LINK_TAMPERED", "peer channel already failed");
    if (sealed.length < SEAL_OVERHEAD) {
      this.#broken = true;
      throw new FastChatError("PEER_LINK_TAMPERED", "sealed peer frame shorter than its tag");
    }
    const nonce = this.#nonceFor(this.#received);
    const body = sealed.length - SEAL_OVERHEAD <= ARENA_MAX_PAYLOAD
      ? chachaOpen(openedFrames, sealed, NO_AAD, nonce, this.#recvKey)
      : this.#openLarge(sealed, nonce);
    if (body === null) {
      this.#broken = true;
      throw new FastChatError(
        "PEER_LINK_TAMPERED",
        `peer frame #${this.#received} failed authentication (altered, replayed or out of order)`,
      );
    }
    this.#received++;
    return body;
  }
}

/**
 * One side's ephemeral X25519 key for a single handshake.
 *
 * @example
 * ```ts
 * import { ChannelEphemeral } from "@fastchat/server/peer_channel";
 * new ChannelEphemeral().publicKey.length; // 32
 * ```
 */
export class ChannelEphemeral {
  readonly #privateKey: KeyObject;
  /** The raw 32-byte public key sent in the handshake. */
  readonly publicKey: Uint8Array;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync("x25519");
    this.#privateKey = privateKey;
    const der = publicKey.export({ format: "der", type: "spki" });
    this.publicKey = new Uint8Array(der.subarray(X25519_SPKI_PREFIX.length));
  }

  /**
   * Agrees with the peer's ephemeral key and derives the link's codec; the
   * keys are bound to `transcript` (the bytes both sides signed).
   */
  derive(theirPublicKey: Uint8Array, transcript: Uint8Array, role: ChannelRole): SealedFrameCodec {
    if (theirPublicKey.length !== 32) {
      throw new FastChatError("BAD_REQUEST", "X25519 public key must be 32 bytes");
    }
    const spki = new Uint8Array(X25519_SPKI_PREFIX.length + 32);
    spki.set(X25519_SPKI_PREFIX);
    spki.set(theirPublicKey, X25519_SPKI_PREFIX.length);
    let shared: Uint8Array;
    try {
      const publicKey = createPublicKey({
        key: Buffer.from(spki.buffer),
        format: "der",
        type: "spki",
      });
      shared = diffieHellman({ privateKey: this.#privateKey, publicKey });
    } catch (e) {
      throw new FastChatError("BAD_REQUEST", `bad X25519 public key: ${(e as Error).message}`);
    }
    if (shared.every((b) => b === 0)) {
      throw new FastChatError("BAD_REQUEST", "X25519 key agreement gave a low-order point");
    }
    const okm = new Uint8Array(hkdfSync("sha256", shared, transcript, KDF_LABEL, 64));
    const c2a = okm.slice(0, 32), a2c = okm.slice(32, 64);
    return role === "connector" ? new SealedFrameCodec(c2a, a2c) : new SealedFrameCodec(a2c, c2a);
  }
}

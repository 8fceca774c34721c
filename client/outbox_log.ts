/**
 * The file behind a user's `Outbox`: `outbox.log` in the home
 * directory, mode 0600. It opens with a random 256-bit log key sealed under
 * the password-derived vault key (one `crypto.subtle` operation per file);
 * each appended batch is then sealed with that key by `sealChatMessage`
 * (XChaCha20-Poly1305, µs, not tens of µs: it is on the send path; logs of
 * earlier versions, sealed with AES-256-GCM, are still read) and written
 * with one synchronous write. Records are length-prefixed; a torn final
 * write is ignored on load.
 *
 * @example
 * ```ts
 * import { OutboxLog } from "@fastchat/client/outbox_log";
 * declare const vaultKey: CryptoKey;
 * const log = new OutboxLog("/tmp/alice/outbox.log", vaultKey);
 * await log.replace([]);
 * log.close();
 * ```
 * @module
 */
import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
import {
  importMessageKey,
  type MessageKey,
  openVault,
  randomBytes,
  sealVault,
} from "@fastchat/lib/crypto";
import { CHAT_NONCE_BYTES, openChatMessage, sealChatMessage } from "@fastchat/lib/crypto/chat_aead";
import type { OutboxRecord, OutboxStorage } from "./outbox.ts";
import { OutboxRecordEncoder } from "./outbox_records.ts";

const packr = msgpackCodec();
/** Sealed at once after each call, so one encoder (and its buffer) serves every log. */
const recordEncoder = new OutboxRecordEncoder();
const AAD = new TextEncoder().encode("fastchat/outbox/v1");
/** Nonce bytes of a batch an earlier version sealed (AES-256-GCM). */
const GCM_IV_BYTES = 12;

/**
 * `parts` as the log lays them out: each after its 4-byte big-endian length.
 *
 * @example
 * ```ts
 * import { framed } from "@fastchat/client/outbox_log";
 * framed([new Uint8Array([7])]); // Uint8Array [0, 0, 0, 1, 7]
 * ```
 */
export function framed(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + 4 + p.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    dv.setUint32(at, p.length);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}

/** Appends up to this size reuse one buffer; larger ones get their own. */
const APPEND_BUFFER_KEPT = 65_536;
let appendScratch = new Uint8Array(0);

/** `n` bytes to lay out one append in (contents undefined: overwrite them all). */
function appendBuffer(n: number): Uint8Array {
  if (n > APPEND_BUFFER_KEPT) return new Uint8Array(n);
  if (appendScratch.length < n) {
    appendScratch = new Uint8Array(Math.max(1024, 2 ** Math.ceil(Math.log2(n))));
  }
  return appendScratch.subarray(0, n);
}

/**
 * Opens a sealed batch: `nonce ‖ ciphertext`, XChaCha20-Poly1305 or, from
 * an earlier version, AES-256-GCM. A part verifies under one reading only,
 * so the second is tried when the first fails.
 */
function openPart(key: MessageKey, p: Uint8Array): Uint8Array {
  try {
    return openChatMessage(key, p.subarray(0, CHAT_NONCE_BYTES), p.subarray(CHAT_NONCE_BYTES), AAD);
  } catch (e) {
    try {
      return openChatMessage(key, p.subarray(0, GCM_IV_BYTES), p.subarray(GCM_IV_BYTES), AAD);
    } catch {
      throw e;
    }
  }
}

/**
 * An {@link OutboxStorage} in one file.
 *
 * @example
 * ```ts
 * import { Outbox } from "@fastchat/client/outbox";
 * import { OutboxLog } from "@fastchat/client/outbox_log";
 * declare const vaultKey: CryptoKey;
 * const pending = await new Outbox().attach(new OutboxLog("/tmp/bob/outbox.log", vaultKey));
 * ```
 */
export class OutboxLog implements OutboxStorage {
  readonly #path: string;
  readonly #vaultKey: CryptoKey;
  readonly #ensureDir: () => Promise<void>;
  #key: MessageKey | null = null;
  #file: Deno.FsFile | null = null;
  /** Bytes of the file's first part (the sealed log key) when this object wrote it. */
  #keyBytes = 0;

  constructor(path: string, vaultKey: CryptoKey, ensureDir: () => Promise<void> = async () => {}) {
    this.#path = path;
    this.#vaultKey = vaultKey;
    this.#ensureDir = ensureDir;
  }

  #seal(records: OutboxRecord[]): Uint8Array {
    const { iv, ct } = sealChatMessage(this.#key!, recordEncoder.encode(records), AAD);
    const out = new Uint8Array(iv.length + ct.length);
    out.set(iv);
    out.set(ct, iv.length);
    return out;
  }

  /**
   * Appends one sealed batch. The write itself is synchronous: a write(2)
   * of a few KiB into the page cache takes ~1.5 µs, while Deno's async file
   * write costs ~35 µs of CPU in thread-pool hand-offs (measured here) and
   * is the same write(2) (neither fsyncs: the log survives a crash or
   * `kill -9` of the client, as before).
   */
  async append(records: OutboxRecord[]): Promise<void> {
    if (!this.#key) await this.replace(await this.load()); // a log of an older key
    this.#file ??= await Deno.open(this.#path, { append: true, mode: 0o600 });
    // Length, nonce and ciphertext laid out in one reused buffer: the write
    // is synchronous, so nothing else can use it meanwhile (two fresh
    // ArrayBuffers per append cost ~3 µs here, see lib/byte_slab.ts).
    const { iv, ct } = sealChatMessage(this.#key!, recordEncoder.encode(records), AAD);
    const n = iv.length + ct.length;
    const buf = appendBuffer(4 + n);
    buf[0] = n >>> 24;
    buf[1] = (n >>> 16) & 0xff;
    buf[2] = (n >>> 8) & 0xff;
    buf[3] = n & 0xff;
    buf.set(iv, 4);
    buf.set(ct, 4 + iv.length);
    let off = 0;
    while (off < buf.length) off += this.#file.writeSync(buf.subarray(off));
  }

  async load(): Promise<OutboxRecord[]> {
    let data: Uint8Array;
    try {
      data = await Deno.readFile(this.#path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    const parts: Uint8Array[] = [];
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let off = 0; off + 4 <= data.length;) {
      const len = dv.getUint32(off);
      if (off + 4 + len > data.length) break; // torn final write: it was never confirmed
      parts.push(data.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    if (parts.length === 0) return [];
    const key = importMessageKey(await openVault(this.#vaultKey, parts[0], "outbox-key"));
    const out: OutboxRecord[] = [];
    for (const p of parts.slice(1)) {
      out.push(...(packr.unpack(openPart(key, p)) as OutboxRecord[]));
    }
    return out;
  }

  /** Rewrites the file atomically under a fresh log key. */
  async replace(records: OutboxRecord[]): Promise<void> {
    if (records.length === 0 && this.#file && this.#keyBytes > 0) {
      // Nothing pending: the log keeps its key and is cut back to it (a
      // truncation is atomic; either length holds nothing pending).
      this.#file.truncateSync(this.#keyBytes);
      return;
    }
    await this.#ensureDir();
    this.close(); // later appends go to the new file
    const raw = randomBytes(32);
    this.#key = importMessageKey(raw);
    const parts = [await sealVault(this.#vaultKey, raw, "outbox-key")];
    this.#keyBytes = 4 + parts[0].length;
    if (records.length > 0) parts.push(this.#seal(records));
    const tmp = `${this.#path}.tmp-${crypto.randomUUID()}`;
    await Deno.writeFile(tmp, framed(parts), { mode: 0o600 });
    await Deno.chmod(tmp, 0o600);
    await Deno.rename(tmp, this.#path);
  }

  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}

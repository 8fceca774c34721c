/**
 * What an end-to-end-encrypted message says, once decrypted: text, several
 * texts sealed together (client/message_batch.ts), a group sender key
 * handed to one member, or a file's key and description. Text is
 * its UTF-8 bytes, as it always was; the other contents start with the byte
 * 0xFF (which never occurs in UTF-8) followed by a MessagePack record, so
 * the server cannot tell them apart from text and a receiver cannot confuse
 * them. Records are size-checked before decoding and validated field by
 * field.
 *
 * @example
 * ```ts
 * import { decodeContent, encodeContent } from "@fastchat/client/message_content";
 * const bytes = encodeContent({ type: "text", text: "hi" });
 * decodeContent(bytes); // { type: "text", text: "hi" }
 * ```
 * @module
 */
import { Packr } from "msgpackr";
import { ByteSlab } from "@fastchat/lib/byte_slab";
import { FastChatError } from "@fastchat/lib/errors";
import { checkMsgpack } from "@fastchat/lib/msgpack_guard";
import { GROUP_NAME_RE, MESSAGE_ID_RE } from "@fastchat/lib/protocol";
import { array, bytes, int, object, oneOf, str, tuple } from "@fastchat/lib/validate";

/** Marks a record (0xFF never starts valid UTF-8). */
const RECORD = 0xff;

/** Most texts one batch record may carry. */
export const MAX_BATCH_ITEMS = 64;

/** Longest text (UTF-16 units) one batch item may carry (a frame bounds the total). */
export const MAX_BATCH_ITEM_CHARS = 65_536;

/** Largest file a record may describe (1 TiB; servers set the real limit). */
export const MAX_DESCRIBED_FILE_BYTES = 2 ** 40;

/**
 * A file as its recipients learn it: where to fetch it, how to decrypt it,
 * and what to check it against.
 *
 * @example
 * ```ts
 * const f: FileDescription = {
 *   file: "AAAAAAAAAAAAAAAAAAAAAA", key: new Uint8Array(32), name: "a.png", bytes: 10,
 *   chunks: 1, sha256: new Uint8Array(32), mime: "image/png",
 * };
 * ```
 */
export interface FileDescription {
  /** Server-side file id (base64url of the 16-byte file id). */
  file: string;
  /** AES-256 file key. */
  key: Uint8Array;
  /** The sender's name for it (sanitised again by the receiver). */
  name: string;
  /** Plaintext size. */
  bytes: number;
  /** Number of chunks. */
  chunks: number;
  /** SHA-256 of the plaintext. */
  sha256: Uint8Array;
  /** The sender's MIME type (receivers sniff images themselves). */
  mime: string;
}

/**
 * Decrypted message content.
 *
 * @example
 * ```ts
 * const c: MessageContent = { type: "sender_key", group: "team", kid: "k-12345678", key: new Uint8Array(32) };
 * ```
 */
export type MessageContent =
  | { type: "text"; text: string }
  | { type: "batch"; items: BatchItem[] }
  | { type: "sender_key"; group: string; kid: string; key: Uint8Array }
  | { type: "file"; file: FileDescription };

/**
 * One text of a batch: when its sender wrote it, and what it says.
 *
 * @example
 * ```ts
 * const item: BatchItem = { ts: Date.now(), text: "hi" };
 * ```
 */
export interface BatchItem {
  /** Sender's clock (ms since the epoch) when the text was written. */
  ts: number;
  text: string;
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8 = new TextEncoder();
/** Short texts are encoded into a scratch array, then copied into a slab of plaintexts. */
const SHORT_TEXT = 1024;
const scratch = new Uint8Array(SHORT_TEXT * 3);
const texts = new ByteSlab();

function encodeText(text: string): Uint8Array {
  if (text.length > SHORT_TEXT) return utf8.encode(text);
  const { written } = utf8.encodeInto(text, scratch); // 3 bytes per UTF-16 unit at most: all of it
  return texts.copy(scratch.subarray(0, written));
}

const senderKey = object({
  y: oneOf("k"),
  group: str(1, 32, GROUP_NAME_RE),
  kid: str(8, 64, MESSAGE_ID_RE),
  key: bytes(32, 32),
});

const batchRecord = object({
  y: oneOf("b"),
  m: array(
    tuple(int(0, Number.MAX_SAFE_INTEGER), str(0, MAX_BATCH_ITEM_CHARS)),
    2,
    MAX_BATCH_ITEMS,
  ),
});

const fileRecord = object({
  y: oneOf("f"),
  file: str(22, 22, /^[A-Za-z0-9_-]+$/),
  key: bytes(32, 32),
  name: str(1, 1024),
  bytes: int(0, MAX_DESCRIBED_FILE_BYTES),
  chunks: int(1, 2 ** 31),
  sha256: bytes(32, 32),
  mime: str(1, 127, /^[\x21-\x7e]+$/),
});

/**
 * Encodes content for encryption.
 *
 * @example
 * ```ts
 * encodeContent({ type: "text", text: "hello" }).length; // 5
 * ```
 */
export function encodeContent(c: MessageContent): Uint8Array {
  if (c.type === "text") return encodeText(c.text);
  const rec = c.type === "sender_key"
    ? { y: "k", group: c.group, kid: c.kid, key: c.key }
    : c.type === "batch"
    ? { y: "b", m: c.items.map((i) => [i.ts, i.text]) }
    : { y: "f", ...c.file };
  const packed = packr.pack(rec);
  const out = new Uint8Array(packed.length + 1);
  out[0] = RECORD;
  out.set(packed, 1);
  return out;
}

function bad(what: string, cause?: unknown): FastChatError {
  return new FastChatError("DECRYPT_FAILED", `message content ${what}`, undefined, { cause });
}

/**
 * Decodes decrypted bytes; throws `DECRYPT_FAILED` for anything malformed.
 *
 * @example
 * ```ts
 * decodeContent(new TextEncoder().encode("hi")); // { type: "text", text: "hi" }
 * ```
 */
export function decodeContent(b: Uint8Array): MessageContent {
  if (b.length === 0 || b[0] !== RECORD) {
    try {
      return { type: "text", text: strict.decode(b) };
    } catch (e) {
      throw bad("is not valid UTF-8", e);
    }
  }
  let v: unknown;
  try {
    const rec = b.subarray(1);
    // A batch is a map of an array of pairs: 3 deep; the others are flat.
    checkMsgpack(rec, { maxDepth: 3 });
    v = packr.unpack(rec);
  } catch (e) {
    throw bad("is not a valid record", e);
  }
  const y = (v as { y?: unknown } | null)?.y;
  try {
    if (y === "k") {
      const k = senderKey(v);
      return { type: "sender_key", group: k.group, kid: k.kid, key: k.key };
    }
    if (y === "b") {
      const { m } = batchRecord(v);
      return { type: "batch", items: m.map(([ts, text]) => ({ ts, text })) };
    }
    if (y === "f") {
      const { y: _y, ...file } = fileRecord(v);
      return { type: "file", file };
    }
  } catch (e) {
    throw bad("has invalid fields", e);
  }
  throw bad("has an unknown type");
}

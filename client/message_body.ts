/**
 * The opaque body of a chat message as servers store and forward it: the
 * session key id, the nonce and the XChaCha20-Poly1305 ciphertext (AES-GCM
 * under a 12-byte nonce from earlier versions), MessagePack-encoded; and
 * {@link sealDirectMessage}, which makes the `send` frame carrying one.
 *
 * @example
 * ```ts
 * import { packBody, parseBody } from "@fastchat/client/message_body";
 * const b = packBody("kid-0123456789", new Uint8Array(12), new Uint8Array(20));
 * parseBody(b).k; // "kid-0123456789"
 * ```
 * @module
 */
import { AsciiInterner } from "@fastchat/lib/ascii_interner";
import { ByteSlab } from "@fastchat/lib/byte_slab";
import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
import { FastChatError } from "@fastchat/lib/errors";
import { checkMsgpack } from "@fastchat/lib/msgpack_guard";
import { messageAadView, type MessageKey, randomId, utf8Encode } from "@fastchat/lib/crypto";
import { sealChatMessage } from "@fastchat/lib/crypto/chat_aead";
import { type ClientFrameOf, MESSAGE_ID_RE } from "@fastchat/lib/protocol";
import type { OutgoingKey } from "./key_manager.ts";

/** A decoded body. */
export interface MessageBody {
  /** Session key id. */
  k: string;
  iv: Uint8Array;
  /** Ciphertext with its 16-byte tag. */
  c: Uint8Array;
}

const packr = msgpackCodec();
/** Bodies are ciphertext on their way out: short-lived, public (see `ByteSlab`). */
const bodies = new ByteSlab();

/**
 * Encodes a body: the MessagePack map `{k, iv, c}`, written directly (it is
 * on every send; any MessagePack decoder reads it).
 *
 * @example
 * ```ts
 * import { packBody } from "@fastchat/client/message_body";
 * const bytes = packBody("kid-0123456789", new Uint8Array(12), new Uint8Array(20));
 * ```
 */
export function packBody(kid: string, iv: Uint8Array, ct: Uint8Array): Uint8Array {
  const k = kid.length;
  if (k > 255 || iv.length > 255 || !isAscii(kid)) {
    return packr.pack({ k: kid, iv, c: ct }); // never for our ids: the general encoder
  }
  const n = ct.length;
  const cHead = n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
  const out = bodies.take(1 + 2 + (k < 32 ? 1 : 2) + k + 3 + 2 + iv.length + 2 + cHead + n);
  let at = 0;
  out[at++] = 0x83; // fixmap, 3 entries
  out[at++] = 0xa1; // "k"
  out[at++] = 0x6b;
  if (k < 32) out[at++] = 0xa0 | k;
  else {
    out[at++] = 0xd9;
    out[at++] = k;
  }
  for (let i = 0; i < k; i++) out[at++] = kid.charCodeAt(i);
  out[at++] = 0xa2; // "iv"
  out[at++] = 0x69;
  out[at++] = 0x76;
  out[at++] = 0xc4; // bin8
  out[at++] = iv.length;
  out.set(iv, at);
  at += iv.length;
  out[at++] = 0xa1; // "c"
  out[at++] = 0x63;
  if (n < 0x100) {
    out[at++] = 0xc4;
    out[at++] = n;
  } else if (n < 0x10000) {
    out[at++] = 0xc5;
    out[at++] = n >>> 8;
    out[at++] = n & 0xff;
  } else {
    out[at++] = 0xc6;
    out[at++] = n >>> 24;
    out[at++] = (n >>> 16) & 0xff;
    out[at++] = (n >>> 8) & 0xff;
    out[at++] = n & 0xff;
  }
  out.set(ct, at);
  return out;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Key ids of received bodies. A client sees one current key per contact and
 * direction; the load generator's worker processes, 50 users each with 99
 * contacts, keep ~85 % of theirs at this size.
 */
const kids = new AsciiInterner(16_384);

/**
 * Reads a body laid out exactly as {@link packBody} (or msgpackr) writes
 * it — map header, then `k` (an id string), `iv` and `c` (binaries), the
 * last ending with the bytes — with every length checked against the bytes
 * present; `iv` and `c` are views into `b`. Null for anything else (which
 * the general decoder then judges).
 */
function parseCanonicalBody(b: Uint8Array): MessageBody | null {
  const end = b.length;
  let at: number;
  if (end > 0 && b[0] === 0x83) at = 1;
  else if (end > 2 && b[0] === 0xde && b[1] === 0 && b[2] === 3) at = 3;
  else return null;
  if (at + 3 > end || b[at] !== 0xa1 || b[at + 1] !== 0x6b) return null;
  at += 2;
  let k: number;
  const t = b[at++];
  if ((t & 0xe0) === 0xa0) k = t & 0x1f;
  else if (t === 0xd9 && at < end) k = b[at++];
  else return null;
  if (k < 8 || k > 64 || at + k > end) return null;
  for (let i = 0; i < k; i++) {
    const ch = b[at + i];
    // [A-Za-z0-9_-]: MESSAGE_ID_RE, byte by byte
    if (
      !((ch >= 0x61 && ch <= 0x7a) || (ch >= 0x41 && ch <= 0x5a) || (ch >= 0x30 && ch <= 0x39) ||
        ch === 0x5f || ch === 0x2d)
    ) return null;
  }
  // The key id of every message from a contact: one cached instance, whose hash V8 keeps.
  const kid = kids.read(b, at, k);
  if (kid === null) return null; // not reached: the characters were checked above
  at += k;
  if (at + 5 > end || b[at] !== 0xa2 || b[at + 1] !== 0x69 || b[at + 2] !== 0x76) return null;
  if (b[at + 3] !== 0xc4) return null;
  const ivLen = b[at + 4];
  at += 5;
  if (at + ivLen + 3 > end) return null;
  const iv = b.subarray(at, at + ivLen);
  at += ivLen;
  if (b[at] !== 0xa1 || b[at + 1] !== 0x63) return null;
  at += 2;
  const ct = b[at++];
  let n: number;
  if (ct === 0xc4 && at + 1 <= end) n = b[at++];
  else if (ct === 0xc5 && at + 2 <= end) {
    n = (b[at] << 8) | b[at + 1];
    at += 2;
  } else if (ct === 0xc6 && at + 4 <= end) {
    n = ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
    at += 4;
  } else return null;
  if (at + n !== end) return null;
  return { k: kid, iv, c: b.subarray(at, end) };
}

/**
 * Decodes and checks a body from the network; anything else, including a
 * MessagePack bomb (declared sizes beyond the bytes present, nesting,
 * extensions), is `DECRYPT_FAILED`, refused before msgpackr allocates.
 *
 * @example
 * ```ts
 * import { packBody, parseBody } from "@fastchat/client/message_body";
 * parseBody(packBody("kid-0123456789", new Uint8Array(12), new Uint8Array(20))).iv.length; // 12
 * ```
 */
export function parseBody(b: Uint8Array): MessageBody {
  const fast = parseCanonicalBody(b);
  if (fast) return fast;
  let v: MessageBody;
  try {
    // A flat map: declared sizes are checked before msgpackr allocates.
    checkMsgpack(b, { maxDepth: 1 });
    v = packr.unpack(b) as MessageBody;
  } catch (e) {
    throw new FastChatError(
      "DECRYPT_FAILED",
      "message body is not a FastChat ciphertext",
      { reason: e instanceof FastChatError ? e.message : "not MessagePack" },
      { cause: e },
    );
  }
  if (
    !v || typeof v.k !== "string" || !MESSAGE_ID_RE.test(v.k) || !(v.iv instanceof Uint8Array) ||
    !(v.c instanceof Uint8Array)
  ) throw new FastChatError("DECRYPT_FAILED", "message body is not a FastChat ciphertext");
  return v;
}

/**
 * Encrypts `text` from `from` to `to` under the session key `key` into a new
 * `send` frame (a fresh random id, the time now). The id, both names, the
 * time and the key id are bound to the ciphertext as associated data; the
 * key's envelope rides along while the server may not have it yet.
 *
 * @example
 * ```ts
 * import { sealDirectMessage } from "@fastchat/client/message_body";
 * import type { OutgoingKey } from "@fastchat/client/key_manager";
 * declare const key: OutgoingKey;
 * const frame = sealDirectMessage("alice", "bob", "hello", key);
 * console.log(frame.id, frame.body.length);
 * ```
 */
export function sealDirectMessage(
  from: string,
  to: string,
  text: string,
  key: OutgoingKey,
): ClientFrameOf<"send"> {
  return sealDirectContent(from, to, utf8Encode(text), key);
}

/**
 * Like {@link sealDirectMessage} for encoded content (client/message_content.ts):
 * text, a batch of texts, a group sender key, or a file's description; `id`
 * and `ts` default to a fresh random id and the time now.
 *
 * @example
 * ```ts
 * import { sealDirectContent } from "@fastchat/client/message_body";
 * import type { OutgoingKey } from "@fastchat/client/key_manager";
 * declare const key: OutgoingKey;
 * const frame = sealDirectContent("alice", "bob", new TextEncoder().encode("hi"), key);
 * ```
 */
export function sealDirectContent(
  from: string,
  to: string,
  content: Uint8Array,
  key: OutgoingKey,
  id: string = randomId(16),
  ts: number = Date.now(),
): ClientFrameOf<"send"> {
  const { iv, ct } = sealChatMessage(
    key.key,
    content,
    messageAadView({ kind: "dm", from, to, id, sentAt: ts, kid: key.kid }),
  );
  const frame: ClientFrameOf<"send"> = {
    t: "send",
    id,
    to,
    kind: "dm",
    ts,
    body: packBody(key.kid, iv, ct),
  };
  if (key.env) {
    frame.kid = key.kid;
    frame.env = key.env;
  }
  return frame;
}

/**
 * Seals encoded content to `group` under the sender's group key `kid`/`key`:
 * encrypted once, the same bytes reach every member.
 *
 * @example
 * ```ts
 * import { sealGroupContent } from "@fastchat/client/message_body";
 * import { generateMessageKeyBytes, importMessageKey } from "@fastchat/lib/crypto";
 * const key = importMessageKey(generateMessageKeyBytes());
 * const frame = sealGroupContent("alice", "team", new TextEncoder().encode("hi"), "sk-0123456789", key);
 * frame.kind; // "group"
 * ```
 */
export function sealGroupContent(
  from: string,
  group: string,
  content: Uint8Array,
  kid: string,
  key: MessageKey,
): ClientFrameOf<"send"> {
  const id = randomId(16);
  const ts = Date.now();
  const { iv, ct } = sealChatMessage(
    key,
    content,
    messageAadView({ kind: "group", from, to: group, id, sentAt: ts, kid }),
  );
  return { t: "send", id, to: group, kind: "group", ts, body: packBody(kid, iv, ct) };
}

/**
 * The opaque body of a chat message as servers store and forward it: the
 * session key id, the IV and the AES-GCM ciphertext, MessagePack-encoded;
 * and {@link sealDirectMessage}, which makes the `send` frame carrying one.
 *
 * @example
 * ```ts
 * import { packBody, parseBody } from "@fastchat/client/message_body";
 * const b = packBody("kid-0123456789", new Uint8Array(12), new Uint8Array(20));
 * parseBody(b).k; // "kid-0123456789"
 * ```
 * @module
 */
import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
import { FastChatError } from "@fastchat/lib/errors";
import { checkMsgpack } from "@fastchat/lib/msgpack_guard";
import {
  messageAad,
  type MessageKey,
  randomBytes,
  sealMessage,
  toBase64Url,
  utf8Encode,
} from "@fastchat/lib/crypto";
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

/**
 * Encodes a body.
 *
 * @example
 * ```ts
 * import { packBody } from "@fastchat/client/message_body";
 * const bytes = packBody("kid-0123456789", new Uint8Array(12), new Uint8Array(20));
 * ```
 */
export function packBody(kid: string, iv: Uint8Array, ct: Uint8Array): Uint8Array {
  return packr.pack({ k: kid, iv, c: ct });
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
 * text, a group sender key, or a file's description.
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
): ClientFrameOf<"send"> {
  const id = toBase64Url(randomBytes(16));
  const ts = Date.now();
  const { iv, ct } = sealMessage(
    key.key,
    content,
    messageAad({ kind: "dm", from, to, id, sentAt: ts, kid: key.kid }),
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
  const id = toBase64Url(randomBytes(16));
  const ts = Date.now();
  const { iv, ct } = sealMessage(
    key,
    content,
    messageAad({ kind: "group", from, to: group, id, sentAt: ts, kid }),
  );
  return { t: "send", id, to: group, kind: "group", ts, body: packBody(kid, iv, ct) };
}

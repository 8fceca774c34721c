/**
 * The FastChat wire protocol: MessagePack-encoded maps inside length-prefixed
 * frames (see {@link ./frame.ts}). Every frame has a type tag `t`. Requests
 * that expect a reply carry a request id `rid`; the reply (`ok` or `error`)
 * echoes it. Chat payloads (`body`, `env`) are opaque ciphertext to servers.
 *
 * Conversation kinds are open-ended (`dm` now; `group` and `file` reuse the
 * same `send`/`msg` frames with another kind and a group name in `to`), and
 * key envelopes are stored per (recipient, kid), so group sender keys fan out
 * as one envelope per member without changing this protocol.
 *
 * @example
 * ```ts
 * import { decodeClientFrame, encodePayload } from "@fastchat/lib/protocol";
 * const bytes = encodePayload({ t: "ping", rid: 1 });
 * console.log(decodeClientFrame(bytes)); // { t: "ping", rid: 1 }
 * ```
 * @module
 */
import { FastChatError } from "./errors.ts";
import { FlatMapDecoder } from "./flat_map_decoder.ts";
import { checkMsgpack } from "./msgpack_guard.ts";
import { msgpackCodec } from "./msgpack_codec.ts";
import { FlatMapEncoder } from "./flat_map_encoder.ts";
import {
  array,
  boolean,
  bytes,
  int,
  object,
  oneOf,
  optional,
  str,
  tuple,
  type Validator,
} from "./validate.ts";

/** Protocol version spoken by this build. */
export const PROTOCOL_VERSION = 1;
/** Valid usernames: 1–32 of `[a-z0-9_.-]`. */
export const USERNAME_RE: RegExp = /^[a-z0-9_.-]{1,32}$/;
/** Valid group names: 1–32 of `[a-z0-9_.-]`, written `#name` by users. */
export const GROUP_NAME_RE: RegExp = /^[a-z0-9_.-]{1,32}$/;
/** Default largest group (members), configurable per server. */
export const DEFAULT_MAX_GROUP_MEMBERS = 1000;
/** Valid client-generated message ids. */
export const MESSAGE_ID_RE: RegExp = /^[A-Za-z0-9_-]{8,64}$/;
/** Largest chat payload (ciphertext) per message. */
export const MAX_BODY_BYTES = 960 * 1024;
/** Kinds of message a client sends: direct (`to` a user) or group (`to` a group). */
export const MESSAGE_KINDS = ["dm", "group"] as const;
/** Kinds a client receives: those, plus membership `event`s written by servers. */
export const DELIVERED_KINDS = ["dm", "group", "event"] as const;
/** Numeric codes stored for each kind. */
export const KIND_CODES: Record<DeliveredKind, number> = { dm: 1, group: 2, event: 3 };
/** A kind of message a client sends. */
export type MessageKind = typeof MESSAGE_KINDS[number];
/** A kind of message a client receives. */
export type DeliveredKind = typeof DELIVERED_KINDS[number];
/** Group operations of the `group` request. */
export const GROUP_OPS = [
  "create",
  "add",
  "remove",
  "promote",
  "leave",
  "members",
  "list",
] as const;
/** A group operation. */
export type GroupOp = typeof GROUP_OPS[number];
/** File ids on the wire: base64url of 16 random bytes. */
export const FILE_ID_RE: RegExp = /^[A-Za-z0-9_-]{22}$/;
/** Largest sealed file chunk (256 KiB of plaintext, IV and tag). */
export const MAX_CHUNK_BYTES = 256 * 1024 + 28;
/** Most chunks one `fetch` asks for. */
export const MAX_FETCH_CHUNKS = 3;

/** A user's public keys on the wire. */
export interface WirePublicKeys {
  /** RSA-OAEP public key, SPKI DER. */
  enc: Uint8Array;
  /** Ed25519 public key, raw. */
  sign: Uint8Array;
}
/** Client KDF parameters (public). */
export interface WireKdf {
  salt: Uint8Array;
  iter: number;
}

/** Client → server frames. */
export type ClientFrame =
  | { t: "hello"; v: number; agent?: string }
  | {
    t: "register";
    rid: number;
    user: string;
    auth: Uint8Array;
    kdf: WireKdf;
    keys: WirePublicKeys;
    backup: Uint8Array;
    ticket?: string;
  }
  | { t: "prelogin"; rid: number; user: string }
  | { t: "login"; rid: number; user: string; auth: Uint8Array; ticket?: string }
  | { t: "resume"; rid: number; token: string; ticket?: string }
  /**
   * To a load balancer: ask for a ticket naming a live server, preferably
   * none of `avoid` (servers this client just lost or could not reach).
   */
  | { t: "ticket"; rid: number; avoid?: string[] }
  | { t: "logout"; rid: number }
  | { t: "keys"; rid: number; user: string }
  | { t: "envelope"; rid: number; kid: string }
  | {
    t: "send";
    id: string;
    to: string;
    kind: MessageKind;
    ts: number;
    body: Uint8Array;
    kid?: string;
    env?: Uint8Array;
    /** A complete upload this message carries the key of (its recipients may fetch it). */
    file?: string;
  }
  /**
   * Acknowledgements ([from, id]): direct messages in `items`, group messages
   * and events in `groups`; `files` repeats those that carried a file (the
   * file is then released for this recipient).
   */
  | { t: "ack"; items: [string, string][]; groups?: [string, string][]; files?: [string, string][] }
  /** Group membership: `create` (with `users`), `add`/`remove`/`promote` (`user`), `leave`, `members`, `list`. */
  | { t: "group"; rid: number; op: GroupOp; group?: string; user?: string; users?: string[] }
  /** Opens (or reopens, to resume) an upload of `chunks` sealed chunks, `bytes` in all. */
  | { t: "upload"; rid: number; file: string; bytes: number; chunks: number }
  /** Chunk `idx` of an open upload; the reply's `have` counts the stored chunks. */
  | { t: "chunk"; rid: number; file: string; idx: number; data: Uint8Array }
  /** Asks for `count` chunks from `from` on: `chunk` frames, then the reply. */
  | { t: "fetch"; rid: number; file: string; from: number; count: number }
  /** Receipts the client has shown ([peer, id]): the server forgets them. */
  | { t: "rack"; items: [string, string][] }
  | { t: "ping"; rid: number };

/** Server → client frames. */
export type ServerFrame =
  | { t: "welcome"; v: number; server: string; max: number }
  | {
    t: "ok";
    rid: number;
    user?: string;
    token?: string;
    expires?: number;
    keys?: WirePublicKeys;
    backup?: Uint8Array;
    kdf?: WireKdf;
    kid?: string;
    from?: string;
    env?: Uint8Array;
    ticket?: string;
    server?: string;
    host?: string;
    port?: number;
    /** Ticket replies: the named server's port speaks TLS (absent: plain TCP). */
    tls?: boolean;
    /** Frame limit from now on (replies that grant a session). */
    max?: number;
    /** Chunks of an upload the server has. */
    have?: number;
    /** Members of a group: [user, admin]. */
    members?: [string, boolean][];
    /** Groups of the user: [name, admin, member count]. */
    groups?: [string, boolean, number][];
  }
  | { t: "error"; rid?: number; id?: string; code: string; message: string; retry?: number }
  | {
    t: "msg";
    id: string;
    from: string;
    to: string;
    kind: DeliveredKind;
    ts: number;
    body: Uint8Array;
    kid?: string;
    env?: Uint8Array;
  }
  | { t: "sent"; ids: string[] }
  /**
   * Delivery receipts [recipient, id]. `stored`: kept by the server until the
   * client acknowledges them with `rack`; live receipts need no `rack`. A
   * receipt for a message not yet confirmed by `sent` confirms it too.
   */
  | { t: "delivered"; items: [string, string][]; stored?: boolean }
  | { t: "pong"; rid: number }
  /** A sealed file chunk answering a `fetch`. */
  | { t: "chunk"; file: string; idx: number; data: Uint8Array }
  /** Sent once after login when every stored message has been sent. */
  | { t: "synced" };

/** A client frame of type `T`. */
export type ClientFrameOf<T extends ClientFrame["t"]> = Extract<ClientFrame, { t: T }>;
/** A server frame of type `T`. */
export type ServerFrameOf<T extends ServerFrame["t"]> = Extract<ServerFrame, { t: T }>;

const user: Validator<string> = str(1, 32, USERNAME_RE);
const msgId: Validator<string> = str(8, 64, MESSAGE_ID_RE);
const rid: Validator<number> = int(0, 2 ** 31);
const kid: Validator<string> = str(8, 64, MESSAGE_ID_RE);
const timestamp: Validator<number> = int(0, 2 ** 53 - 1);
const ticket: Validator<string> = str(16, 1024, /^[A-Za-z0-9_-]+$/);
const fileId: Validator<string> = str(22, 22, FILE_ID_RE);
/** An acknowledgement must acknowledge something. */
function nonEmptyAck<T extends { items: unknown[]; groups?: unknown[]; files?: unknown[] }>(
  inner: Validator<T>,
): Validator<T> {
  return (v, path) => {
    const f = inner(v, path);
    if (f.items.length + (f.groups?.length ?? 0) + (f.files?.length ?? 0) === 0) {
      throw new FastChatError("BAD_REQUEST", "ack: nothing acknowledged", { field: "items" });
    }
    return f;
  };
}
const pair = tuple(user, msgId);
const publicKeys: Validator<WirePublicKeys> = object({
  enc: bytes(200, 2048),
  sign: bytes(32, 32),
});
const kdfParams: Validator<WireKdf> = object({
  salt: bytes(16, 64),
  iter: int(100_000, 10_000_000),
});

/** Validators of every frame a client may send, by type tag. */
export const CLIENT_FRAMES: { [K in ClientFrame["t"]]: Validator<ClientFrameOf<K>> } = {
  hello: object({ t: oneOf("hello"), v: int(0, 1000), agent: optional(str(0, 64)) }),
  register: object({
    t: oneOf("register"),
    rid,
    user,
    auth: bytes(32, 32),
    kdf: kdfParams,
    keys: publicKeys,
    backup: bytes(16, 32 * 1024),
    ticket: optional(ticket),
  }),
  prelogin: object({ t: oneOf("prelogin"), rid, user }),
  login: object({ t: oneOf("login"), rid, user, auth: bytes(32, 32), ticket: optional(ticket) }),
  resume: object({ t: oneOf("resume"), rid, token: str(16, 128), ticket: optional(ticket) }),
  ticket: object({ t: oneOf("ticket"), rid, avoid: optional(array(str(1, 128), 0, 16)) }),
  logout: object({ t: oneOf("logout"), rid }),
  keys: object({ t: oneOf("keys"), rid, user }),
  envelope: object({ t: oneOf("envelope"), rid, kid }),
  send: object({
    t: oneOf("send"),
    id: msgId,
    to: user,
    kind: oneOf(...MESSAGE_KINDS),
    ts: timestamp,
    body: bytes(1, MAX_BODY_BYTES),
    kid: optional(kid),
    env: optional(bytes(16, 8192)),
    file: optional(fileId),
  }),
  ack: nonEmptyAck(object({
    t: oneOf("ack"),
    items: array(pair, 0, 4096),
    groups: optional(array(pair, 0, 4096)),
    files: optional(array(pair, 0, 4096)),
  })),
  group: object({
    t: oneOf("group"),
    rid,
    op: oneOf(...GROUP_OPS),
    group: optional(user),
    user: optional(user),
    users: optional(array(user, 0, 10_000)),
  }),
  upload: object({
    t: oneOf("upload"),
    rid,
    file: fileId,
    bytes: int(0, 2 ** 50),
    chunks: int(1, 2 ** 31 - 1),
  }),
  chunk: object({
    t: oneOf("chunk"),
    rid,
    file: fileId,
    idx: int(0, 2 ** 31 - 1),
    data: bytes(0, MAX_CHUNK_BYTES),
  }),
  fetch: object({
    t: oneOf("fetch"),
    rid,
    file: fileId,
    from: int(0, 2 ** 31 - 1),
    count: int(1, MAX_FETCH_CHUNKS),
  }),
  rack: object({ t: oneOf("rack"), items: array(tuple(user, msgId), 1, 4096) }),
  ping: object({ t: oneOf("ping"), rid }),
};

/** Validators of every frame a server may send, by type tag. */
export const SERVER_FRAMES: { [K in ServerFrame["t"]]: Validator<ServerFrameOf<K>> } = {
  welcome: object({
    t: oneOf("welcome"),
    v: int(0, 1000),
    server: str(1, 64),
    max: int(1024, 2 ** 31),
  }),
  ok: object({
    t: oneOf("ok"),
    rid,
    user: optional(user),
    token: optional(str(16, 128)),
    expires: optional(timestamp),
    keys: optional(publicKeys),
    backup: optional(bytes(16, 32 * 1024)),
    kdf: optional(kdfParams),
    kid: optional(kid),
    from: optional(user),
    env: optional(bytes(16, 8192)),
    ticket: optional(ticket),
    server: optional(str(1, 128)),
    host: optional(str(1, 255)),
    port: optional(int(1, 65535)),
    tls: optional(boolean()),
    max: optional(int(1024, 2 ** 31)),
    have: optional(int(0, 2 ** 31)),
    members: optional(array(tuple(user, boolean()), 0, 10_000)),
    groups: optional(array(tuple(user, boolean(), int(0, 2 ** 31)), 0, 100_000)),
  }),
  error: object({
    t: oneOf("error"),
    rid: optional(rid),
    id: optional(str(1, 64)),
    code: str(1, 64),
    message: str(0, 1024),
    retry: optional(int(0, 2 ** 31)),
  }),
  msg: object({
    t: oneOf("msg"),
    id: msgId,
    from: user,
    to: user,
    kind: oneOf(...DELIVERED_KINDS),
    ts: timestamp,
    body: bytes(1, MAX_BODY_BYTES),
    kid: optional(kid),
    env: optional(bytes(16, 8192)),
  }),
  chunk: object({
    t: oneOf("chunk"),
    file: fileId,
    idx: int(0, 2 ** 31 - 1),
    data: bytes(0, MAX_CHUNK_BYTES),
  }),
  sent: object({ t: oneOf("sent"), ids: array(msgId, 1, 65536) }),
  delivered: object({
    t: oneOf("delivered"),
    items: array(tuple(user, msgId), 1, 65536),
    stored: optional(boolean()),
  }),
  pong: object({ t: oneOf("pong"), rid }),
  synced: object({ t: oneOf("synced") }),
};

const packr = msgpackCodec({ compactMaps: true });

/**
 * Encodes a frame payload (without the length prefix).
 *
 * @example
 * ```ts
 * import { encodePayload } from "@fastchat/lib/protocol";
 * encodePayload({ t: "pong", rid: 3 }).length; // a dozen bytes
 * ```
 */
export function encodePayload(frame: ClientFrame | ServerFrame): Uint8Array {
  return flatEncoder.encode(frame) ?? packr.pack(frame);
}

const FRAME_LIMITS = { maxDepth: 3 };

/**
 * The keys of frames of up to 6 characters: frames made of these alone (the
 * hot ones: `send`, `msg`, `ack`, `sent`, `delivered`) are decoded and
 * encoded without msgpackr (lib/flat_map_decoder.ts, lib/flat_map_encoder.ts),
 * into the same objects and bytes.
 */
const FLAT_FRAME_KEYS = (
  "t v rid id to from kind ts body kid env file items groups files ids stored user auth ticket " +
  "token avoid op group users bytes chunks idx data count server max keys backup kdf host port " +
  "tls have code retry agent"
).split(" ");
/** Values that repeat frame after frame (types, names, key ids), interned by the decoder. */
const INTERNED_KEYS = ["t", "from", "to", "kind", "kid", "user", "group", "op", "code"];
/** Lists of [name, id] pairs (`ack`, `rack`, `delivered`): the names are interned. */
const INTERNED_PAIR_HEADS = { items: [0], groups: [0], files: [0] };
const flatFrames = new FlatMapDecoder(FLAT_FRAME_KEYS, INTERNED_KEYS, INTERNED_PAIR_HEADS);
const flatEncoder = new FlatMapEncoder(FLAT_FRAME_KEYS, { compactMaps: true });

function decodeWith<F>(
  validators: Record<string, Validator<unknown>>,
  payload: Uint8Array,
): F {
  // The flat decoder checks every length against the bytes present before
  // it allocates (and nests arrays two deep at most). For anything else,
  // sizes and counts are checked before msgpackr allocates anything; no
  // frame nests deeper than a map of arrays of tuples.
  let value: unknown = flatFrames.decode(payload);
  if (value === null) {
    checkMsgpack(payload, FRAME_LIMITS);
    try {
      value = packr.unpack(payload);
    } catch {
      throw new FastChatError("BAD_FRAME", "frame is not valid MessagePack");
    }
  }
  if (
    typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype
  ) {
    throw new FastChatError("BAD_FRAME", "frame is not a map");
  }
  const t = (value as { t?: unknown }).t;
  const validate = typeof t === "string" && Object.hasOwn(validators, t) ? validators[t] : null;
  if (!validate) {
    throw new FastChatError(
      "BAD_REQUEST",
      `unknown frame type ${typeof t === "string" ? JSON.stringify(t.slice(0, 32)) : typeof t}`,
      {
        field: "t",
      },
    );
  }
  return validate(value) as F;
}

/**
 * Decodes and validates a client frame; throws `BAD_FRAME` / `BAD_REQUEST`.
 *
 * @example
 * ```ts
 * import { decodeClientFrame, encodePayload } from "@fastchat/lib/protocol";
 * decodeClientFrame(encodePayload({ t: "logout", rid: 9 })).t; // "logout"
 * ```
 */
export function decodeClientFrame(payload: Uint8Array): ClientFrame {
  return decodeWith<ClientFrame>(CLIENT_FRAMES, payload);
}

/**
 * Decodes and validates a server frame; throws `BAD_FRAME` / `BAD_REQUEST`.
 *
 * @example
 * ```ts
 * import { decodeServerFrame, encodePayload } from "@fastchat/lib/protocol";
 * decodeServerFrame(encodePayload({ t: "pong", rid: 9 })).t; // "pong"
 * ```
 */
export function decodeServerFrame(payload: Uint8Array): ServerFrame {
  return decodeWith<ServerFrame>(SERVER_FRAMES, payload);
}

/**
 * Server-to-server frames. Each server keeps one outbound link to every
 * live peer and sends all of its traffic for that peer on it; links are
 * mutually authenticated with the servers' Ed25519 keys from the registry.
 *
 * Handshake (connector C, acceptor A), SIGMA-style: C → `hello{from,to,nonce,eph}`;
 * A → `auth{from,nonce,eph,sig}`; C → `auth2{sig}`; each signature covers the
 * whole transcript ({@link transcriptBytes}: both ids, nonces and X25519
 * ephemerals) and the signer's role. Then both derive the channel keys
 * (server/peer_channel.ts) and every later frame — starting with A's
 * `ready` — is sealed. `fwd.origin` must be the link's authenticated peer.
 *
 * @example
 * ```ts
 * import { decodePeerFrame, encodePeerFrame } from "@fastchat/server/peer_protocol";
 * decodePeerFrame(encodePeerFrame({ t: "ready" })).t; // "ready"
 * ```
 * @module
 */
import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
import { FlatMapDecoder } from "@fastchat/lib/flat_map_decoder";
import { FlatMapEncoder } from "@fastchat/lib/flat_map_encoder";
import { FastChatError } from "@fastchat/lib/errors";
import { checkMsgpack } from "@fastchat/lib/msgpack_guard";
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
} from "@fastchat/lib/validate";
import { canonicalBytes } from "@fastchat/lib/crypto";

/**
 * A forwarded message: id, from, to, and the client `msg` frame payload the
 * origin validated and encoded once; the receiving server hands it to the
 * recipient's sessions as is (peers are mutually authenticated servers).
 */
export type ForwardedMessage = [string, string, string, Uint8Array];

/** Frames exchanged between servers. */
/**
 * A group message or event forwarded once to a server, for the group members
 * connected there: [id, from, group, encoded msg frame, recipients].
 *
 * @example
 * ```ts
 * const m: ForwardedGroupMessage = ["m-00000001", "alice", "team", new Uint8Array([1]), ["bob", "carol"]];
 * ```
 */
export type ForwardedGroupMessage = [string, string, string, Uint8Array, string[]];

/**
 * The lists of a `batch` peer frame (each absent when empty).
 *
 * @example
 * ```ts
 * import type { PeerBatchLists } from "@fastchat/server/peer_protocol";
 * const b: PeerBatchLists = { ack: [["bob", "alice", "m-00000001"]] };
 * ```
 */
export interface PeerBatchLists {
  fwd?: ForwardedMessage[];
  gfwd?: ForwardedGroupMessage[];
  /** Acknowledgements routed back to the origin: [recipient, from, id]. */
  ack?: [string, string, string][];
  /** Receipts for senders connected to the receiving server: [sender, recipient, id]. */
  rcpt?: [string, string, string][];
  /** Receipts already stored by the sending server. */
  srcpt?: [string, string, string][];
}

export type PeerFrame =
  | { t: "hello"; from: string; to: string; nonce: Uint8Array; eph: Uint8Array }
  | { t: "auth"; from: string; nonce: Uint8Array; eph: Uint8Array; sig: Uint8Array }
  | { t: "auth2"; sig: Uint8Array }
  | { t: "ready" }
  /**
   * Everything one server had for another at the end of an event-loop turn,
   * in one frame (one seal, one decode): forwards, group forwards,
   * acknowledgements, receipts and stored receipts, each as in the frames
   * of those names; the origin of forwards is the sending server. Handled
   * in that order. Absent lists are empty.
   */
  | { t: "batch" } & PeerBatchLists
  /** Messages for users connected to the receiving server; `origin` stores them. */
  | { t: "fwd"; origin: string; msgs: ForwardedMessage[] }
  | { t: "gfwd"; origin: string; msgs: ForwardedGroupMessage[] }
  /** Recipient acknowledgements routed back to the origin: [recipient, from, id]. */
  | { t: "ack"; items: [string, string, string][] }
  /**
   * Delivered receipts for senders connected to the receiving server:
   * [sender, recipient, id]; `stored` ones are in the store until the sender acknowledges them.
   */
  | { t: "rcpt"; items: [string, string, string][]; stored?: boolean }
  /** Users that came online / went offline on the sending server. */
  | { t: "presence"; seq: number; online: boolean; users: string[] }
  /** All users online on the sending server (sent when a link comes up). */
  | { t: "snapshot"; users: string[] }
  /** The receiving server's `presence` seq has been applied (and its writes flushed). */
  | { t: "presence_ack"; seq: number }
  /** Liveness of a quiet link: a `ping` is answered with a `pong` on the same link. */
  | { t: "ping" }
  | { t: "pong" };

const id = str(1, 128);
const user = str(1, 32);
const msgId = str(8, 64);
const users = array(user, 0, 1_000_000);
const triple = tuple(user, user, msgId) as Validator<[string, string, string]>;
// A msg frame: body up to 1 MiB, envelope up to 8 KiB, and the fields around them.
const fwdMsgs = array(tuple(msgId, user, user, bytes(1, (1 << 20) + 16384)), 1, 100_000);
const gfwdMsgs = array(
  tuple(msgId, user, user, bytes(1, (1 << 20) + 16384), array(user, 1, 100_000)),
  1,
  100_000,
);

const VALIDATORS: Record<PeerFrame["t"], Validator<unknown>> = {
  hello: object({
    t: oneOf("hello"),
    from: id,
    to: id,
    nonce: bytes(16, 16),
    eph: bytes(32, 32),
  }),
  auth: object({
    t: oneOf("auth"),
    from: id,
    nonce: bytes(16, 16),
    eph: bytes(32, 32),
    sig: bytes(64, 64),
  }),
  auth2: object({ t: oneOf("auth2"), sig: bytes(64, 64) }),
  ready: object({ t: oneOf("ready") }),
  batch: object({
    t: oneOf("batch"),
    fwd: optional(fwdMsgs),
    gfwd: optional(gfwdMsgs),
    ack: optional(array(triple, 1, 100_000)),
    rcpt: optional(array(triple, 1, 100_000)),
    srcpt: optional(array(triple, 1, 100_000)),
  }),
  fwd: object({ t: oneOf("fwd"), origin: id, msgs: fwdMsgs }),
  gfwd: object({ t: oneOf("gfwd"), origin: id, msgs: gfwdMsgs }),
  ack: object({ t: oneOf("ack"), items: array(triple, 1, 100_000) }),
  rcpt: object({ t: oneOf("rcpt"), items: array(triple, 1, 100_000), stored: optional(boolean()) }),
  presence: object({ t: oneOf("presence"), seq: int(0, 2 ** 53 - 1), online: boolean(), users }),
  snapshot: object({ t: oneOf("snapshot"), users }),
  presence_ack: object({ t: oneOf("presence_ack"), seq: int(0, 2 ** 53 - 1) }),
  ping: object({ t: oneOf("ping") }),
  pong: object({ t: oneOf("pong") }),
};

const packr = msgpackCodec({ compactMaps: true });
/** Every key of a peer frame: frames of scalars and (arrays of) tuples go without msgpackr both ways. */
const PEER_KEYS = [
  "t",
  "from",
  "to",
  "nonce",
  "eph",
  "sig",
  "origin",
  "msgs",
  "fwd",
  "gfwd",
  "ack",
  "rcpt",
  "srcpt",
  "items",
  "stored",
  "seq",
  "online",
  "users",
];
const flatEncoder = new FlatMapEncoder(PEER_KEYS, { compactMaps: true, maxBytes: 256 * 1024 });
/** The user names in a batch's tuples: forwards [id, from, to, msg], acks and receipts [user, user, id]. */
const NAMES_IN_TUPLES = { fwd: [1, 2], ack: [0, 1], rcpt: [0, 1], srcpt: [0, 1], items: [0, 1] };
const flatDecoder = new FlatMapDecoder(PEER_KEYS, ["t", "from", "to", "origin"], NAMES_IN_TUPLES);

/**
 * Encodes a peer frame payload: a `batch` of forwards, acknowledgements and
 * receipts (the hot one) without msgpackr, into the bytes msgpackr writes
 * (lib/flat_map_encoder.ts); other shapes and frames over 256 KiB through it.
 */
export function encodePeerFrame(f: PeerFrame): Uint8Array {
  return flatEncoder.encode(f) ?? packr.pack(f);
}

/** Decodes and validates a peer frame; throws `BAD_FRAME` / `BAD_REQUEST`. */
export function decodePeerFrame(payload: Uint8Array): PeerFrame {
  // A flat frame (every `batch` without group forwards) is decoded without
  // msgpackr, every length checked before it allocates. For the rest,
  // declared sizes are checked against the bytes before msgpackr allocates:
  // the deepest frame is a map of arrays of tuples holding arrays (gfwd).
  let v: unknown = flatDecoder.decode(payload);
  if (v === null) {
    checkMsgpack(payload, { maxDepth: 4 });
    try {
      v = packr.unpack(payload);
    } catch {
      throw new FastChatError("BAD_FRAME", "peer frame is not valid MessagePack");
    }
  }
  const t = (v as { t?: unknown } | null)?.t;
  if (typeof t !== "string" || !Object.hasOwn(VALIDATORS, t)) {
    throw new FastChatError(
      "BAD_REQUEST",
      `unknown peer frame ${typeof t === "string" ? JSON.stringify(t.slice(0, 32)) : typeof t}`,
    );
  }
  return VALIDATORS[t as PeerFrame["t"]](v) as PeerFrame;
}

/** What both sides of a link handshake contributed. */
export interface HandshakeTranscript {
  connector: string;
  acceptor: string;
  connectorNonce: Uint8Array;
  acceptorNonce: Uint8Array;
  connectorEph: Uint8Array;
  acceptorEph: Uint8Array;
}

/**
 * The transcript of a link handshake; `signer` ("connector" or "acceptor",
 * or "keys" for the key derivation salt) keeps one side's signature from
 * being reflected as the other's.
 *
 * @example
 * ```ts
 * import { transcriptBytes } from "@fastchat/server/peer_protocol";
 * const z = new Uint8Array(16), e = new Uint8Array(32);
 * transcriptBytes("keys", { connector: "a", acceptor: "b", connectorNonce: z, acceptorNonce: z, connectorEph: e, acceptorEph: e });
 * ```
 */
export function transcriptBytes(
  signer: "connector" | "acceptor" | "keys",
  t: HandshakeTranscript,
): Uint8Array {
  return canonicalBytes("fastchat/peer-link/v2", [
    signer,
    t.connector,
    t.acceptor,
    t.connectorNonce,
    t.acceptorNonce,
    t.connectorEph,
    t.acceptorEph,
  ]).slice();
}

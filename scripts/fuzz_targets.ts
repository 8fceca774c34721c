/**
 * Every decoder that reads bytes from the network, as fuzz targets: client,
 * server and peer frames, message bodies, key envelopes, LB tickets, the
 * frame splitter and the embedded database's wire reader. Each comes with
 * valid encodings for mutations to start from and the rule for what counts
 * as its typed error (anything else it throws is a crash).
 *
 * @example
 * ```ts
 * import { DECODER_TARGETS } from "./fuzz_targets.ts";
 * for (const t of DECODER_TARGETS) for (const s of t.samples) t.decode(s);
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { encodeFrame, FrameDecoder } from "@fastchat/lib/frame";
import { decodeClientFrame, decodeServerFrame, encodePayload } from "@fastchat/lib/protocol";
import { toBase64Url } from "@fastchat/lib/crypto/bytes";
import { decodeEnvelope, encodeEnvelope } from "@fastchat/lib/crypto";
import { decodePeerFrame, encodePeerFrame } from "@fastchat/server/peer_protocol";
import { decodeContent, encodeContent } from "@fastchat/client/message_content";
import { decodeGroupEvent, encodeGroupEvent } from "@fastchat/lib/group_event";
import { packBody, parseBody } from "@fastchat/client/message_body";
import { assembleTicket, encodeTicketBody, parseTicket } from "@fastchat/lib/cluster/ticket_format";
import { FrontendReader, queryMessage, WireError } from "../db/wire.ts";

/**
 * One decoder under test.
 *
 * @example
 * ```ts
 * import type { DecoderTarget } from "./fuzz_targets.ts";
 * const t: DecoderTarget = { name: "x", samples: [], decode() {}, typed: () => true };
 * ```
 */
export interface DecoderTarget {
  name: string;
  /** Valid encodings that mutations start from. */
  samples: Uint8Array[];
  /** Decodes `input`; throws the decoder's typed error on bad input. */
  decode(input: Uint8Array): void;
  /** Whether `e` is the decoder's own typed error (anything else is a crash). */
  typed(e: unknown): boolean;
}

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);
const isFastChatError = (e: unknown) => e instanceof FastChatError;

function frameSplitter(input: Uint8Array): void {
  const dec = new FrameDecoder(64 * 1024);
  const cut = input.length >> 1;
  dec.push(input.subarray(0, cut));
  dec.push(input.subarray(cut));
}

function wireReader(input: Uint8Array): void {
  // The first byte chooses the phase: 0 (a length's high byte) for startup.
  const r = new FrontendReader({ startup: input.length > 0 && input[0] === 0 });
  const cut = input.length >> 1;
  r.push(input.subarray(0, cut));
  r.push(input.subarray(cut));
}

/** A signed ticket's binary form (its text form is this, base64url-encoded). */
function ticketBytes(): Uint8Array {
  const t = assembleTicket(
    encodeTicketBody({
      version: 1,
      keyId: toBase64Url(bytes(8)),
      serverId: "fc-server-1",
      host: "127.0.0.1",
      port: 7801,
      issuedAt: 1_700_000_000_000,
      expiresAt: 1_700_000_030_000,
      nonce: toBase64Url(bytes(16)),
    }),
    bytes(64),
  );
  return Uint8Array.from(atob(t.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
}

/**
 * Every decoder of network bytes, with valid samples.
 *
 * @example
 * ```ts
 * import { DECODER_TARGETS } from "./fuzz_targets.ts";
 * console.log(DECODER_TARGETS.map((t) => t.name).join(", "));
 * ```
 */
export const DECODER_TARGETS: DecoderTarget[] = [
  {
    name: "client frames",
    decode: (b) => void decodeClientFrame(b),
    typed: isFastChatError,
    samples: [
      encodePayload({ t: "hello", v: 1, agent: "fuzz" }),
      encodePayload({ t: "login", rid: 1, user: "alice", auth: bytes(32) }),
      encodePayload({ t: "send", id: "m-00000001", to: "bob", kind: "dm", ts: 1, body: bytes(40) }),
      encodePayload({ t: "ack", items: [["alice", "m-00000001"], ["bob", "m-00000002"]] }),
      encodePayload({ t: "ack", items: [], groups: [["alice", "m-00000003"]] }),
      encodePayload({ t: "group", rid: 5, op: "create", group: "team", users: ["bob", "carol"] }),
      encodePayload({ t: "upload", rid: 6, file: "AbCdEfGhIjKlMnOpQrStUv", bytes: 300, chunks: 1 }),
      encodePayload({
        t: "chunk",
        rid: 7,
        file: "AbCdEfGhIjKlMnOpQrStUv",
        idx: 0,
        data: bytes(80),
      }),
      encodePayload({ t: "fetch", rid: 8, file: "AbCdEfGhIjKlMnOpQrStUv", from: 0, count: 3 }),
      encodePayload({
        t: "register",
        rid: 2,
        user: "carol",
        auth: bytes(32),
        kdf: { salt: bytes(16), iter: 600_000 },
        keys: { enc: bytes(294), sign: bytes(32) },
        backup: bytes(64),
      }),
    ],
  },
  {
    name: "server frames",
    decode: (b) => void decodeServerFrame(b),
    typed: isFastChatError,
    samples: [
      encodePayload({ t: "welcome", v: 1, server: "fc-1", max: 65536 }),
      encodePayload({
        t: "msg",
        id: "m-00000001",
        from: "a",
        to: "b",
        kind: "dm",
        ts: 1,
        body: bytes(9),
      }),
      encodePayload({ t: "delivered", items: [["bob", "m-00000001"]], stored: true }),
      encodePayload({ t: "chunk", file: "AbCdEfGhIjKlMnOpQrStUv", idx: 2, data: bytes(60) }),
      encodePayload({ t: "ok", rid: 9, members: [["alice", true], ["bob", false]] }),
      encodePayload({ t: "ok", rid: 3, kdf: { salt: bytes(16), iter: 600_000 } }),
      encodePayload({ t: "error", rid: 4, code: "BAD_FRAME", message: "no" }),
    ],
  },
  {
    name: "peer frames",
    decode: (b) => void decodePeerFrame(b),
    typed: isFastChatError,
    samples: [
      encodePeerFrame({ t: "fwd", origin: "fc-1", msgs: [["m-00000001", "a", "b", bytes(30)]] }),
      encodePeerFrame({ t: "ack", items: [["b", "a", "m-00000001"]] }),
      encodePeerFrame({
        t: "gfwd",
        origin: "fc-1",
        msgs: [["m-00000002", "a", "team", bytes(30), ["b", "c"]]],
      }),
      encodePeerFrame({ t: "presence", seq: 3, online: true, users: ["alice", "bob"] }),
      encodePeerFrame({ t: "hello", from: "fc-1", to: "fc-2", nonce: bytes(16), eph: bytes(32) }),
    ],
  },
  {
    name: "message bodies",
    decode: (b) => void parseBody(b),
    typed: isFastChatError,
    samples: [packBody("kid-12345678", bytes(12), bytes(48))],
  },
  {
    name: "message contents",
    decode: (b) => void decodeContent(b),
    typed: isFastChatError,
    samples: [
      encodeContent({ type: "text", text: "hello" }),
      encodeContent({ type: "sender_key", group: "team", kid: "sk-0123456789", key: bytes(32) }),
      encodeContent({
        type: "file",
        file: {
          file: "AbCdEfGhIjKlMnOpQrStUv",
          key: bytes(32),
          name: "a.png",
          bytes: 10,
          chunks: 1,
          sha256: bytes(32),
          mime: "image/png",
        },
      }),
    ],
  },
  {
    name: "group events",
    decode: (b) => void decodeGroupEvent(b),
    typed: isFastChatError,
    samples: [
      encodeGroupEvent("team", { change: "created", user: "a", by: "a", members: ["a", "b"] }),
    ],
  },
  {
    name: "key envelopes",
    decode: (b) => void decodeEnvelope(b),
    typed: isFastChatError,
    samples: [
      encodeEnvelope({
        version: 1,
        kid: toBase64Url(bytes(16)),
        sender: "alice",
        recipient: "bob",
        createdAt: 1_700_000_000_000,
        recipientKeyFingerprint: bytes(32),
        wrapped: bytes(256),
        signature: bytes(64),
      }),
    ],
  },
  {
    name: "tickets",
    // Mutations work on the binary form; the decoder gets its text form.
    decode: (b) => void parseTicket(toBase64Url(b)),
    typed: isFastChatError,
    samples: [ticketBytes()],
  },
  {
    name: "frame splitter",
    decode: frameSplitter,
    typed: isFastChatError,
    samples: [encodeFrame(encodePayload({ t: "ping", rid: 1 })), encodeFrame(bytes(300))],
  },
  {
    name: "database wire reader",
    decode: wireReader,
    typed: (e) => e instanceof WireError,
    samples: [
      queryMessage("select 1"),
      new Uint8Array([0, 0, 0, 8, 4, 210, 22, 47]), // SSLRequest
      new Uint8Array([0, 0, 0, 17, 0, 3, 0, 0, 117, 115, 101, 114, 0, 112, 103, 0, 0]),
    ],
  },
];

/**
 * One authenticated, encrypted server-to-server connection. {@link dialPeer}
 * is the connecting side, {@link acceptPeer} the accepting side; both sign the
 * handshake transcript (ids, nonces, X25519 ephemerals) with the Ed25519 key
 * they published in the registry and verify the other's, then seal every
 * frame (server/peer_channel.ts): a frame altered, replayed, reordered or
 * dropped on the path closes the link with `PEER_LINK_TAMPERED`. A link
 * that goes quiet is pinged, and one silent for {@link PEER_DEAD_AFTER_PINGS}
 * ping intervals (a cut host sends no RST) closes with `TIMEOUT`, so the
 * mesh dials again and resends what is stored.
 *
 * @example
 * ```ts
 * import { dialPeer } from "@fastchat/server/peer_link";
 * declare const me: import("@fastchat/server/peer_link").LinkIdentity;
 * declare const peer: import("@fastchat/server/server_registry").ServerInfo;
 * const link = await dialPeer(me, peer, { onFrame: () => {}, onClose: () => {} });
 * link.send({ t: "snapshot", users: [] });
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { FramedConnection, type IoStats } from "@fastchat/lib/framed_conn";
import { ChannelEphemeral, type SealedFrameCodec } from "./peer_channel.ts";
import {
  decodePeerFrame,
  encodePeerFrame,
  type HandshakeTranscript,
  type PeerFrame,
  transcriptBytes,
} from "./peer_protocol.ts";
import type { ServerInfo } from "./server_registry.ts";

/** This server's identity on peer links. */
export interface LinkIdentity {
  id: string;
  keys: CryptoKeyPair;
}

/** Callbacks of an established link. */
export interface LinkHandlers {
  /** A frame that opened and decoded; `peer` is the link's authenticated server id. */
  onFrame: (f: PeerFrame, peer: string) => void | Promise<void>;
  onClose: (err?: FastChatError) => void;
}

/**
 * Options of a link.
 *
 * @example
 * ```ts
 * import type { LinkOptions } from "@fastchat/server/peer_link";
 * const fast: LinkOptions = { pingMs: 500 }; // dead after 1.5 s of silence
 * ```
 */
export interface LinkOptions {
  /** A link quiet this long is pinged (default {@link DEFAULT_PEER_PING_MS}; 0: never). */
  pingMs?: number;
}

/** Default ping interval of a quiet peer link. */
export const DEFAULT_PEER_PING_MS = 5000;
/** Shortest ping interval `--peer-ping-ms` accepts (ms). */
export const MIN_PEER_PING_MS = 50;
/** Longest ping interval `--peer-ping-ms` accepts (ms): a dead peer is noticed within 30 min. */
export const MAX_PEER_PING_MS = 600_000;

/**
 * Checks a configured peer ping interval (`--peer-ping-ms`, the
 * `cluster.peerPingMs` option): an integer from {@link MIN_PEER_PING_MS} to
 * {@link MAX_PEER_PING_MS}, else `INVALID_CONFIG`. Returns it.
 *
 * @example
 * ```ts
 * import { checkPeerPingMs } from "@fastchat/server/peer_link";
 * checkPeerPingMs(1000); // 1000: a silent peer is dropped after 3 s
 * ```
 */
export function checkPeerPingMs(ms: number): number {
  if (!Number.isInteger(ms) || ms < MIN_PEER_PING_MS || ms > MAX_PEER_PING_MS) {
    throw new FastChatError(
      "INVALID_CONFIG",
      `--peer-ping-ms must be an integer from ${MIN_PEER_PING_MS} to ${MAX_PEER_PING_MS} ` +
        `(ms), not ${String(ms).slice(0, 32)}`,
    );
  }
  return ms;
}
/** Quiet ping intervals in a row after which a link is dead (pings went out after the first). */
export const PEER_DEAD_AFTER_PINGS = 3;

/** An authenticated link. */
export interface PeerLink {
  readonly peer: string;
  send(f: PeerFrame): boolean;
  /** Writes what `send` queued now rather than after this turn (at the end of a turn only). */
  flush(): void;
  close(): void;
  readonly closed: boolean;
}

/**
 * Socket reads and writes and frames in and out of every peer link in this
 * process (also counted in `ioStats`); the server logs them at shutdown.
 *
 * @example
 * ```ts
 * import { peerIoStats } from "@fastchat/server/peer_link";
 * console.log(peerIoStats.framesOut / Math.max(1, peerIoStats.writes), "peer frames per write");
 * ```
 */
export const peerIoStats: IoStats = { reads: 0, writes: 0, framesIn: 0, framesOut: 0 };

const HANDSHAKE_MS = 5000;
const MAX_LINK_FRAME = 64 * 1024 * 1024;
const MAX_LINK_QUEUE = 64 * 1024 * 1024;

async function verify(publicKey: Uint8Array, sig: Uint8Array, data: Uint8Array): Promise<boolean> {
  const key = await crypto.subtle.importKey(
    "raw",
    publicKey as BufferSource,
    { name: "Ed25519" },
    false,
    [
      "verify",
    ],
  );
  return await crypto.subtle.verify(
    { name: "Ed25519" },
    key,
    sig as BufferSource,
    data as BufferSource,
  );
}

async function sign(keys: CryptoKeyPair, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.sign({ name: "Ed25519" }, keys.privateKey, data as BufferSource),
  );
}

type Handshake = (
  next: () => Promise<PeerFrame>,
  send: (f: PeerFrame) => void,
  secure: (codec: SealedFrameCodec) => void,
) => Promise<string>;

/** Runs a handshake over `conn`; afterwards frames are sealed and go to `handlers`. */
function linkOver(
  conn: Deno.Conn,
  handlers: LinkHandlers,
  handshake: Handshake,
  opts: LinkOptions,
): Promise<PeerLink> {
  let ready = false;
  let heard = 0;
  let liveness: ReturnType<typeof setInterval> | undefined;
  let peer = "";
  let codec: SealedFrameCodec | null = null;
  const inbox: PeerFrame[] = [];
  let wake: (() => void) | null = null;
  let failed: FastChatError | null = null;
  const fc = new FramedConnection(conn, {
    maxFrame: 4096,
    maxQueueBytes: MAX_LINK_QUEUE,
    stats: peerIoStats,
    onFrame: (p) => {
      let f: PeerFrame;
      try {
        f = decodePeerFrame(codec ? codec.open(p) : p);
      } catch (e) {
        fc.close(FastChatError.from(e, "BAD_FRAME"));
        return;
      }
      heard++;
      if (f.t === "ping" || f.t === "pong") {
        if (f.t === "ping" && codec) send({ t: "pong" });
        return;
      }
      if (ready) return handlers.onFrame(f, peer);
      inbox.push(f);
      wake?.();
    },
    onClose: (err) => {
      clearInterval(liveness);
      failed = err ?? new FastChatError("CONNECTION_CLOSED", "peer link closed");
      wake?.();
      if (ready) handlers.onClose(err);
    },
  });
  fc.start();
  const next = async (): Promise<PeerFrame> => {
    while (inbox.length === 0) {
      if (failed) throw failed;
      await new Promise<void>((r) => wake = r);
      wake = null;
    }
    return inbox.shift()!;
  };
  const send = (f: PeerFrame) => {
    const payload = encodePeerFrame(f);
    return fc.sendPayload(codec ? codec.seal(payload) : payload);
  };
  const secure = (c: SealedFrameCodec) => {
    // The other side is authenticated: accept full-size (sealed) frames.
    codec = c;
    fc.decoder.maxFrame = MAX_LINK_FRAME;
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    handshake(next, send, secure),
    new Promise<never>((_, reject) =>
      timer = setTimeout(
        () => reject(new FastChatError("TIMEOUT", "peer handshake timed out")),
        HANDSHAKE_MS,
      )
    ),
  ]).then((id) => {
    clearTimeout(timer);
    if (!codec) throw new FastChatError("INTERNAL", "peer handshake ended unsealed");
    peer = id;
    ready = true;
    const pingMs = opts.pingMs ?? DEFAULT_PEER_PING_MS;
    if (pingMs > 0 && !fc.closed) {
      let heardAtTick = heard, quiet = 0;
      liveness = setInterval(() => {
        if (heard !== heardAtTick) {
          heardAtTick = heard;
          quiet = 0;
          return;
        }
        if (++quiet < PEER_DEAD_AFTER_PINGS) return void send({ t: "ping" });
        clearInterval(liveness);
        fc.close(
          new FastChatError(
            "TIMEOUT",
            `peer ${peer} silent for ${quiet * pingMs} ms (pings unanswered)`,
          ),
        );
      }, pingMs);
    }
    // Frames that raced the end of the handshake.
    for (const f of inbox.splice(0)) handlers.onFrame(f, peer);
    return {
      peer,
      send,
      flush: () => fc.flushQueued(),
      close: () => fc.close(),
      get closed() {
        return fc.closed;
      },
    };
  }).catch((e) => {
    clearTimeout(timer);
    fc.close();
    throw FastChatError.from(e, "CONNECTION_CLOSED");
  });
}

/** Connects to `peer`, authenticates both ways and seals the link. */
export async function dialPeer(
  me: LinkIdentity,
  peer: ServerInfo,
  handlers: LinkHandlers,
  opts: LinkOptions = {},
): Promise<PeerLink> {
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ hostname: peer.peerHost, port: peer.peerPort });
    (conn as Deno.TcpConn).setNoDelay(true);
  } catch (e) {
    throw new FastChatError("CONNECT_FAILED", `peer ${peer.id}: ${(e as Error).message}`);
  }
  return await linkOver(conn, handlers, async (next, send, secure) => {
    const nonce = crypto.getRandomValues(new Uint8Array(16));
    const eph = new ChannelEphemeral();
    send({ t: "hello", from: me.id, to: peer.id, nonce, eph: eph.publicKey });
    const auth = await next();
    if (auth.t !== "auth" || auth.from !== peer.id) {
      throw new FastChatError("BAD_REQUEST", `peer ${peer.id}: unexpected handshake`);
    }
    const t: HandshakeTranscript = {
      connector: me.id,
      acceptor: peer.id,
      connectorNonce: nonce,
      acceptorNonce: auth.nonce,
      connectorEph: eph.publicKey,
      acceptorEph: auth.eph,
    };
    if (!await verify(peer.publicKey, auth.sig, transcriptBytes("acceptor", t))) {
      throw new FastChatError("BAD_SIGNATURE", `peer ${peer.id} failed authentication`);
    }
    const codec = eph.derive(auth.eph, transcriptBytes("keys", t), "connector");
    send({ t: "auth2", sig: await sign(me.keys, transcriptBytes("connector", t)) });
    secure(codec);
    // `ready` is the acceptor's first sealed frame: it confirms both derived the same keys.
    const ready = await next();
    if (ready.t !== "ready") throw new FastChatError("BAD_REQUEST", `peer ${peer.id} refused`);
    return peer.id;
  }, opts);
}

/**
 * Accepts a link on `conn`; `lookup` returns the registered public key of a
 * server id (or null if it is not a live server).
 */
export async function acceptPeer(
  me: LinkIdentity,
  conn: Deno.Conn,
  lookup: (id: string) => Promise<Uint8Array | null>,
  handlers: LinkHandlers,
  opts: LinkOptions = {},
): Promise<PeerLink> {
  return await linkOver(conn, handlers, async (next, send, secure) => {
    const hello = await next();
    if (hello.t !== "hello" || hello.to !== me.id) {
      throw new FastChatError("BAD_REQUEST", "unexpected peer handshake");
    }
    const key = await lookup(hello.from);
    if (!key) throw new FastChatError("BAD_SIGNATURE", `unknown peer ${hello.from}`);
    const nonce = crypto.getRandomValues(new Uint8Array(16));
    const eph = new ChannelEphemeral();
    const t: HandshakeTranscript = {
      connector: hello.from,
      acceptor: me.id,
      connectorNonce: hello.nonce,
      acceptorNonce: nonce,
      connectorEph: hello.eph,
      acceptorEph: eph.publicKey,
    };
    const codec = eph.derive(hello.eph, transcriptBytes("keys", t), "acceptor");
    send({
      t: "auth",
      from: me.id,
      nonce,
      eph: eph.publicKey,
      sig: await sign(me.keys, transcriptBytes("acceptor", t)),
    });
    const auth2 = await next();
    if (auth2.t !== "auth2" || !await verify(key, auth2.sig, transcriptBytes("connector", t))) {
      throw new FastChatError("BAD_SIGNATURE", `peer ${hello.from} failed authentication`);
    }
    secure(codec);
    send({ t: "ready" });
    return hello.from;
  }, opts);
}

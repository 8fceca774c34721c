/**
 * The cluster mesh of one server: an outbound link to every live peer
 * (re-established with backoff), a listener for peers' links, the directory
 * of which users are online on which peer, and batching of forwarded
 * messages, acknowledgements and receipts per peer.
 *
 * @example
 * ```ts
 * import { PeerMesh } from "@fastchat/server/peer_mesh";
 * declare const mesh: PeerMesh;
 * for (const peer of mesh.serversOf("bob")) console.log("bob is on", peer);
 * ```
 * @module
 */
import { ConnectionCaps } from "@fastchat/lib/connection_caps";
import type { FastChatError } from "@fastchat/lib/errors";
import { acceptLoop, listen } from "@fastchat/lib/listener";
import { type Logger, nullLogger } from "@fastchat/lib/logger";
import {
  acceptPeer,
  dialPeer,
  type LinkIdentity,
  type LinkOptions,
  type PeerLink,
} from "./peer_link.ts";
import {
  detachedSink,
  type Fabric,
  type FabricSink,
  type RoutedAck,
  type RoutedReceipt,
} from "./fabric.ts";
import type { ForwardedGroupMessage, ForwardedMessage, PeerFrame } from "./peer_protocol.ts";
import type { ServerInfo } from "./server_registry.ts";
import { ForwardedSet } from "./forwarded_set.ts";
import { dispatchBatch, FabricBatches } from "./fabric_batches.ts";

const ANNOUNCE_TIMEOUT_MS = 2000;
/** Estimated bytes of one `batch` frame at most (links take frames up to 64 MiB). */
const BATCH_BUDGET = 8 * 1024 * 1024;
/**
 * Peer handshakes in progress at most, in total and per address; a
 * connection to the peer port past them is closed at once, unread.
 *
 * @example
 * ```ts
 * import { PEER_HANDSHAKE_CAPS } from "@fastchat/server/peer_mesh";
 * console.log(PEER_HANDSHAKE_CAPS.maxPerAddress); // 32
 * ```
 */
export const PEER_HANDSHAKE_CAPS = { maxTotal: 256, maxPerAddress: 32 } as const;

/**
 * Links, presence directory and batching: the {@link Fabric} of a cluster
 * whose servers link to each other directly.
 *
 * @example
 * ```ts
 * import { PeerMesh } from "@fastchat/server/peer_mesh";
 * declare const mesh: PeerMesh;
 * await mesh.announce(["alice"], true); // peers now forward alice's messages here
 * ```
 */
export class PeerMesh implements Fabric {
  readonly #me: LinkIdentity;
  #h: FabricSink;
  readonly #log: Logger;
  readonly #listener: Deno.Listener;
  readonly #out = new Map<string, { info: ServerInfo; link: PeerLink | null; stop: boolean }>();
  readonly #known = new Map<string, ServerInfo>();
  readonly #online = new Map<string, Set<string>>(); // peer -> users
  readonly #where = new Map<string, Set<string>>(); // user -> peers
  readonly #inbound = new Set<PeerLink>();
  /** Each peer's newest inbound link: what it says about the peer's users stands. */
  readonly #inboundOf = new Map<string, PeerLink>();
  /** Messages forwarded and not yet acknowledged, as peer/from/id (bounded, oldest dropped). */
  readonly #forwarded = new ForwardedSet();
  readonly #handshakes = new ConnectionCaps(PEER_HANDSHAKE_CAPS);
  /** What goes to each peer at the end of this event-loop turn. */
  readonly #batches = new FabricBatches({
    budget: BATCH_BUDGET,
    reachable: (peer) => this.#linkTo(peer) !== null,
    send: (peer, f) => this.#linkTo(peer)?.send(f) ?? false,
    // The batch is built at the end of a turn: write it now, not an iteration later.
    sent: (peer) => this.#linkTo(peer)?.flush(),
  });
  #seq = 0;
  readonly #ackWaiters = new Map<number, { peers: Set<string>; done: () => void }>();
  #closed = false;
  #refresh: () => Promise<ServerInfo[]>;
  readonly #linkOpts: LinkOptions;

  private constructor(
    me: LinkIdentity,
    listener: Deno.Listener,
    refresh: () => Promise<ServerInfo[]>,
    log: Logger,
    linkOpts: LinkOptions,
  ) {
    this.#me = me;
    this.#linkOpts = linkOpts;
    this.#listener = listener;
    this.#h = detachedSink(log);
    this.#refresh = refresh;
    this.#log = log;
    this.#acceptLoop();
  }

  /**
   * Listens for peer links on `host:port` (0 = any free port; a taken one
   * is `ADDRESS_IN_USE`). What peers send goes to the sink given to
   * {@link attach} (the server's router).
   */
  static start(opts: {
    me: LinkIdentity;
    host: string;
    port: number;
    /** Fresh list of live servers (to authenticate a peer that just registered). */
    refresh: () => Promise<ServerInfo[]>;
    logger?: Logger;
    /** A quiet link is pinged this often, and closed after 3 silent intervals (default 5 s). */
    linkPingMs?: number;
  }): PeerMesh {
    const listener = listen({ host: opts.host, port: opts.port, flag: "--peer-port" });
    return new PeerMesh(opts.me, listener, opts.refresh, opts.logger ?? nullLogger, {
      pingMs: opts.linkPingMs,
    });
  }

  /** Makes `sink` receive what peers send (call it before {@link update} dials anyone). */
  attach(sink: FabricSink): void {
    this.#h = sink;
  }

  /** The port peers connect to. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Peers with an established outbound link. */
  get linkedPeers(): string[] {
    return [...this.#out].filter(([, o]) => o.link && !o.link.closed).map(([id]) => id);
  }

  /** Peers (not this server) where `user` has sessions. */
  serversOf(user: string): Iterable<string> {
    return this.#where.get(user) ?? [];
  }

  /** Applies the live server list: dial new peers, drop departed ones. */
  update(live: ServerInfo[]): void {
    if (this.#closed) return;
    const ids = new Set<string>();
    for (const s of live) {
      if (s.id === this.#me.id || s.peerPort === 0) continue;
      ids.add(s.id);
      this.#known.set(s.id, s);
      const cur = this.#out.get(s.id);
      if (!cur) {
        const entry = { info: s, link: null as PeerLink | null, stop: false };
        this.#out.set(s.id, entry);
        this.#dial(s.id, entry);
      } else if (cur.info.peerHost !== s.peerHost || cur.info.peerPort !== s.peerPort) {
        cur.info = s; // restarted elsewhere: the next dial uses the new address
        cur.link?.close();
      }
    }
    for (const [id, entry] of this.#out) {
      if (ids.has(id)) continue;
      entry.stop = true;
      entry.link?.close();
      this.#out.delete(id);
      this.#known.delete(id);
      this.#forgetPeer(id);
      this.#h.resync(`peer ${id} left`);
    }
  }

  async #dial(id: string, entry: { info: ServerInfo; link: PeerLink | null; stop: boolean }) {
    for (let attempt = 0; !entry.stop && !this.#closed; attempt++) {
      try {
        let dropped!: () => void;
        const gone = new Promise<void>((r) => dropped = r);
        const link = await dialPeer(this.#me, entry.info, {
          onFrame: () => {}, // outbound links carry our traffic; peers answer on their own links
          onClose: (err) => {
            if (err) {
              this.#log.warn("peer_link_closed", { peer: id, code: err.code, error: err.message });
            }
            dropped();
          },
        }, this.#linkOpts);
        if (entry.stop || this.#closed) {
          link.close();
          return;
        }
        entry.link = link;
        attempt = 0;
        link.send({ t: "snapshot", users: this.#h.localUsers() });
        this.#log.info("peer_link_up", { peer: id });
        this.#h.resync(`link to ${id} up`, true);
        await gone; // closing the link (stop/close) also resolves it
        entry.link = null;
        if (!entry.stop) this.#log.warn("peer_link_down", { peer: id });
      } catch (e) {
        if (attempt === 0 || attempt % 20 === 0) {
          this.#log.warn("peer_dial_failed", {
            peer: id,
            error: String((e as FastChatError).message ?? e),
          });
        }
      }
      const base = Math.min(5000, 100 * 2 ** Math.min(attempt, 6));
      await new Promise((r) => setTimeout(r, base / 2 + Math.random() * base / 2));
    }
  }

  /** Accepts peers' links (accept errors are retried with backoff) until closed. */
  #acceptLoop(): Promise<void> {
    return acceptLoop(this.#listener, {
      closing: () => this.#closed,
      serve: (conn) => this.#accept(conn),
      logger: this.#log,
    });
  }

  async #accept(conn: Deno.Conn): Promise<void> {
    const addr = (conn.remoteAddr as Deno.NetAddr).hostname ?? "unknown";
    const slot = this.#handshakes.admit(addr);
    if (!slot) {
      this.#log.warn("peer_refused", { addr, reason: "too many peer handshakes in progress" });
      try {
        conn.close();
      } catch (e) {
        this.#log.debug("peer_close_failed", { error: String(e) });
      }
      return;
    }
    let peerId = "";
    try {
      const link = await acceptPeer(this.#me, conn, (id) => this.#lookup(id), {
        onFrame: (f, peer) => this.#onInbound(peer, f),
        onClose: (err) => {
          this.#inbound.delete(link);
          if (err) {
            this.#log.warn("peer_link_closed", {
              peer: peerId,
              code: err.code,
              error: err.message,
            });
          }
          // A link the peer has since replaced (it dialled again after a
          // cut) may close late, after the new link's snapshot: that
          // snapshot stands.
          if (peerId && this.#inboundOf.get(peerId) === link) {
            this.#inboundOf.delete(peerId);
            this.#forgetPeer(peerId);
          }
        },
      }, this.#linkOpts);
      peerId = link.peer;
      this.#inbound.add(link);
      const older = this.#inboundOf.get(peerId);
      this.#inboundOf.set(peerId, link);
      // The peer dialled again, so its old link is dead (a half-open TCP
      // connection after a cut) and it may have forgotten our users (it
      // dropped us while we looked dead): close the old link and tell it our
      // users again on our own link (a snapshot replaces what it knew).
      older?.close();
      this.#out.get(peerId)?.link?.send({ t: "snapshot", users: this.#h.localUsers() });
    } catch (e) {
      this.#log.warn("peer_accept_failed", { error: String((e as FastChatError).message ?? e) });
    } finally {
      slot.release();
    }
  }

  async #lookup(id: string): Promise<Uint8Array | null> {
    let info = this.#known.get(id);
    if (!info) {
      for (const s of await this.#refresh()) if (s.id === id) info = s;
    }
    return info?.publicKey ?? null;
  }

  #onInbound(peer: string, f: PeerFrame): void | Promise<void> {
    switch (f.t) {
      case "batch":
        dispatchBatch(peer, f, this.#h, this.#forwarded, this.#log);
        return;
      case "fwd":
        // The origin is the authenticated peer of this link, never what a frame claims.
        if (f.origin !== peer) {
          this.#log.warn("peer_origin_refused", { peer, claimed: f.origin.slice(0, 128) });
          return;
        }
        this.#h.deliverForwarded(peer, f.msgs);
        return;
      case "gfwd":
        if (f.origin !== peer) {
          this.#log.warn("peer_origin_refused", { peer, claimed: f.origin.slice(0, 128) });
          return;
        }
        this.#h.deliverGroupForwarded(peer, f.msgs);
        return;
      case "ack": {
        // Only acknowledgements of messages we forwarded to this very peer act on the store.
        const items = f.items.filter(([, from, id]) => this.#forwarded.take(peer, from, id));
        if (items.length < f.items.length) {
          this.#log.warn("peer_ack_refused", { peer, refused: f.items.length - items.length });
        }
        if (items.length) this.#h.ackRouted(items);
        return;
      }
      case "rcpt":
        this.#h.receiptsRouted(f.items, f.stored === true);
        return;
      case "snapshot":
        this.#forgetPeer(peer);
        this.#setOnline(peer, f.users, true);
        return;
      case "presence":
        this.#setOnline(peer, f.users, f.online);
        if (!f.online) return;
        // Everything we accepted before this is durable once acked; later messages get forwarded.
        return this.#h.flush().then(() => {
          this.#out.get(peer)?.link?.send({ t: "presence_ack", seq: f.seq });
        });
      case "presence_ack": {
        const w = this.#ackWaiters.get(f.seq);
        if (w && w.peers.delete(peer) && w.peers.size === 0) w.done();
        return;
      }
      default:
        return;
    }
  }

  #setOnline(peer: string, users: string[], online: boolean): void {
    let set = this.#online.get(peer);
    if (!set) this.#online.set(peer, set = new Set());
    for (const u of users) {
      let where = this.#where.get(u);
      if (online) {
        set.add(u);
        if (!where) this.#where.set(u, where = new Set());
        where.add(peer);
      } else {
        set.delete(u);
        if (where?.delete(peer) && where.size === 0) this.#where.delete(u);
      }
    }
  }

  #forgetPeer(peer: string): void {
    const users = this.#online.get(peer);
    if (!users) return;
    this.#setOnline(peer, [...users], false);
    this.#online.delete(peer);
  }

  /**
   * Tells every linked peer that `users` came online (or went offline) here.
   * Coming online waits (bounded) until each peer has flushed its writes, so
   * the caller's backlog query then sees every message accepted elsewhere
   * before, and peers forward everything after. Resolves false if some
   * peer did not confirm within the bound.
   */
  async announce(users: string[], online: boolean): Promise<boolean> {
    const seq = ++this.#seq;
    const peers = new Set<string>();
    for (const [id, o] of this.#out) {
      if (o.link && !o.link.closed && o.link.send({ t: "presence", seq, online, users })) {
        peers.add(id);
      }
    }
    if (!online || peers.size === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const confirmed = await new Promise<boolean>((resolve) => {
      this.#ackWaiters.set(seq, { peers, done: () => resolve(true) });
      timer = setTimeout(() => resolve(false), ANNOUNCE_TIMEOUT_MS);
    });
    clearTimeout(timer);
    this.#ackWaiters.delete(seq);
    return confirmed;
  }

  /** The established outbound link to `peer`, if any. */
  #linkTo(peer: string): PeerLink | null {
    const link = this.#out.get(peer)?.link;
    return link && !link.closed ? link : null;
  }

  /** Queues a message for `peer` (dropped if the link is down: it is stored anyway). */
  forward(peer: string, m: ForwardedMessage): void {
    this.#forwarded.add(peer, m[1], m[0]);
    this.#batches.of(peer).fwd.push(m);
  }

  /** Queues a stored group message for the members connected to `peer` (stored: a lost link loses nothing). */
  forwardGroup(peer: string, m: ForwardedGroupMessage): void {
    this.#batches.of(peer).gfwd.push(m);
  }

  /** Routes an acknowledgement back to the message's origin server. */
  sendAck(peer: string, item: RoutedAck): void {
    this.#batches.of(peer).ack.push(item);
  }

  /** Sends a delivered receipt to the server where the sender is; `stored` if the store keeps it. */
  sendReceipt(peer: string, item: RoutedReceipt, stored = false): boolean {
    if (!this.#linkTo(peer)) return false;
    const b = this.#batches.of(peer);
    (stored ? b.srcpt : b.rcpt).push(item);
    return true;
  }

  /** Closes the listener and every link. */
  close(): void {
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Throws only on a second close() (BadResource): nothing is left to release.
    }
    for (const o of this.#out.values()) {
      o.stop = true;
      o.link?.close();
    }
    for (const l of this.#inbound) l.close();
    // Pending announcements (a link-up resync waits on one) end now, not at their timeout.
    for (const w of this.#ackWaiters.values()) w.done();
  }
}

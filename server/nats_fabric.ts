/**
 * The {@link Fabric} of a cluster whose servers reach each other through
 * NATS (`deno task server -- --fabric nats --nats URL`) instead of direct
 * links. The guarantees are the peer mesh's: a message is stored unless its
 * recipient acknowledged it, so a forward lost on the way (a server or NATS
 * went away) is delivered from the store when that server resyncs; an
 * acknowledgement only completes a message that was forwarded to its
 * sender; announcing a user online resolves (bounded) once every other
 * server has written what it accepted for that user.
 *
 * Each server heartbeats on NATS with a random incarnation; a server heard
 * for the first time (or with a new incarnation) is asked for its snapshot
 * of online users and triggers a resync; one silent for the liveness
 * interval, or that said `bye` while shutting down, is forgotten and
 * triggers a resync; one whose heartbeat is late is probed with a request,
 * and is gone at once if NATS says nobody answers on its subject (a killed
 * process's subscriptions go with its connection). Losing our own NATS connection forgets everybody; the
 * reconnect starts a new incarnation, so every server exchanges snapshots
 * with us again. Frames are the peer mesh's, batched per server per tick,
 * split to NATS's `max_payload`, and decoded as hostile input. Subjects:
 * server/nats_wire.ts. NATS itself is trusted to carry only this cluster's
 * servers: protect it with NATS credentials (user:password in the URL, TLS).
 *
 * @example
 * ```ts
 * import { NatsFabric } from "@fastchat/server/nats_fabric";
 * const fabric = await NatsFabric.connect({
 *   id: "srv-1",
 *   servers: ["nats://127.0.0.1:4222"],
 *   namespace: "0123456789abcdef0123456789abcdef", // a chat server uses its cluster id
 * });
 * await fabric.close();
 * ```
 * @module
 */
import { type Logger, nullLogger } from "@fastchat/lib/logger";
import { HEARTBEAT_MS, LIVENESS_MS } from "@fastchat/lib/cluster/timing";
import {
  detachedSink,
  type Fabric,
  type FabricSink,
  type RoutedAck,
  type RoutedReceipt,
} from "./fabric.ts";
import { dispatchBatch, FabricBatches } from "./fabric_batches.ts";
import { ForwardedSet } from "./forwarded_set.ts";
import { NatsLink } from "./nats_link.ts";
import { NatsSubjects, Reassembly } from "./nats_wire.ts";
import { PeerDirectory } from "./peer_directory.ts";
import {
  decodePeerFrame,
  encodePeerFrame,
  type ForwardedGroupMessage,
  type ForwardedMessage,
  type PeerFrame,
} from "./peer_protocol.ts";

/**
 * Options of {@link NatsFabric.connect}.
 *
 * @example
 * ```ts
 * import type { NatsFabricOptions } from "@fastchat/server/nats_fabric";
 * const o: NatsFabricOptions = { id: "srv-1", servers: ["nats://10.0.0.5:4222"], namespace: "prod" };
 * ```
 */
export interface NatsFabricOptions {
  /** This server's id (a NATS subject token). */
  id: string;
  /** NATS server URLs (the client fails over between them). */
  servers: string[];
  /** Keeps clusters sharing one NATS apart: a chat server uses its database's cluster id. */
  namespace: string;
  /** Heartbeat period (default 1 s). */
  heartbeatMs?: number;
  /** A server not heard from for this long is gone (default 3.5 s). */
  livenessMs?: number;
  /** Longest wait of announcing a user online (default 2 s). */
  announceTimeoutMs?: number;
  logger?: Logger;
  /** Attached at once (else see {@link NatsFabric.attach}): nothing heard is dropped. */
  sink?: FabricSink;
}

/** Largest frame, fragments included (as a direct link's). */
const MAX_FRAME = 64 * 1024 * 1024;
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/**
 * Presence, routing and batching over NATS subjects.
 *
 * @example
 * ```ts
 * import { NatsFabric } from "@fastchat/server/nats_fabric";
 * declare const fabric: NatsFabric;
 * for (const server of fabric.serversOf("bob")) console.log("bob is on", server);
 * ```
 */
export class NatsFabric implements Fabric {
  readonly #link: NatsLink;
  readonly #subjects: NatsSubjects;
  readonly #log: Logger;
  readonly #heartbeatMs: number;
  readonly #livenessMs: number;
  readonly #announceTimeoutMs: number;
  #sink: FabricSink;
  readonly #dir = new PeerDirectory();
  /** Servers heard from: when last, and their incarnation. */
  readonly #peers = new Map<string, { seen: number; incarnation: string; probing?: boolean }>();
  #incarnation = crypto.getRandomValues(new Uint8Array(8));
  /** Messages forwarded and not yet acknowledged (bounded, oldest dropped). */
  readonly #forwarded = new ForwardedSet();
  readonly #batches: FabricBatches;
  readonly #reassembly = new Reassembly({ maxBytes: MAX_FRAME, maxFragments: 1024 });
  #seq = 0;
  readonly #ackWaiters = new Map<number, { peers: Set<string>; done: () => void }>();
  readonly #timer: ReturnType<typeof setInterval>;
  #lastBeat = Date.now();
  #closing: Promise<void> | null = null;

  private constructor(link: NatsLink, subjects: NatsSubjects, opts: NatsFabricOptions) {
    this.#link = link;
    this.#subjects = subjects;
    this.#log = opts.logger ?? nullLogger;
    this.#heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
    this.#livenessMs = opts.livenessMs ?? LIVENESS_MS;
    this.#announceTimeoutMs = opts.announceTimeoutMs ?? 2000;
    this.#sink = opts.sink ?? detachedSink(this.#log);
    this.#batches = new FabricBatches({
      budget: link.maxPayload - 4096,
      reachable: (peer) => this.#peers.has(peer),
      send: (peer, f) => this.#sendTo(peer, f),
    });
    const l = subjects.listen;
    const on = (subject: string, handle: (from: string, data: Uint8Array) => unknown) =>
      link.subscribe(subject, (s) => subjects.sender(s), (from, data) => {
        const done = handle(from, data);
        return done instanceof Promise ? done.then(() => {}) : undefined; // a rejection is logged
      });
    on(l.heartbeat, (from, data) => this.#onHeartbeat(from, data));
    on(l.bye, (from) => this.#lost(from, "said bye (shutting down)"));
    on(l.presence, (from, data) => this.#onPresence(from, decodePeerFrame(data)));
    on(l.hello, (from) => this.#sendTo(from, { t: "snapshot", users: this.#sink.localUsers() }));
    link.answer(l.ping);
    on(l.direct, (from, data) => this.#onDirect(from, data));
    on(l.fragment, (from, data) => {
      const whole = this.#reassembly.add(from, data);
      if (whole) this.#onDirect(from, whole);
    });
    this.#timer = setInterval(() => this.#beat(), this.#heartbeatMs);
  }

  /**
   * Connects to NATS (`CONNECT_FAILED` if no server of `servers` answers)
   * and joins the cluster's subjects. Call {@link attach} before users come online.
   */
  static async connect(opts: NatsFabricOptions): Promise<NatsFabric> {
    const subjects = new NatsSubjects(opts.namespace, opts.id);
    const events = { disconnected: () => {}, reconnected: () => {} };
    const link = await NatsLink.connect(opts.servers, `fastchat-${opts.id}`, events, opts.logger);
    const fabric = new NatsFabric(link, subjects, opts);
    events.disconnected = () => fabric.#disconnected();
    events.reconnected = () => fabric.#reconnected();
    fabric.#beat(); // others learn of us now, not a heartbeat later
    await link.flush();
    return fabric;
  }

  /** Makes `sink` receive what other servers send. */
  attach(sink: FabricSink): void {
    this.#sink = sink;
  }

  /** Servers heard from and not lost since. */
  get linkedPeers(): string[] {
    return [...this.#peers.keys()];
  }

  /** Frames not sent (NATS down or too far behind); what they carried is stored. */
  get dropped(): number {
    return this.#link.dropped;
  }

  serversOf(user: string): Iterable<string> {
    return this.#dir.serversOf(user);
  }

  forward(server: string, m: ForwardedMessage): void {
    this.#forwarded.add(server, m[1], m[0]);
    this.#batches.of(server).fwd.push(m);
  }

  forwardGroup(server: string, m: ForwardedGroupMessage): void {
    this.#batches.of(server).gfwd.push(m);
  }

  sendAck(origin: string, item: RoutedAck): void {
    this.#batches.of(origin).ack.push(item);
  }

  sendReceipt(server: string, item: RoutedReceipt, stored: boolean): boolean {
    if (!this.#peers.has(server) || !this.#link.canSend) return false;
    const b = this.#batches.of(server);
    (stored ? b.srcpt : b.rcpt).push(item);
    return true;
  }

  async announce(users: string[], online: boolean): Promise<boolean> {
    if (!this.#link.canSend) return true; // nobody reached: nothing to wait for
    const waitFor = new Set(this.#peers.keys());
    const perFrame = Math.max(1, Math.floor((this.#link.maxPayload - 256) / 40));
    const seqs: number[] = [];
    // No users (a link came up): one empty frame still asks every server to flush.
    for (let i = 0; i < Math.max(1, users.length); i += perFrame) {
      const seq = ++this.#seq;
      const f: PeerFrame = { t: "presence", seq, online, users: users.slice(i, i + perFrame) };
      if (this.#link.publish(this.#subjects.presence, encodePeerFrame(f))) seqs.push(seq);
    }
    if (!online || waitFor.size === 0 || seqs.length === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const all = Promise.all(
      seqs.map((seq) =>
        new Promise<void>((done) => this.#ackWaiters.set(seq, { peers: new Set(waitFor), done }))
      ),
    ).then(() => true);
    const confirmed = await Promise.race([
      all,
      new Promise<boolean>((r) => timer = setTimeout(() => r(false), this.#announceTimeoutMs)),
    ]);
    clearTimeout(timer);
    for (const seq of seqs) this.#ackWaiters.delete(seq);
    return confirmed;
  }

  /** Tells the others this server leaves (they resync), then closes the NATS connection. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      this.#batches.flushNow();
      this.#link.publish(this.#subjects.bye, new Uint8Array(0));
      for (const w of this.#ackWaiters.values()) w.done();
      await this.#link.close();
    })();
    return this.#closing;
  }

  /** Our NATS connection is down: nobody can be reached, and we miss what they say. */
  #disconnected(): void {
    for (const peer of [...this.#peers.keys()]) this.#forget(peer, "NATS disconnected");
  }

  /** Back on NATS: a new incarnation, so every server exchanges snapshots with us again. */
  #reconnected(): void {
    this.#incarnation = crypto.getRandomValues(new Uint8Array(8));
    this.#beat();
  }

  /** Publishes a heartbeat; forgets servers silent for the liveness interval. */
  #beat(): void {
    this.#link.publish(this.#subjects.heartbeat, this.#incarnation);
    const now = Date.now();
    const late = now - this.#lastBeat > 2 * this.#heartbeatMs;
    this.#lastBeat = now;
    // A late timer means this process stalled: the others' heartbeats may still be unread.
    if (late) return;
    for (const [peer, p] of [...this.#peers]) {
      if (now - p.seen > this.#livenessMs) this.#lost(peer, "silent");
      else if (now - p.seen > this.#heartbeatMs * 1.5) this.#probe(peer, p);
    }
  }

  /**
   * A heartbeat is late: ask NATS whether `peer` still subscribes. A killed
   * server is gone at once (no waiting for the liveness interval); a slow
   * one answers and counts as heard.
   */
  #probe(peer: string, p: { seen: number; probing?: boolean }): void {
    if (p.probing) return;
    p.probing = true;
    this.#link.probe(this.#subjects.pingTo(peer), this.#livenessMs).then((r) => {
      p.probing = false;
      if (this.#closing || this.#peers.get(peer) !== p) return; // forgotten or restarted meanwhile
      if (r === "answered") p.seen = Math.max(p.seen, Date.now() - this.#heartbeatMs);
      else if (r === "gone") this.#lost(peer, "gone from NATS");
    });
  }

  #onHeartbeat(from: string, data: Uint8Array): void {
    if (data.length !== 8) throw new Error("heartbeat is not an 8-byte incarnation");
    const incarnation = hex(data);
    const p = this.#peers.get(from);
    if (p?.incarnation === incarnation) {
      p.seen = Date.now();
      return;
    }
    if (p) this.#forget(from, "restarted");
    this.#peers.set(from, { seen: Date.now(), incarnation });
    this.#log.info("peer_link_up", { peer: from });
    this.#link.publish(this.#subjects.helloTo(from), new Uint8Array(0)); // its snapshot, please
    this.#sink.resync(`link to ${from} up`, true);
  }

  /** `peer` left or went silent: forget it, and resend what may have been missed. */
  #lost(peer: string, why: string): void {
    if (!this.#peers.has(peer)) return;
    this.#forget(peer, why);
    this.#sink.resync(`peer ${peer} ${why}`);
  }

  #forget(peer: string, why: string): void {
    this.#peers.delete(peer);
    this.#dir.forget(peer);
    this.#reassembly.forget(peer);
    for (const w of this.#ackWaiters.values()) {
      if (w.peers.delete(peer) && w.peers.size === 0) w.done();
    }
    this.#log.warn("peer_link_down", { peer, reason: why });
  }

  #onPresence(from: string, f: PeerFrame): void | Promise<void> {
    if (f.t !== "presence") throw new Error(`${f.t} frame on the presence subject`);
    if (this.#peers.has(from)) this.#dir.set(from, f.users, f.online);
    if (!f.online) return;
    // Everything we accepted before this is durable once acked; later messages get forwarded.
    return this.#sink.flush().then(() => {
      this.#sendTo(from, { t: "presence_ack", seq: f.seq });
    });
  }

  #onDirect(from: string, data: Uint8Array): void {
    const f = decodePeerFrame(data);
    switch (f.t) {
      case "batch":
        dispatchBatch(from, f, this.#sink, this.#forwarded, this.#log);
        return;
      case "fwd":
      case "gfwd":
        // The origin is the sending server (its subject), never what a frame claims.
        if (f.origin !== from) throw new Error(`frame claims origin ${f.origin.slice(0, 64)}`);
        if (f.t === "fwd") this.#sink.deliverForwarded(from, f.msgs);
        else this.#sink.deliverGroupForwarded(from, f.msgs);
        return;
      case "ack": {
        // Only acknowledgements of messages we forwarded to this very server act on the store.
        const items = f.items.filter(([, sender, id]) => this.#forwarded.take(from, sender, id));
        if (items.length < f.items.length) {
          this.#log.warn("peer_ack_refused", {
            peer: from,
            refused: f.items.length - items.length,
          });
        }
        if (items.length) this.#sink.ackRouted(items);
        return;
      }
      case "rcpt":
        this.#sink.receiptsRouted(f.items, f.stored === true);
        return;
      case "snapshot":
        if (this.#peers.has(from)) this.#dir.replace(from, f.users);
        return;
      case "presence_ack": {
        const w = this.#ackWaiters.get(f.seq);
        if (w && w.peers.delete(from) && w.peers.size === 0) w.done();
        return;
      }
      default:
        throw new Error(`${f.t} frame on a server's subject`);
    }
  }

  /** Sends `f` to `peer` (in fragments if NATS needs them); false if dropped. */
  #sendTo(peer: string, f: PeerFrame): boolean {
    const bytes = encodePeerFrame(f);
    if (bytes.length > MAX_FRAME) {
      this.#log.warn("peer_frame_too_large", { peer, t: f.t, bytes: bytes.length });
      return false;
    }
    return this.#link.publishFrame(
      this.#subjects.to(peer),
      this.#subjects.fragmentsTo(peer),
      bytes,
    );
  }
}

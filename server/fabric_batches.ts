/**
 * Per-server batches of what a fabric sends (forwards, group forwards,
 * acknowledgements, receipts): everything queued in one event-loop turn, by
 * any read or timer, leaves at the end of that turn as one `batch` frame per
 * server (more only past `budget` bytes, estimated, or 10,000 items), so a
 * server pays one seal, one encode and one write per peer and turn, and its
 * peer one read, one open and one decode, however many messages, acks and
 * receipts it carries. {@link dispatchBatch} is the receiving side.
 *
 * @example
 * ```ts
 * import { FabricBatches } from "@fastchat/server/fabric_batches";
 * const batches = new FabricBatches({
 *   budget: 1 << 20,
 *   reachable: () => true,
 *   send: (peer, f) => (console.log(peer, f.t), true),
 * });
 * batches.of("srv-2").ack.push(["bob", "alice", "m-00000001"]);
 * // at the end of this turn: srv-2 batch
 * ```
 * @module
 */
import type { Logger } from "@fastchat/lib/logger";
import type { FabricSink } from "./fabric.ts";
import type { ForwardedSet } from "./forwarded_set.ts";
import type {
  ForwardedGroupMessage,
  ForwardedMessage,
  PeerBatchLists,
  PeerFrame,
} from "./peer_protocol.ts";

type Triple = [string, string, string];

/**
 * What is queued for one server.
 *
 * @example
 * ```ts
 * import type { FabricBatch } from "@fastchat/server/fabric_batches";
 * const b: FabricBatch = { fwd: [], gfwd: [], ack: [], rcpt: [], srcpt: [] };
 * ```
 */
export interface FabricBatch {
  fwd: ForwardedMessage[];
  gfwd: ForwardedGroupMessage[];
  ack: Triple[];
  /** Receipts the sender's server must store if the sender has gone. */
  rcpt: Triple[];
  /** Receipts already stored. */
  srcpt: Triple[];
}

/** Items per frame at most (frame validators allow 100,000 per list). */
const MAX_ITEMS = 10_000;
const tripleBytes = (t: Triple) => t[0].length + t[1].length + t[2].length + 8;
const KINDS = ["fwd", "gfwd", "ack", "rcpt", "srcpt"] as const;
const SIZE: { [K in keyof FabricBatch]: (item: FabricBatch[K][number]) => number } = {
  fwd: (m) => m[3].length + 48,
  gfwd: (m) => m[3].length + 48 + m[4].reduce((n, u) => n + u.length + 2, 0),
  ack: tripleBytes,
  rcpt: tripleBytes,
  srcpt: tripleBytes,
};

/**
 * Batches per server, sent at the end of the event-loop turn they were queued in.
 *
 * @example
 * ```ts
 * import { FabricBatches } from "@fastchat/server/fabric_batches";
 * const sent: string[] = [];
 * const batches = new FabricBatches({
 *   budget: 1 << 20,
 *   reachable: (peer) => peer === "srv-2",
 *   send: (peer, f) => (sent.push(`${peer} ${f.t}`), true),
 * });
 * batches.of("srv-2").fwd.push(["m-00000001", "alice", "bob", new Uint8Array([1])]);
 * batches.of("srv-3").fwd.push(["m-00000002", "alice", "carol", new Uint8Array([1])]);
 * batches.flushNow(); // sent: ["srv-2 batch"]; srv-3 is unreachable, its message stays stored
 * ```
 */
export class FabricBatches {
  /**
   * This turn's batches: a fresh map each turn, never `clear()`ed. V8's
   * `Map.prototype.clear` leaves the cleared table, entries and all, linked
   * from the map until the next mark-compact, and allocates the new table in
   * the old generation once the map lives there: every batch (and the
   * messages, acknowledgements and frames it holds) then stayed reachable
   * from dead old-generation tables and was promoted at the next
   * scavenges. At 2,000 msgs/s (100 clients, 2 servers) a server promoted
   * 343 KB per scavenge with `clear()` and 144 KB without; its old
   * generation grew 835 against 320 KB (perf/RESULTS.md, eighteenth
   * session). Anything queued while a flush runs goes out next turn.
   */
  #batches = new Map<string, FabricBatch>();
  #queued = false;

  constructor(
    readonly io: {
      /** Estimated bytes of a frame's items at most. */
      budget: number;
      /** Forwards to a server that is not reachable are dropped (they are stored). */
      reachable: (peer: string) => boolean;
      send: (peer: string, f: PeerFrame) => boolean;
      /**
       * Called once `peer`'s batch frames are sent at the end of a turn:
       * a link may write them at once rather than one loop iteration later.
       */
      sent?: (peer: string) => void;
    },
  ) {}

  /** The batch for `peer`, sent at the end of this event-loop turn. */
  of(peer: string): FabricBatch {
    let b = this.#batches.get(peer);
    if (!b) this.#batches.set(peer, b = { fwd: [], gfwd: [], ack: [], rcpt: [], srcpt: [] });
    if (!this.#queued) {
      this.#queued = true;
      setImmediate(this.#flushLater);
    }
    return b;
  }

  readonly #flushLater = (): void => {
    if (this.#queued) this.flushNow();
  };

  /** Sends every batch now. */
  flushNow(): void {
    this.#queued = false;
    const batches = this.#batches;
    this.#batches = new Map();
    for (const [peer, b] of batches) {
      if (!this.io.reachable(peer)) {
        // Acknowledgements go to the origin of a forward, even one not heard from yet.
        b.fwd = [];
        b.gfwd = [];
      }
      this.#send(peer, b);
      this.io.sent?.(peer);
    }
  }

  /** Sends `b` as `batch` frames of at most `budget` estimated bytes and 10,000 items. */
  #send(peer: string, b: FabricBatch): void {
    let frame: PeerBatchLists = {}, bytes = 0, items = 0;
    for (const kind of KINDS) {
      const list = b[kind] as unknown[];
      const size = SIZE[kind] as (item: unknown) => number;
      let start = 0;
      for (let i = 0; i < list.length; i++) {
        const s = size(list[i]);
        if (items > 0 && (bytes + s > this.io.budget || items >= MAX_ITEMS)) {
          if (i > start) (frame as Record<string, unknown[]>)[kind] = list.slice(start, i);
          this.io.send(peer, { t: "batch", ...frame });
          frame = {};
          bytes = items = 0;
          start = i;
        }
        bytes += s;
        items++;
      }
      if (start < list.length) {
        (frame as Record<string, unknown[]>)[kind] = start === 0 ? list : list.slice(start);
      }
    }
    if (items > 0) this.io.send(peer, { t: "batch", ...frame });
  }
}

/**
 * Hands a `batch` frame from server `peer` (authenticated by the fabric) to
 * the sink, in the order of its lists. Only acknowledgements of messages
 * forwarded to that very server act on the store (`forwarded` tells which).
 *
 * @example
 * ```ts
 * import { dispatchBatch } from "@fastchat/server/fabric_batches";
 * import { ForwardedSet } from "@fastchat/server/forwarded_set";
 * import { detachedSink } from "@fastchat/server/fabric";
 * import { nullLogger } from "@fastchat/lib/logger";
 * dispatchBatch("srv-2", { ack: [["bob", "alice", "m-1"]] }, detachedSink(nullLogger), new ForwardedSet(), nullLogger);
 * ```
 */
export function dispatchBatch(
  peer: string,
  f: PeerBatchLists,
  sink: FabricSink,
  forwarded: ForwardedSet,
  log: Logger,
): void {
  if (f.fwd) sink.deliverForwarded(peer, f.fwd);
  if (f.gfwd) sink.deliverGroupForwarded(peer, f.gfwd);
  if (f.ack) {
    const items = f.ack.filter(([, from, id]) => forwarded.take(peer, from, id));
    if (items.length < f.ack.length) {
      log.warn("peer_ack_refused", { peer, refused: f.ack.length - items.length });
    }
    if (items.length) sink.ackRouted(items);
  }
  if (f.rcpt) sink.receiptsRouted(f.rcpt, false);
  if (f.srcpt) sink.receiptsRouted(f.srcpt, true);
}

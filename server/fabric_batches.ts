/**
 * Per-server batches of what a fabric sends (forwards, group forwards,
 * acknowledgements, receipts): everything queued in one tick leaves as a few
 * frames per server, each at most `budget` bytes (estimated) and 10,000
 * items, instead of one send per message.
 *
 * @example
 * ```ts
 * import { FabricBatches } from "@fastchat/server/fabric_batches";
 * const batches = new FabricBatches("srv-1", {
 *   budget: 1 << 20,
 *   reachable: () => true,
 *   send: (peer, f) => (console.log(peer, f.t), true),
 * });
 * batches.of("srv-2").ack.push(["bob", "alice", "m-00000001"]);
 * // at the end of this tick: srv-2 ack
 * ```
 * @module
 */
import type { ForwardedGroupMessage, ForwardedMessage, PeerFrame } from "./peer_protocol.ts";

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

/** Items per frame at most (frame validators allow 100,000). */
const MAX_ITEMS = 10_000;
const tripleBytes = (t: Triple) => t[0].length + t[1].length + t[2].length + 8;

/**
 * Batches per server, sent at the end of the tick they were queued in.
 *
 * @example
 * ```ts
 * import { FabricBatches } from "@fastchat/server/fabric_batches";
 * const sent: string[] = [];
 * const batches = new FabricBatches("srv-1", {
 *   budget: 1 << 20,
 *   reachable: (peer) => peer === "srv-2",
 *   send: (peer, f) => (sent.push(`${peer} ${f.t}`), true),
 * });
 * batches.of("srv-2").fwd.push(["m-00000001", "alice", "bob", new Uint8Array([1])]);
 * batches.of("srv-3").fwd.push(["m-00000002", "alice", "carol", new Uint8Array([1])]);
 * batches.flushNow(); // sent: ["srv-2 fwd"]; srv-3 is unreachable, its message stays stored
 * ```
 */
export class FabricBatches {
  readonly #batches = new Map<string, FabricBatch>();
  #queued = false;

  constructor(
    readonly origin: string,
    readonly io: {
      /** Estimated bytes of a frame's items at most. */
      budget: number;
      /** Forwards to a server that is not reachable are dropped (they are stored). */
      reachable: (peer: string) => boolean;
      send: (peer: string, f: PeerFrame) => boolean;
    },
  ) {}

  /** The batch for `peer`, sent at the end of this tick. */
  of(peer: string): FabricBatch {
    let b = this.#batches.get(peer);
    if (!b) this.#batches.set(peer, b = { fwd: [], gfwd: [], ack: [], rcpt: [], srcpt: [] });
    if (!this.#queued) {
      this.#queued = true;
      queueMicrotask(() => this.flushNow());
    }
    return b;
  }

  /** Sends every batch now. */
  flushNow(): void {
    this.#queued = false;
    const origin = this.origin;
    for (const [peer, b] of this.#batches) {
      if (this.io.reachable(peer)) {
        this.#chunks(peer, b.fwd, (m) => m[3].length + 48, (msgs) => ({ t: "fwd", origin, msgs }));
        this.#chunks(
          peer,
          b.gfwd,
          (m) => m[3].length + 48 + m[4].reduce((n, u) => n + u.length + 2, 0),
          (msgs) => ({ t: "gfwd", origin, msgs }),
        );
      }
      // Acknowledgements go to the origin of a forward, even one not heard from yet.
      this.#chunks(peer, b.ack, tripleBytes, (items) => ({ t: "ack", items }));
      this.#chunks(peer, b.rcpt, tripleBytes, (items) => ({ t: "rcpt", items }));
      this.#chunks(peer, b.srcpt, tripleBytes, (items) => ({ t: "rcpt", items, stored: true }));
    }
    this.#batches.clear();
  }

  #chunks<T>(peer: string, items: T[], size: (t: T) => number, frame: (items: T[]) => PeerFrame) {
    let start = 0, bytes = 0;
    for (let i = 0; i < items.length; i++) {
      const s = size(items[i]);
      if (i > start && (bytes + s > this.io.budget || i - start >= MAX_ITEMS)) {
        this.io.send(peer, frame(items.slice(start, i)));
        start = i;
        bytes = 0;
      }
      bytes += s;
    }
    if (start === 0 && items.length > 0) this.io.send(peer, frame(items));
    else if (start < items.length) this.io.send(peer, frame(items.slice(start)));
  }
}

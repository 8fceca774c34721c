/**
 * The messages a client has shown, by sender and id, so that a redelivery
 * (the server re-sends what it has no acknowledgement for) is shown once
 * only. Bounded: when {@link SeenIds.max} entries are held, it starts over.
 *
 * Each entry is a 95-bit fingerprint of (sender, id) in one flat table
 * (open addressing in a `Uint32Array`), not a string in a `Set`: a client
 * that has shown 200,000 messages holds one 6 MiB array (12 bytes a slot,
 * at most half of them used) instead of 200,000 strings and their hash
 * tables inside the JavaScript heap, which
 * every full collection had to mark (in a load worker of 500 clients, the
 * heap grew all run long and the collections took longer). The
 * fingerprint is three 32-bit hashes with seeds drawn per table, so two
 * different messages share one with a probability of about n / 2^95 per
 * look-up (n entries: 5·10^-24 at 200,000), and nobody outside the process
 * can choose ids that collide.
 *
 * @example
 * ```ts
 * import { SeenIds } from "@fastchat/client/seen_ids";
 * const seen = new SeenIds();
 * seen.add("alice", "m-00000001");
 * seen.has("alice", "m-00000001"); // true
 * seen.has("bob", "m-00000001"); // false: another sender's id
 * ```
 * @module
 */

/** Slots of a new table (three words each); it doubles when half full. */
const INITIAL_SLOTS = 1024;
/** Senders whose hash prefix is kept (the cache starts over past this). */
const MAX_SENDERS = 4096;

/** Murmur3's finalizer: every input bit reaches every output bit. */
function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Shown messages by sender.
 *
 * @example
 * ```ts
 * import { SeenIds } from "@fastchat/client/seen_ids";
 * const seen = new SeenIds(2);
 * seen.add("a", "1");
 * seen.add("a", "2");
 * seen.add("b", "3"); // full: it starts over with this one
 * seen.size; // 1
 * ```
 */
export class SeenIds {
  /** Most entries held before it starts over. */
  readonly max: number;
  readonly #seeds: Uint32Array = crypto.getRandomValues(new Uint32Array(3));
  /** Hash state after each sender's name (three lanes), by name. */
  readonly #senders = new Map<string, Uint32Array>();
  /** Three words a slot; a first word of 0 marks a free slot (stored ones are odd). */
  #table = new Uint32Array(INITIAL_SLOTS * 3);
  #mask = INITIAL_SLOTS - 1;
  #size = 0;
  /** The fingerprint of the last (sender, id) looked up: `add` after `has` hashes once. */
  #lastFrom = "";
  #lastId = "";
  #h1 = 0;
  #h2 = 0;
  #h3 = 0;

  constructor(max: number = 200_000) {
    this.max = max;
  }

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** Whether message `id` of `from` was shown. */
  has(from: string, id: string): boolean {
    this.#hash(from, id);
    return this.#find() >= 0;
  }

  /** Records message `id` of `from` as shown (forgetting everything first when full). */
  add(from: string, id: string): void {
    this.#hash(from, id);
    if (this.#find() >= 0) return;
    if (this.#size >= this.max) this.clear();
    if ((this.#size + 1) * 2 > this.#mask + 1) this.#grow();
    this.#put(this.#table, this.#mask, this.#h1, this.#h2, this.#h3);
    this.#size++;
  }

  /** Forgets everything. */
  clear(): void {
    if (this.#table.length > INITIAL_SLOTS * 3) {
      this.#table = new Uint32Array(INITIAL_SLOTS * 3);
      this.#mask = INITIAL_SLOTS - 1;
    } else this.#table.fill(0);
    this.#size = 0;
  }

  /** Sets the fingerprint of (`from`, `id`). */
  #hash(from: string, id: string): void {
    if (id === this.#lastId && from === this.#lastFrom) return;
    let lanes = this.#senders.get(from);
    if (lanes === undefined) {
      lanes = this.#prefix(from);
      if (this.#senders.size >= MAX_SENDERS) this.#senders.clear();
      this.#senders.set(from, lanes);
    }
    let h1 = lanes[0], h2 = lanes[1], h3 = lanes[2];
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
      h3 = Math.imul((h3 << 5 | h3 >>> 27) + c, 0x27d4eb2f);
    }
    this.#h1 = (fmix(h1 ^ id.length) | 1) >>> 0;
    this.#h2 = fmix(h2 + id.length);
    this.#h3 = fmix(h3 ^ (id.length << 16));
    this.#lastFrom = from;
    this.#lastId = id;
  }

  /** The three lanes after `from` and its length (so that no name and id concatenate alike). */
  #prefix(from: string): Uint32Array {
    let h1 = this.#seeds[0], h2 = this.#seeds[1], h3 = this.#seeds[2];
    for (let i = 0; i <= from.length; i++) {
      // After the name: a value no character has (char codes end at 0xffff).
      const c = i < from.length ? from.charCodeAt(i) : 0x10000 + from.length;
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
      h3 = Math.imul((h3 << 5 | h3 >>> 27) + c, 0x27d4eb2f);
    }
    return Uint32Array.of(h1, h2, h3);
  }

  /** The slot of the current fingerprint, or -1. */
  #find(): number {
    const t = this.#table, mask = this.#mask, h1 = this.#h1;
    for (let slot = (this.#h2 ^ h1) & mask;; slot = (slot + 1) & mask) {
      const at = slot * 3, w = t[at];
      if (w === 0) return -1;
      if (w === h1 && t[at + 1] === this.#h2 && t[at + 2] === this.#h3) return slot;
    }
  }

  #put(t: Uint32Array, mask: number, h1: number, h2: number, h3: number): void {
    let slot = (h2 ^ h1) & mask;
    while (t[slot * 3] !== 0) slot = (slot + 1) & mask;
    t[slot * 3] = h1;
    t[slot * 3 + 1] = h2;
    t[slot * 3 + 2] = h3;
  }

  #grow(): void {
    const old = this.#table;
    const slots = (this.#mask + 1) * 2;
    const t = new Uint32Array(slots * 3);
    const mask = slots - 1;
    for (let at = 0; at < old.length; at += 3) {
      if (old[at] !== 0) this.#put(t, mask, old[at], old[at + 1], old[at + 2]);
    }
    this.#table = t;
    this.#mask = mask;
  }
}

/**
 * Values keyed by a message's (sender, id) pair in an open-addressing hash
 * table, for the hottest such map: the write-behind queue's pending
 * messages, which sees a look-up and an insert when a message arrives and a
 * look-up and a delete when it is acknowledged.
 *
 * Why not a `Map` by id (with a chain of entries per id): with thousands
 * of messages in flight and every key a fresh string, that pattern cost
 * ~0.2 µs per operation in `Map`, whose deleted entries stay on their hash
 * chains until the next rehash (measured here, 6,400 in flight, two decodes
 * included: 2.1–2.3 µs per message against 1.3 µs in this table). Here slots are
 * parallel arrays probed linearly, a delete shifts the following entries
 * back (no tombstones), and the table doubles past half full and halves
 * below an eighth.
 *
 * Ids come from clients, so the hash is seeded per table with random bits
 * and mixes after every character; a probe longer than {@link MAX_PROBE}
 * (ids crafted to collide, or bad luck) rebuilds the table under a new
 * seed (once per insert: ids that collide under every seed would only make
 * probes long). No insertion order is kept (`RecentMessageKeys` bounds a
 * table by dropping its older half).
 *
 * The table remembers its last look-up (the key, its hash and its slot)
 * until it changes: the step that follows a look-up of the same key (an
 * insert after a miss, a delete after a hit) neither hashes nor probes
 * again. Every user does that pair: a server's hot path made ~11 look-ups
 * per forwarded message, and the first probe of each is a cache miss.
 * Measured in one process, old and new table alternating, with 6,400
 * messages in flight (get + set, then get + delete): 314–389 ns per
 * message against 483–514 ns (medians of 10 rounds, two runs).
 *
 * @example
 * ```ts
 * import { MessageKeyTable } from "@fastchat/server/message_key_table";
 * const t = new MessageKeyTable<number>();
 * t.set("alice", "m-00000001", 1);
 * t.set("bob", "m-00000001", 2); // same id, other sender: its own entry
 * console.log(t.get("alice", "m-00000001"), t.get("bob", "m-00000001"), t.size); // 1 2 2
 * t.delete("alice", "m-00000001");
 * console.log(t.has("alice", "m-00000001"), t.size); // false 1
 * ```
 * @module
 */

import { idHash } from "@fastchat/lib/id_hash";

/** Slots of a new (or cleared) table. */
const MIN_CAPACITY = 1024;
/** A probe this long rebuilds the table under a new seed. */
export const MAX_PROBE = 64;

function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] | 0;
}

/** The tables' hash of a message id, from lib/id_hash.ts (exported here as before). */
export { idHash };

/**
 * Values by (sender, message id); see the module doc.
 *
 * @example
 * ```ts
 * import { MessageKeyTable } from "@fastchat/server/message_key_table";
 * const pending = new MessageKeyTable<string>();
 * pending.set("alice", "m-00000001", "queued");
 * pending.get("alice", "m-00000001"); // "queued"
 * ```
 */
export class MessageKeyTable<V> {
  #seed: number;
  #mask = MIN_CAPACITY - 1;
  /** Each slot's hash, never 0 when used (0: free). */
  #hashes = new Int32Array(MIN_CAPACITY);
  #ids: (string | undefined)[] = new Array(MIN_CAPACITY).fill(undefined);
  #senders: (string | undefined)[] = new Array(MIN_CAPACITY).fill(undefined);
  #values: (V | undefined)[] = new Array(MIN_CAPACITY).fill(undefined);
  #size = 0;
  /** Tables rebuilt under a new seed after a long probe (for tests and logs). */
  reseeds: number = 0;

  /** `seed`: the hash's first seed (default random; a test's fixed one). */
  constructor(seed: number = randomSeed()) {
    this.#seed = seed | 0;
  }

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  /** Slots (a power of two, at least twice the entries). */
  get capacity(): number {
    return this.#mask + 1;
  }

  #hash(id: string): number {
    return idHash(id, this.#seed);
  }

  /** Slots the last {@link MessageKeyTable.#find} probed. */
  #probed = 0;
  /** The last look-up's key (undefined: none, or the table changed since). */
  #memoId: string | undefined = undefined;
  #memoSender: string | undefined = undefined;
  /** Its hash, and its slot or `~slot` of the free slot that ended its probe. */
  #memoHash = 0;
  #memoSlot = 0;

  /** The slot of (sender, id), or `~slot` of a free one: {@link #find}, or the memo of the last. */
  #lookup(sender: string, id: string): number {
    if (id === this.#memoId && sender === this.#memoSender) return this.#memoSlot;
    const h = this.#hash(id);
    const i = this.#find(sender, id, h);
    this.#remember(sender, id, h, i);
    return i;
  }

  #remember(sender: string, id: string, h: number, slot: number): void {
    this.#memoId = id;
    this.#memoSender = sender;
    this.#memoHash = h;
    this.#memoSlot = slot;
  }

  /** The slot of (sender, id), or `~slot` of the free slot that ends its probe. */
  #find(sender: string, id: string, h: number): number {
    const mask = this.#mask, hashes = this.#hashes;
    for (let i = h & mask, n = 1;; i = (i + 1) & mask, n++) {
      const x = hashes[i];
      if (x === 0 || (x === h && this.#ids[i] === id && this.#senders[i] === sender)) {
        this.#probed = n;
        return x === 0 ? ~i : i;
      }
    }
  }

  /** The value of (`sender`, `id`), if any. */
  get(sender: string, id: string): V | undefined {
    const i = this.#lookup(sender, id);
    return i >= 0 ? this.#values[i] : undefined;
  }

  /** Whether (`sender`, `id`) has an entry. */
  has(sender: string, id: string): boolean {
    return this.#lookup(sender, id) >= 0;
  }

  /** Sets the value of (`sender`, `id`). */
  set(sender: string, id: string, value: V): void {
    let i = this.#lookup(sender, id);
    if (i >= 0) {
      this.#values[i] = value;
      return;
    }
    let h = this.#memoHash;
    const grow = (this.#size + 1) * 2 > this.#mask + 1;
    if (grow || this.#probed > MAX_PROBE) {
      // Past half full: double. A long probe at most half full: ids that
      // collide under this seed (crafted, or bad luck): rebuild under a new
      // one, once per insert (if they still collide, the probes stay long).
      if (!grow) this.reseeds++;
      this.#rebuild(grow ? (this.#mask + 1) * 2 : this.#mask + 1, grow ? this.#seed : randomSeed());
      h = this.#hash(id);
      i = this.#find(sender, id, h);
    }
    this.#put(~i, h, sender, id, value);
    this.#size++;
    this.#remember(sender, id, h, ~i); // nothing else moved
  }

  /** Removes (`sender`, `id`); returns whether it was there. */
  delete(sender: string, id: string): boolean {
    let i = this.#lookup(sender, id);
    if (i < 0) return false;
    this.#memoId = this.#memoSender = undefined; // entries shift back
    this.#size--;
    const mask = this.#mask, hashes = this.#hashes;
    // Backward shift: an entry after the hole moves into it unless the hole
    // lies before the entry's home slot (cyclically), so no probe breaks.
    for (let j = (i + 1) & mask; hashes[j] !== 0; j = (j + 1) & mask) {
      if (((j - (hashes[j] & mask)) & mask) >= ((j - i) & mask)) {
        this.#put(i, hashes[j], this.#senders[j]!, this.#ids[j]!, this.#values[j]!);
        i = j;
      }
    }
    hashes[i] = 0;
    this.#ids[i] = this.#senders[i] = this.#values[i] = undefined;
    const capacity = mask + 1;
    if (capacity > MIN_CAPACITY && this.#size * 8 < capacity) {
      this.#rebuild(capacity / 2, this.#seed);
    }
    return true;
  }

  /** Removes every entry (and gives back a grown table's memory). */
  clear(): void {
    this.#alloc(MIN_CAPACITY);
    this.#size = 0;
  }

  #put(i: number, h: number, sender: string, id: string, value: V): void {
    this.#hashes[i] = h;
    this.#senders[i] = sender;
    this.#ids[i] = id;
    this.#values[i] = value;
  }

  #alloc(capacity: number): void {
    this.#memoId = this.#memoSender = undefined;
    this.#mask = capacity - 1;
    this.#hashes = new Int32Array(capacity);
    this.#ids = new Array(capacity).fill(undefined);
    this.#senders = new Array(capacity).fill(undefined);
    this.#values = new Array(capacity).fill(undefined);
  }

  /** Re-inserts every entry into `capacity` slots under `seed`. */
  #rebuild(capacity: number, seed: number): void {
    const hashes = this.#hashes, ids = this.#ids, senders = this.#senders, values = this.#values;
    const sameSeed = seed === this.#seed;
    this.#seed = seed;
    this.#alloc(capacity);
    const mask = this.#mask;
    for (let j = 0; j < hashes.length; j++) {
      if (hashes[j] === 0) continue;
      const h = sameSeed ? hashes[j] : this.#hash(ids[j]!);
      let i = h & mask;
      while (this.#hashes[i] !== 0) i = (i + 1) & mask;
      this.#put(i, h, senders[j]!, ids[j]!, values[j]!);
    }
  }
}

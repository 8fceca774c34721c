/**
 * The outbox's pending messages by id: an open-addressing hash table that
 * also keeps the order they were added in and, per message, whether its
 * `add` record is in the log yet.
 *
 * Why not a `Map` by id (with a second `Map` of the messages not yet
 * written): every id is a fresh string (made here, or decoded from the
 * server's `sent` and `delivered` frames), and V8 computes a fresh string's
 * hash on its first `Map` look-up, which in this runtime costs ~0.4 µs for
 * a 22-character id (see perf/string_hash_bench.ts). A message was looked up
 * that way three times (queued, confirmed, its receipt): in saturated
 * `deno task perf` runs the outbox's `tryEnqueue` and `remove` were 6–7 %
 * of the load workers' CPU, almost all of it on their first `Map`
 * operation. Here the hash is computed in JavaScript over the id's
 * characters, seeded per table (ids in `sent` frames come from the server),
 * slots are parallel arrays probed linearly, and a delete shifts the
 * following entries back (no tombstones). The table doubles past half full
 * and halves below an eighth.
 *
 * @example
 * ```ts
 * import { OutboxTable } from "@fastchat/client/outbox_table";
 * const t = new OutboxTable<string>();
 * t.add("m-1", "first");
 * t.add("m-2", "second");
 * t.markWritten("m-2");
 * console.log(t.size, t.get("m-1"), t.written("m-2")); // 2 "first" true
 * console.log(t.delete("m-2"), t.values()); // "second" ["first"]
 * ```
 * @module
 */
import { idHash } from "@fastchat/lib/id_hash";

/** Slots of a new (or cleared) table. */
const MIN_CAPACITY = 64;

function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] | 0;
}

/**
 * Values by string id, in insertion order, each with a "written" mark; see
 * the module doc.
 *
 * @example
 * ```ts
 * import { OutboxTable } from "@fastchat/client/outbox_table";
 * const t = new OutboxTable<number>();
 * t.add("a", 1);
 * t.has("a"); // true
 * ```
 */
export class OutboxTable<V> {
  readonly #seed = randomSeed();
  #mask = MIN_CAPACITY - 1;
  /** Per slot: the id's hash (0: free), the id, the value, its order of adding, the mark. */
  #hashes = new Int32Array(MIN_CAPACITY);
  #ids: (string | undefined)[] = new Array(MIN_CAPACITY);
  #values: (V | undefined)[] = new Array(MIN_CAPACITY);
  #order = new Float64Array(MIN_CAPACITY);
  #written = new Uint8Array(MIN_CAPACITY);
  #size = 0;
  #added = 0;
  /** Whether the entry the last delete removed was marked (see {@link OutboxTable.deletedWasWritten}). */
  #lastDeletedWritten = false;

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** Whether `id` is held. */
  has(id: string): boolean {
    return this.#find(id, idHash(id, this.#seed)) >= 0;
  }

  /** The value of `id`, if held. */
  get(id: string): V | undefined {
    const slot = this.#find(id, idHash(id, this.#seed));
    return slot < 0 ? undefined : this.#values[slot];
  }

  /** Whether `id` is held and marked written. */
  written(id: string): boolean {
    const slot = this.#find(id, idHash(id, this.#seed));
    return slot >= 0 && this.#written[slot] === 1;
  }

  /** Adds `id` (unmarked, last in order); false, changing nothing, if it is held already. */
  add(id: string, value: V): boolean {
    const h = idHash(id, this.#seed);
    if (this.#find(id, h) >= 0) return false;
    if ((this.#size + 1) * 2 > this.#hashes.length) this.#resize(this.#hashes.length * 2);
    this.#place(h, id, value, this.#added++, 0);
    this.#size++;
    return true;
  }

  /** Marks `id` written; false if it is not held. */
  markWritten(id: string): boolean {
    const slot = this.#find(id, idHash(id, this.#seed));
    if (slot < 0) return false;
    this.#written[slot] = 1;
    return true;
  }

  /**
   * Removes `id`; returns its value (undefined if it was not held). Whether
   * it was marked is then {@link OutboxTable.deletedWasWritten}.
   */
  delete(id: string): V | undefined {
    const slot = this.#find(id, idHash(id, this.#seed));
    if (slot < 0) return undefined;
    const value = this.#values[slot];
    this.#lastDeletedWritten = this.#written[slot] === 1;
    this.#remove(slot);
    this.#size--;
    if (this.#size * 8 < this.#hashes.length && this.#hashes.length > MIN_CAPACITY) {
      this.#resize(this.#hashes.length / 2);
    }
    return value;
  }

  /** Whether the entry the last successful {@link OutboxTable.delete} removed was marked. */
  get deletedWasWritten(): boolean {
    return this.#lastDeletedWritten;
  }

  /** The values, in the order they were added. */
  values(): V[] {
    const slots: number[] = [];
    for (let s = 0; s < this.#hashes.length; s++) if (this.#hashes[s] !== 0) slots.push(s);
    slots.sort((a, b) => this.#order[a] - this.#order[b]);
    return slots.map((s) => this.#values[s]!);
  }

  /** Removes every entry. */
  clear(): void {
    this.#allocate(MIN_CAPACITY);
    this.#size = 0;
  }

  #find(id: string, h: number): number {
    const hashes = this.#hashes, mask = this.#mask;
    for (let s = h & mask;; s = (s + 1) & mask) {
      const at = hashes[s];
      if (at === 0) return -1;
      if (at === h && this.#ids[s] === id) return s;
    }
  }

  #place(h: number, id: string, value: V, order: number, written: number): void {
    const mask = this.#mask;
    let s = h & mask;
    while (this.#hashes[s] !== 0) s = (s + 1) & mask;
    this.#hashes[s] = h;
    this.#ids[s] = id;
    this.#values[s] = value;
    this.#order[s] = order;
    this.#written[s] = written;
  }

  /** Frees `slot`, shifting back the entries after it that probed past it. */
  #remove(slot: number): void {
    const hashes = this.#hashes, mask = this.#mask;
    let free = slot;
    for (let s = (slot + 1) & mask; hashes[s] !== 0; s = (s + 1) & mask) {
      const home = hashes[s] & mask;
      // Entry s may move to `free` unless its home lies cyclically in (free, s].
      if (free <= s ? home > free && home <= s : home > free || home <= s) continue;
      hashes[free] = hashes[s];
      this.#ids[free] = this.#ids[s];
      this.#values[free] = this.#values[s];
      this.#order[free] = this.#order[s];
      this.#written[free] = this.#written[s];
      free = s;
    }
    hashes[free] = 0;
    this.#ids[free] = undefined;
    this.#values[free] = undefined;
  }

  #resize(capacity: number): void {
    const { hashes, ids, values, order, written } = {
      hashes: this.#hashes,
      ids: this.#ids,
      values: this.#values,
      order: this.#order,
      written: this.#written,
    };
    this.#allocate(capacity);
    for (let s = 0; s < hashes.length; s++) {
      if (hashes[s] !== 0) this.#place(hashes[s], ids[s]!, values[s]!, order[s], written[s]);
    }
  }

  #allocate(capacity: number): void {
    this.#mask = capacity - 1;
    this.#hashes = new Int32Array(capacity);
    this.#ids = new Array(capacity);
    this.#values = new Array(capacity);
    this.#order = new Float64Array(capacity);
    this.#written = new Uint8Array(capacity);
  }
}

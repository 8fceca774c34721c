/**
 * Sender keys for groups. Each member encrypts its group messages with its
 * own 256-bit sending key (XChaCha20-Poly1305) for that group, once per message whatever the
 * group's size; the key reaches the other members inside ordinary pairwise
 * end-to-end-encrypted messages (so RSA is used only where a pair has no
 * session yet, never per group message). The ring remembers, per group:
 * - my sending key and which members already have it: a member who joins gets
 *   the current key (the server never gives them anything older); when anyone
 *   leaves or is removed the key is marked stale and the next message uses a
 *   fresh one, handed only to the members remaining;
 * - every other member's recent keys by key id (a few per member, so messages
 *   sent just before a rotation still open).
 *
 * @example
 * ```ts
 * import { SenderKeyRing } from "@fastchat/client/sender_keys";
 * const ring = new SenderKeyRing();
 * const mine = ring.sendingKey("team"); // fresh on first use
 * const missing = ring.membersWithout("team", ["alice", "bob", "carol"], "alice"); // ["bob", "carol"]
 * ring.markSent("team", missing);
 * ```
 * @module
 */
import { importMessageKey, type MessageKey } from "@fastchat/lib/crypto";
import { randomBytes, toBase64Url } from "@fastchat/lib/crypto/bytes";

/** Keys remembered per (group, member): older ones are forgotten. */
export const KEYS_PER_MEMBER = 8;

/**
 * A sending key: its id, raw bytes (to hand to members) and imported key.
 *
 * @example
 * ```ts
 * const k: SenderKey = new SenderKeyRing().sendingKey("team");
 * k.raw.length; // 32
 * ```
 */
export interface SenderKey {
  /** Key id, bound into every message's authenticated data. */
  kid: string;
  /** Raw 256-bit key. */
  raw: Uint8Array;
  /** Imported key. */
  key: MessageKey;
}

interface MyKey extends SenderKey {
  sentTo: Set<string>;
  stale: boolean;
}

/**
 * Plain data a {@link SenderKeyRing} can be saved as and restored from (the
 * caller encrypts it at rest, like every other client secret).
 *
 * @example
 * ```ts
 * const snap: SenderKeySnapshot = new SenderKeyRing().snapshot();
 * ```
 */
export interface SenderKeySnapshot {
  /** My keys: group → [kid, raw, sentTo, stale]. */
  mine: Record<string, [string, Uint8Array, string[], boolean]>;
  /** Received keys: group → member → [kid, raw][] (oldest first). */
  theirs: Record<string, Record<string, [string, Uint8Array][]>>;
  /** Ids of key handovers not yet receipted (absent in files from before). */
  handovers?: string[];
}

/**
 * Key handovers remembered until their receipt (the oldest are forgotten past this).
 *
 * @example
 * ```ts
 * import { MAX_HANDOVERS } from "@fastchat/client/sender_keys";
 * console.log(MAX_HANDOVERS); // 4096
 * ```
 */
export const MAX_HANDOVERS = 4096;

function makeKey(kid: string, raw: Uint8Array): SenderKey {
  return { kid, raw, key: importMessageKey(raw) };
}

/** My sending keys and the keys other members sent me, per group. */
export class SenderKeyRing {
  readonly #mine = new Map<string, MyKey>();
  readonly #theirs = new Map<string, Map<string, SenderKey[]>>();
  readonly #handovers = new Set<string>();

  /**
   * Remembers `id` as the message that handed one of my keys to a member:
   * its receipt, which may come in a later session, is not the user's news.
   */
  noteHandover(id: string): void {
    if (this.#handovers.size >= MAX_HANDOVERS) {
      this.#handovers.delete(this.#handovers.values().next().value!);
    }
    this.#handovers.add(id);
  }

  /** Whether `id` is a key handover awaiting its receipt; forgets it (the receipt came). */
  takeHandover(id: string): boolean {
    return this.#handovers.size > 0 && this.#handovers.delete(id);
  }

  /** My current key for `group`, made fresh when there is none or it is stale. */
  sendingKey(group: string): SenderKey {
    return this.#current(group);
  }

  #current(group: string): MyKey {
    let k = this.#mine.get(group);
    if (!k || k.stale) {
      const raw = randomBytes(32);
      k = {
        ...makeKey(`sk-${toBase64Url(randomBytes(12))}`, raw),
        sentTo: new Set(),
        stale: false,
      };
      this.#mine.set(group, k);
    }
    return k;
  }

  /** My current key for `group` if it exists and is not stale (never creates one). */
  currentKey(group: string): SenderKey | undefined {
    const k = this.#mine.get(group);
    return k && !k.stale ? k : undefined;
  }

  /** Members (other than `me`) that do not have my current key yet. */
  membersWithout(group: string, members: Iterable<string>, me: string): string[] {
    const k = this.#current(group);
    return [...new Set(members)].filter((m) => m !== me && !k.sentTo.has(m));
  }

  /** Records that `members` were sent my current key. */
  markSent(group: string, members: Iterable<string>): void {
    const k = this.#current(group);
    for (const m of members) k.sentTo.add(m);
  }

  /**
   * Someone left or was removed: my next message uses a new key, and their
   * keys are dropped (nothing they send from now on will be for this group).
   */
  memberGone(group: string, member: string): void {
    const k = this.#mine.get(group);
    if (k) k.stale = true;
    this.#theirs.get(group)?.delete(member);
  }

  /** I left or was removed: forget everything about `group`. */
  forgetGroup(group: string): void {
    this.#mine.delete(group);
    this.#theirs.delete(group);
  }

  /** Stores a key `member` sent me for `group` (idempotent). */
  addReceived(group: string, member: string, kid: string, raw: Uint8Array): void {
    let byMember = this.#theirs.get(group);
    if (!byMember) this.#theirs.set(group, byMember = new Map());
    const keys = byMember.get(member) ?? [];
    if (keys.some((k) => k.kid === kid)) return;
    keys.push(makeKey(kid, raw.slice()));
    if (keys.length > KEYS_PER_MEMBER) keys.splice(0, keys.length - KEYS_PER_MEMBER);
    byMember.set(member, keys);
  }

  /** The key `member` used for `kid` in `group`; my own keys too (for echoes). */
  lookup(group: string, member: string, kid: string): MessageKey | undefined {
    const mine = this.#mine.get(group);
    if (mine && mine.kid === kid) return mine.key;
    return this.#theirs.get(group)?.get(member)?.find((k) => k.kid === kid)?.key;
  }

  /** Saves the ring as plain data. */
  snapshot(): SenderKeySnapshot {
    const mine: SenderKeySnapshot["mine"] = {};
    for (const [g, k] of this.#mine) mine[g] = [k.kid, k.raw, [...k.sentTo], k.stale];
    const theirs: SenderKeySnapshot["theirs"] = {};
    for (const [g, byMember] of this.#theirs) {
      theirs[g] = {};
      for (const [m, keys] of byMember) theirs[g][m] = keys.map((k) => [k.kid, k.raw]);
    }
    return { mine, theirs, handovers: [...this.#handovers] };
  }

  /** Rebuilds a ring from {@link snapshot} data. */
  static restore(s: SenderKeySnapshot): SenderKeyRing {
    const ring = new SenderKeyRing();
    ring.load(s);
    return ring;
  }

  /** Replaces everything with {@link snapshot} data (or empties the ring). */
  load(s: SenderKeySnapshot | null): void {
    this.#mine.clear();
    this.#theirs.clear();
    this.#handovers.clear();
    if (!s) return;
    for (const id of Array.isArray(s.handovers) ? s.handovers : []) {
      if (typeof id === "string") this.noteHandover(id);
    }
    for (const [g, [kid, raw, sentTo, stale]] of Object.entries(s.mine ?? {})) {
      this.#mine.set(g, { ...makeKey(kid, raw), sentTo: new Set(sentTo), stale });
    }
    for (const [g, byMember] of Object.entries(s.theirs ?? {})) {
      for (const [m, keys] of Object.entries(byMember)) {
        for (const [kid, raw] of keys) this.addReceived(g, m, kid, raw);
      }
    }
  }
}

/**
 * Client-side key management for direct messages: pinned contact keys
 * (trust on first use, loud warning on change) and per-peer 256-bit
 * session keys. One RSA operation per session key, never per message: a
 * sender key rotates after 1,000 messages, after 24 hours, or when the
 * recipient's key changes; received keys are cached by key id.
 *
 * @example
 * ```ts
 * import { KeyManager } from "@fastchat/client/key_manager";
 * declare const km: KeyManager;
 * const out = km.outgoingReady("bob") ?? await km.outgoing("bob");
 * console.log(out.kid);
 * ```
 * @module
 */
import {
  createSessionKey,
  type Identity,
  type ImportedPublicKeys,
  importMessageKey,
  importPublicKeys,
  keyFingerprint,
  type MessageKey,
  openSessionKey,
  type PublicKeys,
  safetyNumber,
} from "@fastchat/lib/crypto";
import { keyBytes } from "@fastchat/lib/crypto/bytes";
import { FastChatError } from "@fastchat/lib/errors";

/** A session key this client sends with. */
export interface OutgoingKey {
  kid: string;
  raw: Uint8Array;
  key: MessageKey;
  count: number;
  created: number;
  /** Fingerprint of the recipient key it was wrapped for. */
  fp: string;
  /** Envelope, attached to messages until the server has confirmed one. */
  env: Uint8Array | null;
}

/** A session key received from a peer. */
export interface IncomingKey {
  kid: string;
  from: string;
  raw: Uint8Array;
  key: MessageKey;
  created: number;
}

/** Persistable form of the key state. */
export interface KeyState {
  pins: Record<string, PublicKeys>;
  /** Contacts blocked by a key change: the new, not yet trusted keys. */
  pending?: Record<string, PublicKeys>;
  out: Record<string, Omit<OutgoingKey, "key">>;
  in: Record<string, Omit<IncomingKey, "key">>;
}

/** What the key manager needs from the rest of the client. */
export interface KeyManagerDeps {
  user: string;
  identity: Identity;
  /** Fetches `user`'s public keys from the server. */
  fetchKeys: (user: string) => Promise<PublicKeys>;
  /** Fetches a key envelope addressed to us. */
  fetchEnvelope: (kid: string) => Promise<{ from: string; env: Uint8Array }>;
  /** Called when a pinned contact key changes. */
  onKeyChanged?: (user: string, oldFp: string, newFp: string) => void;
  /** Called when state worth persisting changed. */
  onChange?: () => void;
  rotateEvery?: number;
  rotateAfterMs?: number;
}

/**
 * Contacts whose imported public keys (WebCrypto keys, ~20 heap objects a
 * contact) are kept, the most recently used. They are needed only to wrap
 * a new session key or to check a received one, both rare: a client with
 * thousands of contacts (a bot, a bridge, a load generator's hundreds of
 * clients) kept them all, which was half of a load worker's heap and made
 * each full collection that much longer.
 */
export const IMPORTED_KEYS_KEPT = 16;

const keyChanged = (user: string) =>
  new FastChatError(
    "KEY_CHANGED",
    `${user}'s keys changed; compare with /verify ${user}, then /trust ${user}`,
  );

const sameKeys = (a: PublicKeys, b: PublicKeys): boolean =>
  a.enc.length === b.enc.length && a.enc.every((x, i) => x === b.enc[i]) &&
  a.sign.every((x, i) => x === b.sign[i]);

/**
 * Contact pins and session keys of one logged-in user.
 *
 * @example
 * ```ts
 * import { KeyManager } from "@fastchat/client/key_manager";
 * declare const km: KeyManager;
 * const k = km.incomingReady("bob", "kid-123456") ?? await km.incoming("bob", "kid-123456");
 * ```
 */
export class KeyManager {
  readonly #d: KeyManagerDeps;
  readonly #pins = new Map<string, PublicKeys>();
  readonly #pending = new Map<string, PublicKeys>();
  readonly #imported = new Map<string, Promise<ImportedPublicKeys>>();
  readonly #out = new Map<string, OutgoingKey>();
  readonly #creating = new Map<string, Promise<OutgoingKey>>();
  readonly #in = new Map<string, IncomingKey>();
  readonly #opening = new Map<string, Promise<IncomingKey>>();
  readonly rotateEvery: number;
  readonly rotateAfterMs: number;

  constructor(deps: KeyManagerDeps, state?: KeyState | null) {
    this.#d = deps;
    this.rotateEvery = deps.rotateEvery ?? 1000;
    this.rotateAfterMs = deps.rotateAfterMs ?? 24 * 3600_000;
    if (state) {
      // Decoders may hand back Buffer views: keep plain, owned Uint8Arrays
      // (views into this process's key slab: no ArrayBuffer per key).
      const own = keyBytes;
      for (const [u, k] of Object.entries(state.pins ?? {})) {
        this.#pins.set(u, { enc: own(k.enc), sign: own(k.sign) });
      }
      for (const [u, k] of Object.entries(state.pending ?? {})) {
        this.#pending.set(u, { enc: own(k.enc), sign: own(k.sign) });
      }
      for (const [u, k] of Object.entries(state.out ?? {})) {
        const raw = own(k.raw);
        this.#out.set(u, { ...k, raw, env: k.env ? own(k.env) : null, key: importMessageKey(raw) });
      }
      for (const [kid, k] of Object.entries(state.in ?? {})) {
        const raw = own(k.raw);
        this.#in.set(kid, { ...k, raw, key: importMessageKey(raw) });
      }
    }
  }

  /** Persistable snapshot. */
  snapshot(): KeyState {
    const strip = <T extends { key: MessageKey }>(k: T): Omit<T, "key"> => {
      const { key: _key, ...rest } = k;
      return rest;
    };
    return {
      pins: Object.fromEntries(this.#pins),
      pending: Object.fromEntries(this.#pending),
      out: Object.fromEntries([...this.#out].map(([u, k]) => [u, strip(k)])),
      in: Object.fromEntries([...this.#in].map(([kid, k]) => [kid, strip(k)])),
    };
  }

  /** Pinned public keys of `user`, if any. */
  pinned(user: string): PublicKeys | undefined {
    return this.#pins.get(user);
  }

  /** The new, untrusted keys of `user` while they are blocked by a key change. */
  pendingKeys(user: string): PublicKeys | undefined {
    return this.#pending.get(user);
  }

  /**
   * The safety number of this user (whose public keys are `mine`) and
   * `peer`'s pinned keys, to compare out of band.
   */
  async safetyNumber(mine: PublicKeys, peer: string): Promise<string> {
    const theirs = await this.contactKeys(peer);
    return await safetyNumber({ user: this.#d.user, keys: mine }, { user: peer, keys: theirs.raw });
  }

  /**
   * While `peer` is blocked by a key change: the safety numbers for the
   * pinned (old) and the new keys; null when nothing is pending.
   */
  async pendingSafetyNumbers(
    mine: PublicKeys,
    peer: string,
  ): Promise<{ pinned: string; pending: string } | null> {
    const fresh = this.#pending.get(peer);
    const old = this.#pins.get(peer);
    if (!fresh || !old) return null;
    const me = { user: this.#d.user, keys: mine };
    return {
      pinned: await safetyNumber(me, { user: peer, keys: old }),
      pending: await safetyNumber(me, { user: peer, keys: fresh }),
    };
  }

  /** Whether `user` is blocked by a key change that was not yet trusted. */
  blocked(user: string): boolean {
    return this.#pending.has(user);
  }

  /**
   * Re-pins the pending new keys of `user` (the user checked them with
   * /verify) and unblocks them. `BAD_REQUEST` if no key change is pending.
   */
  trust(user: string): void {
    const fresh = this.#pending.get(user);
    if (!fresh) throw new FastChatError("BAD_REQUEST", `no pending key change for ${user}`);
    this.#pending.delete(user);
    this.#pins.set(user, fresh);
    this.#imported.delete(user);
    this.#out.delete(user);
    this.#d.onChange?.();
  }

  /**
   * Current public keys of `user`: pinned ones, or fetched and pinned on
   * first use. With `refresh` the server is asked again; keys that differ
   * from the pin are never used: the contact becomes blocked (reported
   * through `onKeyChanged`, persisted) until {@link trust}. A blocked
   * contact fails with `KEY_CHANGED`.
   */
  async contactKeys(user: string, refresh = false): Promise<ImportedPublicKeys> {
    if (this.#pending.has(user)) throw keyChanged(user);
    const pinned = this.#pins.get(user);
    if (pinned && !refresh) {
      let p = this.#imported.get(user);
      if (p) this.#imported.delete(user); // re-inserted below: most recent last
      else p = importPublicKeys(pinned);
      this.#keepImported(user, p);
      return p;
    }
    const fresh = await this.#d.fetchKeys(user);
    const imported = await importPublicKeys(fresh);
    if (this.#pending.has(user)) throw keyChanged(user);
    const current = this.#pins.get(user);
    if (current && !sameKeys(current, fresh)) {
      const [a, b] = await Promise.all([keyFingerprint(current), keyFingerprint(fresh)]);
      this.#out.delete(user); // never wrap for a substituted key
      this.#pending.set(user, fresh);
      this.#d.onChange?.();
      this.#d.onKeyChanged?.(user, a, b);
      throw keyChanged(user);
    }
    if (!current) {
      this.#pins.set(user, { enc: keyBytes(fresh.enc), sign: keyBytes(fresh.sign) });
      this.#d.onChange?.();
    }
    this.#keepImported(user, Promise.resolve(imported));
    return imported;
  }

  /** Keeps `user`'s imported keys, forgetting the least recently used past {@link IMPORTED_KEYS_KEPT}. */
  #keepImported(user: string, keys: Promise<ImportedPublicKeys>): void {
    this.#imported.set(user, keys);
    if (this.#imported.size > IMPORTED_KEYS_KEPT) {
      this.#imported.delete(this.#imported.keys().next().value!);
    }
  }

  /** Contacts whose imported public keys are kept (at most {@link IMPORTED_KEYS_KEPT}). */
  get importedKeys(): number {
    return this.#imported.size;
  }

  /** The sending key for `to` if it needs no rotation; counts one use. */
  outgoingReady(to: string, now: number = Date.now()): OutgoingKey | null {
    const k = this.#out.get(to);
    if (!k || k.count >= this.rotateEvery || now - k.created >= this.rotateAfterMs) return null;
    k.count++;
    return k;
  }

  /** The sending key for `to`, creating (and wrapping) a new one when due. */
  async outgoing(to: string): Promise<OutgoingKey> {
    const ready = this.outgoingReady(to);
    if (ready) return ready;
    let p = this.#creating.get(to);
    if (!p) {
      p = this.#create(to).finally(() => this.#creating.delete(to));
      this.#creating.set(to, p);
    }
    await p;
    return this.outgoingReady(to) ?? this.outgoing(to);
  }

  async #create(to: string): Promise<OutgoingKey> {
    // Re-fetch on every rotation so a changed recipient key is noticed.
    const recipientKeys = await this.contactKeys(to, true);
    const sk = await createSessionKey({
      sender: this.#d.user,
      recipient: to,
      senderIdentity: this.#d.identity,
      recipientKeys,
    });
    const k: OutgoingKey = {
      kid: sk.kid,
      raw: keyBytes(sk.key),
      key: importMessageKey(sk.key),
      count: 0,
      created: sk.createdAt,
      fp: await keyFingerprint(recipientKeys.raw),
      env: sk.envelope,
    };
    this.#out.set(to, k);
    this.#d.onChange?.();
    return k;
  }

  /** Marks the envelope of `kid` as stored by the server (stop attaching it). */
  envelopeStored(to: string, kid: string): void {
    const k = this.#out.get(to);
    if (k && k.kid === kid && k.env) {
      k.env = null;
      this.#d.onChange?.();
    }
  }

  /** A received key by id, if already opened and really from `from`. */
  incomingReady(from: string, kid: string): IncomingKey | null {
    const k = this.#in.get(kid);
    return k && k.from === from ? k : null;
  }

  /**
   * Opens the key `kid` from `from`: from `env` if given, otherwise fetched
   * from the server. Verifies the sender's signature (`BAD_SIGNATURE`) and
   * unwraps it (`DECRYPT_FAILED`).
   */
  incoming(from: string, kid: string, env?: Uint8Array): Promise<IncomingKey> {
    const have = this.#in.get(kid);
    if (have) {
      return have.from === from ? Promise.resolve(have) : Promise.reject(
        new FastChatError("BAD_SIGNATURE", `key ${kid} belongs to ${have.from}, not ${from}`),
      );
    }
    const key = from + "\n" + kid; // a concurrent claim by another sender is judged on its own
    let p = this.#opening.get(key);
    if (!p) {
      p = this.#open(from, kid, env).finally(() => this.#opening.delete(key));
      this.#opening.set(key, p);
    }
    return p;
  }

  async #open(from: string, kid: string, env?: Uint8Array): Promise<IncomingKey> {
    const envelope = env ?? (await this.#d.fetchEnvelope(kid)).env;
    const open = async (senderKeys: ImportedPublicKeys) =>
      await openSessionKey({
        envelope,
        expectedSender: from,
        expectedRecipient: this.#d.user,
        recipientIdentity: this.#d.identity,
        senderKeys,
      });
    // Only the pinned key judges the signature: a failure is BAD_SIGNATURE
    // for this envelope and never a reason to fetch (and pin) another key.
    const opened = await open(await this.contactKeys(from));
    if (opened.kid !== kid) {
      throw new FastChatError("BAD_SIGNATURE", "key envelope id does not match the message");
    }
    const k: IncomingKey = {
      kid,
      from,
      raw: keyBytes(opened.key),
      key: importMessageKey(opened.key),
      created: opened.createdAt,
    };
    this.#in.set(kid, k);
    this.#d.onChange?.();
    return k;
  }
}

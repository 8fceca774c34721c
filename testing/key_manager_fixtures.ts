/**
 * Fixtures for the KeyManager tests: real WebCrypto identities for four
 * people, a fake server (public keys by user, envelopes by kid) that counts
 * its calls, and a spy that counts RSA-OAEP wraps and unwraps by wrapping
 * `crypto.subtle.encrypt`/`decrypt` (the real functions still do the work).
 *
 * @example
 * ```ts
 * import { KeyManager } from "@fastchat/client/key_manager";
 * import { alice, bob, FakeServer, RsaSpy } from "@fastchat/testing/key_manager_fixtures";
 * const server = new FakeServer(alice, bob);
 * using rsa = new RsaSpy();
 * await new KeyManager(server.deps(alice)).outgoing("bob");
 * console.log(rsa.wraps, server.calls.fetchKeys); // 1 1
 * ```
 * @module
 */
import {
  exportPublicKeys,
  generateIdentity,
  type Identity,
  importPublicKeys,
  keyFingerprint,
  type MessageAadFields,
  type OpenedSessionKey,
  openSessionKey,
  type PublicKeys,
} from "@fastchat/lib/crypto";
import { FastChatError } from "@fastchat/lib/errors";
import type { KeyManagerDeps } from "@fastchat/client/key_manager";

/**
 * A day in milliseconds.
 *
 * @example
 * ```ts
 * import { DAY } from "@fastchat/testing/key_manager_fixtures";
 * console.log(Date.now() + 2 * DAY);
 * ```
 */
export const DAY = 24 * 3600_000;

/**
 * A user with an identity and its exported public keys.
 *
 * @example
 * ```ts
 * import { person, type Person } from "@fastchat/testing/key_manager_fixtures";
 * const dan: Person = await person("dan");
 * console.log(dan.name);
 * ```
 */
export interface Person {
  /** The username. */
  name: string;
  /** The private identity. */
  id: Identity;
  /** Its public keys as the server stores them. */
  pub: PublicKeys;
}

/**
 * A new person named `name` with a fresh identity.
 *
 * @example
 * ```ts
 * import { person } from "@fastchat/testing/key_manager_fixtures";
 * const dan = await person("dan");
 * console.log(dan.pub);
 * ```
 */
export async function person(name: string): Promise<Person> {
  const id = await generateIdentity();
  return { name, id, pub: await exportPublicKeys(id) };
}

/**
 * Four people made once per test module.
 *
 * @example
 * ```ts
 * import { alice, mallory } from "@fastchat/testing/key_manager_fixtures";
 * console.log(alice.name, mallory.name);
 * ```
 */
export const [alice, bob, carol, mallory]: Person[] = await Promise.all(
  ["alice", "bob", "carol", "mallory"].map(person),
);

/**
 * The server as the key manager sees it: maps plus call counters.
 *
 * @example
 * ```ts
 * import { alice, bob, FakeServer } from "@fastchat/testing/key_manager_fixtures";
 * const server = new FakeServer(alice, bob);
 * server.keys.delete("bob"); // bob is now unknown
 * console.log(server.deps(alice).user); // "alice"
 * ```
 */
export class FakeServer {
  readonly keys = new Map<string, PublicKeys>();
  readonly envelopes = new Map<string, { from: string; env: Uint8Array }>();
  readonly calls = { fetchKeys: 0, fetchEnvelope: 0 };
  readonly keyChanges: [string, string, string][] = [];
  changes = 0;

  constructor(...people: Person[]) {
    for (const p of people) this.keys.set(p.name, p.pub);
  }

  deps(me: Person, extra: Partial<KeyManagerDeps> = {}): KeyManagerDeps {
    return {
      user: me.name,
      identity: me.id,
      fetchKeys: (user) => {
        this.calls.fetchKeys++;
        const k = this.keys.get(user);
        return k
          ? Promise.resolve(k)
          : Promise.reject(new FastChatError("UNKNOWN_USER", `no such user: ${user}`));
      },
      fetchEnvelope: (kid) => {
        this.calls.fetchEnvelope++;
        const e = this.envelopes.get(kid);
        return e
          ? Promise.resolve(e)
          : Promise.reject(new FastChatError("UNKNOWN_KEY", `no key envelope ${kid}`));
      },
      onKeyChanged: (user, oldFp, newFp) => this.keyChanges.push([user, oldFp, newFp]),
      onChange: () => this.changes++,
      ...extra,
    };
  }
}

/**
 * Counts RSA-OAEP encryptions (wraps) and decryptions (unwraps) until disposed.
 *
 * @example
 * ```ts
 * import { RsaSpy } from "@fastchat/testing/key_manager_fixtures";
 * using rsa = new RsaSpy();
 * console.log(rsa.wraps, rsa.unwraps); // 0 0
 * ```
 */
export class RsaSpy implements Disposable {
  wraps = 0;
  unwraps = 0;
  readonly #subtle = crypto.subtle;

  constructor() {
    const s = this.#subtle;
    const encrypt = s.encrypt;
    const decrypt = s.decrypt;
    const isRsa = (a: AlgorithmIdentifier) => (typeof a === "string" ? a : a.name) === "RSA-OAEP";
    s.encrypt = ((...args: Parameters<SubtleCrypto["encrypt"]>) => {
      if (isRsa(args[0])) this.wraps++;
      return encrypt.apply(s, args);
    }) as SubtleCrypto["encrypt"];
    s.decrypt = ((...args: Parameters<SubtleCrypto["decrypt"]>) => {
      if (isRsa(args[0])) this.unwraps++;
      return decrypt.apply(s, args);
    }) as SubtleCrypto["decrypt"];
  }

  [Symbol.dispose](): void {
    // Drop the own properties: the prototype's methods show through again.
    const own = this.#subtle as unknown as Record<string, unknown>;
    delete own.encrypt;
    delete own.decrypt;
  }
}

/**
 * Opens `env` as `recipient` would, with `sender`'s public keys.
 *
 * @example
 * ```ts
 * import { alice, bob, openAs } from "@fastchat/testing/key_manager_fixtures";
 * declare const envelope: Uint8Array; // from alice's KeyManager.outgoing("bob")
 * const opened = await openAs(bob, alice, envelope);
 * console.log(opened.kid);
 * ```
 */
export async function openAs(
  recipient: Person,
  sender: Person,
  env: Uint8Array,
): Promise<OpenedSessionKey> {
  return await openSessionKey({
    envelope: env,
    expectedSender: sender.name,
    expectedRecipient: recipient.name,
    recipientIdentity: recipient.id,
    senderKeys: await importPublicKeys(sender.pub),
  });
}

/**
 * The AAD fields of a direct message `from` → `to` under key `kid`.
 *
 * @example
 * ```ts
 * import { meta } from "@fastchat/testing/key_manager_fixtures";
 * console.log(meta("alice", "bob", "kid-1").kind); // "dm"
 * ```
 */
export function meta(from: string, to: string, kid: string, id = "msg-00000001"): MessageAadFields {
  return { kind: "dm", from, to, id, sentAt: 1_700_000_000_000, kid };
}

/**
 * The fingerprint of public keys `p`.
 *
 * @example
 * ```ts
 * import { alice, fp } from "@fastchat/testing/key_manager_fixtures";
 * console.log(await fp(alice.pub));
 * ```
 */
export const fp = (p: PublicKeys): ReturnType<typeof keyFingerprint> => keyFingerprint(p);

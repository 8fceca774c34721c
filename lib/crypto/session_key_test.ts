import { expect } from "expect";
import { FastChatError } from "../errors.ts";
import { generateIdentity, type Identity } from "./identity.ts";
import { exportPublicKeys, type ImportedPublicKeys, importPublicKeys } from "./public_keys.ts";
import { decodeEnvelope, encKeyFingerprint, peekEnvelope } from "./session_envelope.ts";
import { createSessionKey, openSessionKey } from "./session_key.ts";

async function asyncCodeOf(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FastChatError);
    return (e as FastChatError).code;
  }
  return undefined;
}

interface User {
  name: string;
  id: Identity;
  pub: ImportedPublicKeys;
}

async function user(name: string): Promise<User> {
  const id = await generateIdentity();
  return { name, id, pub: await importPublicKeys(await exportPublicKeys(id)) };
}

const [alice, bob, carol] = await Promise.all([user("alice"), user("bob"), user("carol")]);

function create(from: User, to: User, now?: number) {
  return createSessionKey({
    sender: from.name,
    recipient: to.name,
    senderIdentity: from.id,
    recipientKeys: to.pub,
    now,
  });
}

function open(envelope: Uint8Array, from: User, to: User, as = to, senderKeys = from.pub) {
  return openSessionKey({
    envelope,
    expectedSender: from.name,
    expectedRecipient: to.name,
    recipientIdentity: as.id,
    senderKeys,
  });
}

Deno.test("create/open round trip", async () => {
  const sk = await create(alice, bob, 1_700_000_000_123);
  expect(sk.key.length).toBe(32);
  expect(sk.kid).toMatch(/^[A-Za-z0-9_-]{22}$/);
  expect(sk.createdAt).toBe(1_700_000_000_123);
  const got = await open(sk.envelope, alice, bob);
  expect(got).toEqual({ kid: sk.kid, key: sk.key, createdAt: 1_700_000_000_123 });
  const other = await create(alice, bob);
  expect(other.kid).not.toBe(sk.kid);
  expect(other.key).not.toEqual(sk.key);
  expect(Math.abs(other.createdAt - Date.now())).toBeLessThan(10_000);
});

Deno.test("peekEnvelope reads the header and the recipient key fingerprint", async () => {
  const sk = await create(alice, bob, 42);
  expect(peekEnvelope(sk.envelope)).toEqual({
    kid: sk.kid,
    sender: "alice",
    recipient: "bob",
    createdAt: 42,
    recipientKeyFingerprint: encKeyFingerprint(bob.pub.raw.enc),
  });
  expect(peekEnvelope(sk.envelope).recipientKeyFingerprint).not.toBe(
    encKeyFingerprint(carol.pub.raw.enc),
  );
});

Deno.test("every byte flip is rejected; signed-field and signature flips → BAD_SIGNATURE", async () => {
  const sk = await create(alice, bob);
  const env = sk.envelope;
  const f = decodeEnvelope(env);
  // layout from the end: sig(64) after u16 len, wrapped after u16 len, fpr after u16 len, u64 createdAt
  const sigStart = env.length - 64;
  const wrappedStart = sigStart - 2 - f.wrapped.length;
  const fprStart = wrappedStart - 2 - 32;
  const createdAtStart = fprStart - 2 - 8;
  const mustBeBadSignature = (i: number) =>
    i >= sigStart || (i >= wrappedStart && i < sigStart - 2) ||
    (i >= fprStart && i < wrappedStart - 2) ||
    // createdAt, minus its top two bytes (flips there exceed 2^53 → BAD_REQUEST)
    (i >= createdAtStart + 2 && i < fprStart - 2);
  for (let i = 0; i < env.length; i++) {
    for (const mask of [0x01, 0x80]) {
      const bad = env.slice();
      bad[i] ^= mask;
      const code = await asyncCodeOf(() => open(bad, alice, bob));
      if (mustBeBadSignature(i)) expect([i, code]).toEqual([i, "BAD_SIGNATURE"]);
      else expect(["BAD_SIGNATURE", "BAD_REQUEST"]).toContain(code);
    }
  }
});

Deno.test("alice->bob envelope presented as from carol → BAD_SIGNATURE", async () => {
  const { envelope } = await create(alice, bob);
  // names say carol, keys are carol's
  expect(await asyncCodeOf(() => open(envelope, carol, bob))).toBe("BAD_SIGNATURE");
  // names say alice, but verified under carol's key
  expect(await asyncCodeOf(() => open(envelope, alice, bob, bob, carol.pub))).toBe(
    "BAD_SIGNATURE",
  );
  // wrong expected recipient
  expect(await asyncCodeOf(() => open(envelope, alice, carol, bob))).toBe("BAD_SIGNATURE");
});

Deno.test("carol cannot forge an envelope claiming to be from alice", async () => {
  const forged = await createSessionKey({
    sender: "alice",
    recipient: "bob",
    senderIdentity: carol.id,
    recipientKeys: bob.pub,
  });
  expect(await asyncCodeOf(() => open(forged.envelope, alice, bob))).toBe("BAD_SIGNATURE");
});

Deno.test("wrong recipient identity → DECRYPT_FAILED", async () => {
  const { envelope } = await create(alice, bob);
  // carol's identity with bob's name: signature checks out, key is not hers
  expect(await asyncCodeOf(() => open(envelope, alice, bob, carol))).toBe("DECRYPT_FAILED");
});

Deno.test("RSA unwrap failure (fingerprint matches, key does not) → DECRYPT_FAILED", async () => {
  // a sender with inconsistent ImportedPublicKeys: raw says bob, CryptoKey is carol's
  const confused: ImportedPublicKeys = { ...bob.pub, enc: carol.pub.enc };
  const sk = await createSessionKey({
    sender: "alice",
    recipient: "bob",
    senderIdentity: alice.id,
    recipientKeys: confused,
  });
  expect(await asyncCodeOf(() => open(sk.envelope, alice, bob))).toBe("DECRYPT_FAILED");
});

Deno.test("malformed envelopes and names → BAD_REQUEST", async () => {
  expect(await asyncCodeOf(() => open(new Uint8Array(10), alice, bob))).toBe("BAD_REQUEST");
  expect(
    await asyncCodeOf(() =>
      createSessionKey({
        sender: "",
        recipient: "bob",
        senderIdentity: alice.id,
        recipientKeys: bob.pub,
      })
    ),
  ).toBe("BAD_REQUEST");
});

import { expect } from "expect";
import { FastChatError } from "../errors.ts";
import { BinaryReader, BinaryWriter } from "./codec.ts";
import {
  exportIdentity,
  exportPublicKeys,
  generateIdentity,
  type Identity,
  importIdentity,
  openIdentity,
  sealIdentity,
} from "./identity.ts";
import { derivePasswordKeys, newKdfSalt } from "./password.ts";
import { sealVault } from "./vault.ts";

async function asyncCodeOf(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FastChatError);
    return (e as FastChatError).code;
  }
  return undefined;
}

async function works(id: Identity): Promise<void> {
  const msg = crypto.getRandomValues(new Uint8Array(32));
  const sig = await crypto.subtle.sign("Ed25519", id.sign.privateKey, msg);
  expect(await crypto.subtle.verify("Ed25519", id.sign.publicKey, sig, msg)).toBe(true);
  const ct = await crypto.subtle.encrypt("RSA-OAEP", id.encrypt.publicKey, msg);
  expect(new Uint8Array(await crypto.subtle.decrypt("RSA-OAEP", id.encrypt.privateKey, ct)))
    .toEqual(msg);
}

const weak = { allowWeak: true };
const alice = await generateIdentity();
const bob = await generateIdentity();

Deno.test("generateIdentity makes RSA-OAEP-2048/SHA-256/65537 + Ed25519", async () => {
  const alg = alice.encrypt.privateKey.algorithm as RsaHashedKeyAlgorithm;
  expect(alg.name).toBe("RSA-OAEP");
  expect(alg.modulusLength).toBe(2048);
  expect(alg.hash.name).toBe("SHA-256");
  expect(Array.from(alg.publicExponent)).toEqual([1, 0, 1]);
  expect(alice.sign.privateKey.algorithm.name).toBe("Ed25519");
  expect(alice.encrypt.privateKey.extractable).toBe(true);
  await works(alice);
});

Deno.test("exportIdentity/importIdentity round trip; private keys non-extractable by default", async () => {
  const blob = await exportIdentity(alice);
  expect(blob[0]).toBe(1);
  const back = await importIdentity(blob);
  expect(await exportPublicKeys(back)).toEqual(await exportPublicKeys(alice));
  expect(back.encrypt.privateKey.extractable).toBe(false);
  expect(back.sign.privateKey.extractable).toBe(false);
  await works(back);
  expect(await asyncCodeOf(() => exportIdentity(back))).toBe("BAD_REQUEST");
  const again = await importIdentity(blob, { extractable: true });
  expect(await exportIdentity(again)).toEqual(blob);
});

Deno.test("importIdentity rejects malformed blobs with BAD_REQUEST", async () => {
  const blob = await exportIdentity(alice);
  const bad = [
    new Uint8Array(0),
    blob.subarray(0, blob.length - 1),
    Uint8Array.of(...blob, 0),
    Uint8Array.of(2, ...blob.subarray(1)),
  ];
  for (const b of bad) expect(await asyncCodeOf(() => importIdentity(b))).toBe("BAD_REQUEST");
  const flipped = blob.slice();
  flipped[40] ^= 0xff; // inside the RSA PKCS8
  expect(await asyncCodeOf(() => importIdentity(flipped))).toBe("BAD_REQUEST");
});

Deno.test("importIdentity rejects mismatched private/public keys", async () => {
  const parts = async (id: Identity) => {
    const r = new BinaryReader(await exportIdentity(id));
    r.u8();
    return [r.bytes16(), r.bytes16(), r.bytes16(), r.bytes16()];
  };
  const [aEncPriv, aEncPub, aSignPriv, aSignPub] = await parts(alice);
  const [bEncPriv, bEncPub, bSignPriv] = await parts(bob);
  const mix = (parts: Uint8Array[]) => {
    const w = new BinaryWriter();
    w.u8(1);
    for (const p of parts) w.bytes16(p);
    return w.finish();
  };
  expect(await importIdentity(mix([aEncPriv, aEncPub, aSignPriv, aSignPub]))).toBeTruthy();
  expect(await asyncCodeOf(() => importIdentity(mix([aEncPriv, bEncPub, aSignPriv, aSignPub]))))
    .toBe("BAD_REQUEST");
  expect(await asyncCodeOf(() => importIdentity(mix([aEncPriv, aEncPub, bSignPriv, aSignPub]))))
    .toBe("BAD_REQUEST");
  expect(await asyncCodeOf(() => importIdentity(mix([bEncPriv, bEncPub, bSignPriv, aSignPub]))))
    .toBe("BAD_REQUEST");
});

Deno.test("sealIdentity/openIdentity round trip; wrong password → WRONG_PASSWORD_LOCAL", async () => {
  const salt = newKdfSalt();
  const { vaultKey } = await derivePasswordKeys("pw", salt, 1000, weak);
  const sealed = await sealIdentity(alice, vaultKey);
  const back = await openIdentity(sealed, vaultKey);
  expect(await exportPublicKeys(back)).toEqual(await exportPublicKeys(alice));
  await works(back);

  const wrong = await derivePasswordKeys("pw2", salt, 1000, weak);
  expect(await asyncCodeOf(() => openIdentity(sealed, wrong.vaultKey))).toBe(
    "WRONG_PASSWORD_LOCAL",
  );
  const tampered = sealed.slice();
  tampered[tampered.length - 1] ^= 1;
  expect(await asyncCodeOf(() => openIdentity(tampered, vaultKey))).toBe("WRONG_PASSWORD_LOCAL");
  // a vault blob with another label is not an identity backup
  const other = await sealVault(vaultKey, await exportIdentity(alice), "notes");
  expect(await asyncCodeOf(() => openIdentity(other, vaultKey))).toBe("WRONG_PASSWORD_LOCAL");
  // correctly sealed garbage is a malformed identity
  const garbage = await sealVault(vaultKey, new Uint8Array([1, 2, 3]), "identity");
  expect(await asyncCodeOf(() => openIdentity(garbage, vaultKey))).toBe("BAD_REQUEST");
});

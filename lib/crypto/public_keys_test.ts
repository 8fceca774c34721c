import { expect } from "expect";
import { FastChatError } from "../errors.ts";
import { generateIdentity } from "./identity.ts";
import { exportPublicKeys, importPublicKeys, type PublicKeys } from "./public_keys.ts";

async function asyncCodeOf(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FastChatError);
    return (e as FastChatError).code;
  }
  return undefined;
}

async function rsaSpki(modulusLength: number, e: number[]): Promise<Uint8Array> {
  const kp = await crypto.subtle.generateKey(
    { name: "RSA-OAEP", modulusLength, publicExponent: new Uint8Array(e), hash: "SHA-256" },
    true,
    ["encrypt", "decrypt"],
  ) as CryptoKeyPair;
  return new Uint8Array(await crypto.subtle.exportKey("spki", kp.publicKey));
}

const id = await generateIdentity();
const pub = await exportPublicKeys(id);

Deno.test("exportPublicKeys gives SPKI DER and raw 32-byte Ed25519", () => {
  expect(pub.enc[0]).toBe(0x30); // DER SEQUENCE
  expect(pub.enc.length).toBeGreaterThan(290);
  expect(pub.sign.length).toBe(32);
});

Deno.test("importPublicKeys round trip yields usable keys and copies raw", async () => {
  const imported = await importPublicKeys(pub);
  expect(imported.raw).toEqual(pub);
  expect(imported.raw.enc).not.toBe(pub.enc);
  expect(imported.enc.usages).toEqual(["encrypt"]);
  expect(imported.sign.usages).toEqual(["verify"]);
  const msg = new TextEncoder().encode("m");
  const sig = await crypto.subtle.sign("Ed25519", id.sign.privateKey, msg);
  expect(await crypto.subtle.verify("Ed25519", imported.sign, sig, msg)).toBe(true);
  const ct = await crypto.subtle.encrypt({ name: "RSA-OAEP" }, imported.enc, msg);
  expect(new Uint8Array(await crypto.subtle.decrypt("RSA-OAEP", id.encrypt.privateKey, ct)))
    .toEqual(msg);
});

Deno.test("importPublicKeys rejects garbage with BAD_REQUEST", async () => {
  const cases: PublicKeys[] = [
    { enc: new Uint8Array(0), sign: pub.sign },
    { enc: crypto.getRandomValues(new Uint8Array(294)), sign: pub.sign },
    { enc: pub.enc.subarray(0, 200), sign: pub.sign },
    { enc: pub.enc, sign: new Uint8Array(31) },
    { enc: pub.enc, sign: new Uint8Array(33) },
    { enc: pub.sign, sign: pub.enc },
    { enc: "nope" as unknown as Uint8Array, sign: pub.sign },
    null as unknown as PublicKeys,
  ];
  for (const c of cases) expect(await asyncCodeOf(() => importPublicKeys(c))).toBe("BAD_REQUEST");
});

Deno.test("importPublicKeys rejects RSA moduli below 2048 bits and odd exponents", async () => {
  const small = await rsaSpki(1024, [1, 0, 1]);
  expect(await asyncCodeOf(() => importPublicKeys({ enc: small, sign: pub.sign }))).toBe(
    "BAD_REQUEST",
  );
  const e3 = await rsaSpki(2048, [3]);
  expect(await asyncCodeOf(() => importPublicKeys({ enc: e3, sign: pub.sign }))).toBe(
    "BAD_REQUEST",
  );
});

Deno.test("importPublicKeys rejects an EC SPKI", async () => {
  const ec = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", ec.publicKey));
  expect(await asyncCodeOf(() => importPublicKeys({ enc: spki, sign: pub.sign }))).toBe(
    "BAD_REQUEST",
  );
});

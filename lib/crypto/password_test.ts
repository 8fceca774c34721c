import { expect } from "expect";
import { FastChatError } from "../errors.ts";
import { constantTimeEqual, utf8Encode } from "./bytes.ts";
import {
  AUTH_KEY_INFO,
  derivePasswordKeys,
  deriveSubkey,
  newKdfSalt,
  PBKDF2_ITERATIONS,
  VAULT_KEY_INFO,
} from "./password.ts";

const FAST = 1000;
const weak = { allowWeak: true };

async function asyncCodeOf(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FastChatError);
    return (e as FastChatError).code;
  }
  return undefined;
}

async function pbkdf2(password: string, salt: Uint8Array, iterations: number) {
  const k = await crypto.subtle.importKey("raw", utf8Encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  return new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt: salt as Uint8Array<ArrayBuffer>, iterations },
      k,
      256,
    ),
  );
}

async function encryptWith(key: CryptoKey, pt: Uint8Array) {
  const iv = new Uint8Array(12);
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv },
    key,
    pt as Uint8Array<ArrayBuffer>,
  );
  return { iv, ct };
}

Deno.test("derivePasswordKeys is deterministic and salt/password dependent", async () => {
  const salt = newKdfSalt();
  expect(salt.length).toBe(16);
  expect(newKdfSalt()).not.toEqual(salt);
  const a = await derivePasswordKeys("hunter2", salt, FAST, weak);
  const b = await derivePasswordKeys("hunter2", salt, FAST, weak);
  expect(a.authKey.length).toBe(32);
  expect(a.authKey).toEqual(b.authKey);
  expect((await derivePasswordKeys("hunter3", salt, FAST, weak)).authKey).not.toEqual(a.authKey);
  expect((await derivePasswordKeys("hunter2", newKdfSalt(), FAST, weak)).authKey).not.toEqual(
    a.authKey,
  );
  expect((await derivePasswordKeys("hunter2", salt, FAST + 1, weak)).authKey).not.toEqual(
    a.authKey,
  );
  // same vault key: what one encrypts the other decrypts
  const { iv, ct } = await encryptWith(a.vaultKey, utf8Encode("x"));
  expect(new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, b.vaultKey, ct)))
    .toEqual(utf8Encode("x"));
});

Deno.test("vaultKey is a non-extractable AES-GCM-256 key", async () => {
  const { vaultKey } = await derivePasswordKeys("pw", newKdfSalt(), FAST, weak);
  expect(vaultKey.extractable).toBe(false);
  expect(vaultKey.algorithm).toEqual({ name: "AES-GCM", length: 256 });
  expect([...vaultKey.usages].sort()).toEqual(["decrypt", "encrypt"]);
  await expect(crypto.subtle.exportKey("raw", vaultKey)).rejects.toThrow();
});

Deno.test("authKey and vaultKey are independent HKDF outputs of the PBKDF2 master", async () => {
  const salt = newKdfSalt();
  const keys = await derivePasswordKeys("correct horse", salt, FAST, weak);
  const master = await pbkdf2("correct horse", salt, FAST);
  expect(await deriveSubkey(master, AUTH_KEY_INFO)).toEqual(keys.authKey);
  const vaultRaw = await deriveSubkey(master, VAULT_KEY_INFO);
  expect(constantTimeEqual(vaultRaw, keys.authKey)).toBe(false);
  expect(constantTimeEqual(master, keys.authKey)).toBe(false);
  // the vault key really is HKDF(master, "fastchat/v1/vault")
  const { iv, ct } = await encryptWith(keys.vaultKey, utf8Encode("secret"));
  const k = await crypto.subtle.importKey(
    "raw",
    vaultRaw as Uint8Array<ArrayBuffer>,
    "AES-GCM",
    false,
    ["decrypt"],
  );
  expect(new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, k, ct))).toEqual(
    utf8Encode("secret"),
  );
});

Deno.test("deriveSubkey: info separation, lengths, validation", async () => {
  const master = crypto.getRandomValues(new Uint8Array(32));
  const a = await deriveSubkey(master, "a");
  expect(a.length).toBe(32);
  expect(await deriveSubkey(master, "b")).not.toEqual(a);
  expect((await deriveSubkey(master, "a", 64)).subarray(0, 32)).toEqual(a);
  expect(await asyncCodeOf(() => deriveSubkey(new Uint8Array(8), "a"))).toBe("BAD_REQUEST");
  expect(await asyncCodeOf(() => deriveSubkey(master, "a", 0))).toBe("BAD_REQUEST");
});

Deno.test("password is NFC-normalized", async () => {
  const salt = newKdfSalt();
  const composed = await derivePasswordKeys("caf\u00e9", salt, FAST, weak);
  const decomposed = await derivePasswordKeys("cafe\u0301", salt, FAST, weak);
  expect(decomposed.authKey).toEqual(composed.authKey);
});

Deno.test("weak, absurd and malformed parameters are rejected", async () => {
  const salt = newKdfSalt();
  expect(await asyncCodeOf(() => derivePasswordKeys("pw", salt, FAST))).toBe("BAD_REQUEST");
  expect(await asyncCodeOf(() => derivePasswordKeys("pw", salt, 99_999))).toBe("BAD_REQUEST");
  expect(await asyncCodeOf(() => derivePasswordKeys("pw", salt, 0, weak))).toBe("BAD_REQUEST");
  expect(await asyncCodeOf(() => derivePasswordKeys("pw", salt, 1.5, weak))).toBe("BAD_REQUEST");
  expect(await asyncCodeOf(() => derivePasswordKeys("pw", salt, 20_000_000, weak))).toBe(
    "BAD_REQUEST",
  );
  expect(await asyncCodeOf(() => derivePasswordKeys("pw", new Uint8Array(8), FAST, weak))).toBe(
    "BAD_REQUEST",
  );
});

Deno.test("default uses 600k iterations and matches raw PBKDF2 + HKDF", async () => {
  expect(PBKDF2_ITERATIONS).toBe(600_000);
  const salt = newKdfSalt();
  const keys = await derivePasswordKeys("the real thing", salt);
  const master = await pbkdf2("the real thing", salt, 600_000);
  expect(keys.authKey).toEqual(await deriveSubkey(master, AUTH_KEY_INFO));
});

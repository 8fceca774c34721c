import { expect } from "expect";
import { FastChatError } from "../errors.ts";
import { utf8Encode } from "./bytes.ts";
import { derivePasswordKeys, newKdfSalt } from "./password.ts";
import { openVault, sealVault, VAULT_VERSION } from "./vault.ts";

async function asyncCodeOf(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FastChatError);
    return (e as FastChatError).code;
  }
  return undefined;
}

const salt = newKdfSalt();
const { vaultKey } = await derivePasswordKeys("right password", salt, 1000, { allowWeak: true });

Deno.test("sealVault/openVault round trip and format", async () => {
  for (const n of [0, 1, 100, 10_000]) {
    const pt = crypto.getRandomValues(new Uint8Array(n));
    const sealed = await sealVault(vaultKey, pt, "notes");
    expect(sealed[0]).toBe(VAULT_VERSION);
    expect(sealed.length).toBe(1 + 12 + n + 16);
    expect(await openVault(vaultKey, sealed, "notes")).toEqual(pt);
  }
  const a = await sealVault(vaultKey, utf8Encode("x"), "l");
  const b = await sealVault(vaultKey, utf8Encode("x"), "l");
  expect(a.subarray(1, 13)).not.toEqual(b.subarray(1, 13)); // fresh IVs
});

Deno.test("wrong password gives WRONG_PASSWORD_LOCAL", async () => {
  const sealed = await sealVault(vaultKey, utf8Encode("secret"), "identity");
  const wrong = await derivePasswordKeys("wrong password", salt, 1000, { allowWeak: true });
  try {
    await openVault(wrong.vaultKey, sealed, "identity");
    throw new Error("unreachable");
  } catch (e) {
    expect(e).toBeInstanceOf(FastChatError);
    expect((e as FastChatError).code).toBe("WRONG_PASSWORD_LOCAL");
    expect((e as FastChatError).message).toBe("cannot decrypt (wrong password or corrupted file)");
  }
});

Deno.test("wrong label, tampering, truncation, bad version give WRONG_PASSWORD_LOCAL", async () => {
  const sealed = await sealVault(vaultKey, utf8Encode("secret data"), "identity");
  expect(await asyncCodeOf(() => openVault(vaultKey, sealed, "notes"))).toBe(
    "WRONG_PASSWORD_LOCAL",
  );
  for (let i = 0; i < sealed.length; i++) {
    const bad = sealed.slice();
    bad[i] ^= 0x04;
    expect(await asyncCodeOf(() => openVault(vaultKey, bad, "identity"))).toBe(
      "WRONG_PASSWORD_LOCAL",
    );
  }
  for (const n of [0, 1, 13, 28, sealed.length - 1]) {
    expect(await asyncCodeOf(() => openVault(vaultKey, sealed.subarray(0, n), "identity"))).toBe(
      "WRONG_PASSWORD_LOCAL",
    );
  }
});

Deno.test("empty label is rejected", async () => {
  expect(await asyncCodeOf(() => sealVault(vaultKey, new Uint8Array(1), ""))).toBe("BAD_REQUEST");
});

import { expect } from "expect";
import type { PublicKeys } from "./public_keys.ts";
import { keyFingerprint, safetyNumber } from "./safety_number.ts";

function fakeKeys(): PublicKeys {
  return {
    enc: crypto.getRandomValues(new Uint8Array(294)),
    sign: crypto.getRandomValues(new Uint8Array(32)),
  };
}

const alice = { user: "alice", keys: fakeKeys() };
const bob = { user: "bob", keys: fakeKeys() };

Deno.test("safetyNumber format: 12 groups of 5 digits", async () => {
  const sn = await safetyNumber(alice, bob);
  expect(sn).toMatch(/^\d{5}( \d{5}){11}$/);
});

Deno.test("safetyNumber is symmetric and deterministic", async () => {
  const ab = await safetyNumber(alice, bob);
  expect(await safetyNumber(bob, alice)).toBe(ab);
  expect(await safetyNumber({ ...alice }, { ...bob })).toBe(ab);
  // each user's half sits on a fixed side: alice < bob, so alice's digits come first
  const abc = await safetyNumber(alice, { user: "bob", keys: fakeKeys() });
  expect(abc.slice(0, 35)).toBe(ab.slice(0, 35));
  expect(abc.slice(36)).not.toBe(ab.slice(36));
});

Deno.test("safetyNumber changes when any key or username changes", async () => {
  const base = await safetyNumber(alice, bob);
  const flip = (b: Uint8Array, i: number) => {
    const c = b.slice();
    c[i] ^= 1;
    return c;
  };
  const variants = [
    { ...alice, keys: { ...alice.keys, enc: flip(alice.keys.enc, 100) } },
    { ...alice, keys: { ...alice.keys, sign: flip(alice.keys.sign, 0) } },
    { ...alice, user: "alicf" },
  ];
  for (const v of variants) {
    expect(await safetyNumber(v, bob)).not.toBe(base);
    expect(await safetyNumber(bob, v)).not.toBe(base);
  }
  const bobChanged = { ...bob, keys: { ...bob.keys, sign: flip(bob.keys.sign, 31) } };
  expect(await safetyNumber(alice, bobChanged)).not.toBe(base);
});

Deno.test("safetyNumber is symmetric even for equal usernames", async () => {
  const x = { user: "same", keys: fakeKeys() };
  const y = { user: "same", keys: fakeKeys() };
  expect(await safetyNumber(x, y)).toBe(await safetyNumber(y, x));
});

Deno.test("keyFingerprint: 32 hex chars, stable, changes with either key", async () => {
  const fp = await keyFingerprint(alice.keys);
  expect(fp).toMatch(/^[0-9a-f]{32}$/);
  expect(await keyFingerprint({ ...alice.keys })).toBe(fp);
  expect(await keyFingerprint({ ...alice.keys, sign: bob.keys.sign })).not.toBe(fp);
  expect(await keyFingerprint({ ...alice.keys, enc: bob.keys.enc })).not.toBe(fp);
});

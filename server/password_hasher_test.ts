import { expect } from "expect";
import { PasswordHasher } from "./password_hasher.ts";

const FAST = { N: 1024, r: 8, p: 1 };

Deno.test("PasswordHasher: verify accepts the key and rejects any other", async () => {
  const h = new PasswordHasher(FAST);
  const key = new Uint8Array(32).fill(1);
  const stored = await h.hash(key);
  expect(stored.params).toBe("scrypt:N=1024,r=8,p=1");
  expect(await h.verify(key, stored)).toBe(true);
  expect(await h.verify(new Uint8Array(32).fill(2), stored)).toBe(false);
  // Same key, fresh salt: a different hash.
  expect((await h.hash(key)).hash).not.toEqual(stored.hash);
});

Deno.test("PasswordHasher: concurrency and queue are bounded; excess is RATE_LIMITED", async () => {
  const h = new PasswordHasher(FAST, { concurrency: 1, maxWaiting: 1 });
  const key = new Uint8Array(32).fill(7);
  const results = await Promise.allSettled([h.hash(key), h.hash(key), h.hash(key)]);
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected"]);
  expect((results[2] as PromiseRejectedResult).reason.code).toBe("RATE_LIMITED");
  // Once the burst is over, hashing works again.
  const stored = await h.hash(key);
  expect(await h.verify(key, stored)).toBe(true);
});

Deno.test("PasswordHasher: N must be a power of two of at least 1024", () => {
  expect(() => new PasswordHasher({ N: 1000, r: 8, p: 1 })).toThrow("power of two");
  expect(() => new PasswordHasher({ N: 512, r: 8, p: 1 })).toThrow("power of two");
});

Deno.test("PasswordHasher: verifyDummy runs scrypt at the hasher's cost and never matches", async () => {
  const h = new PasswordHasher({ N: 1024, r: 8, p: 1 }, { concurrency: 1, maxWaiting: 0 });
  expect(await h.verifyDummy(new Uint8Array(32))).toBe(false);
  expect(await h.verifyDummy(new Uint8Array(0))).toBe(false);
  // It takes a hashing slot like verify: a second call while one runs is refused.
  const first = h.verifyDummy(new Uint8Array(32));
  await expect(h.verifyDummy(new Uint8Array(32))).rejects.toMatchObject({ code: "RATE_LIMITED" });
  expect(await first).toBe(false);
});

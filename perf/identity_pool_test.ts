import { expect } from "expect";
import type { Identity } from "@fastchat/lib/crypto";
import { IdentityPool } from "./identity_pool.ts";

Deno.test("IdentityPool: generates `size` identities, then reuses them round-robin", async () => {
  let made = 0;
  const pool = new IdentityPool(3, () => Promise.resolve({ n: made++ } as unknown as Identity));
  const got = [];
  for (let i = 0; i < 7; i++) got.push(((await pool.next()) as unknown as { n: number }).n);
  expect(got).toEqual([0, 1, 2, 0, 1, 2, 0]);
  expect(pool.generated).toBe(3);
  expect(made).toBe(3);
});

Deno.test("IdentityPool: a failed generation is not handed out again", async () => {
  let calls = 0;
  const pool = new IdentityPool(1, () => {
    calls++;
    return calls === 1
      ? Promise.reject(new Error("keygen failed"))
      : Promise.resolve({ ok: true } as unknown as Identity);
  });
  await expect(pool.next()).rejects.toThrow("keygen failed");
  expect(await pool.next()).toEqual({ ok: true });
  expect(await pool.next()).toEqual({ ok: true });
  expect(calls).toBe(2);
});

Deno.test("IdentityPool: rejects a size below 1", () => {
  expect(() => new IdentityPool(0)).toThrow(RangeError);
});

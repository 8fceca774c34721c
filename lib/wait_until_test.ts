import { expect } from "expect";
import { FastChatError } from "./errors.ts";
import { waitUntil } from "./wait_until.ts";

Deno.test("waitUntil: resolves with the first truthy value, polling meanwhile", async () => {
  let calls = 0;
  const v = await waitUntil(() => ++calls === 3 ? { calls } : undefined, 5_000, "three calls", 1);
  expect(v).toEqual({ calls: 3 });
  // 0 is a value, not "not yet"
  expect(await waitUntil(() => 0, 100, "zero")).toBe(0);
});

Deno.test("waitUntil: times out with TIMEOUT, the description and the last error", async () => {
  let seen = 0;
  const started = Date.now();
  const err = await waitUntil(
    () => {
      seen++;
      if (seen > 1) throw new Error(`boom ${seen}`);
      return false;
    },
    120,
    () => `something after ${seen} tries`,
    10,
  ).catch((e) => e);
  expect(Date.now() - started).toBeGreaterThanOrEqual(120);
  expect(err).toBeInstanceOf(FastChatError);
  expect(err.code).toBe("TIMEOUT");
  expect(err.message).toMatch(/^timed out after 120 ms waiting for something after \d+ tries/);
  expect(err.message).toContain(`last error: Error: boom ${seen}`);
  // a condition that recovers clears the remembered error
  let flip = 0;
  const e2 = await waitUntil(
    () => {
      if (++flip === 1) throw new Error("once");
      return null;
    },
    50,
    "never",
    5,
  ).catch((e) => e);
  expect(e2.message).not.toContain("last error");
});

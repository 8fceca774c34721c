/** The test NATS helpers. */
import { expect } from "expect";
import { SUBJECT_TOKEN } from "@fastchat/server/fabric_config";
import { natsReachable, natsTestsIgnored, testNamespace } from "./nats.ts";

Deno.test("testNamespace: a fresh NATS subject token each time", () => {
  const a = testNamespace(), b = testNamespace();
  expect(a).not.toBe(b);
  expect(SUBJECT_TOKEN.test(a)).toBe(true);
});

Deno.test("natsTestsIgnored: only when NATS does not answer, and never in CI", async () => {
  const reachable = await natsReachable();
  expect(await natsReachable()).toBe(reachable); // asked once
  const ci = Deno.env.get("CI") === "true";
  expect(await natsTestsIgnored()).toBe(!reachable && !ci);
});

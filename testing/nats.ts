/**
 * The NATS server tests use: every development and CI machine runs one at
 * 127.0.0.1:4222 (`$FASTCHAT_TEST_NATS_URL` overrides). Tests of the NATS
 * fabric are ignored, under a name that says so, only when it does not
 * answer outside CI; each test takes a fresh namespace so tests sharing it
 * never meet.
 *
 * @example
 * ```ts
 * import { NATS_TEST_URL, natsTestsIgnored, testNamespace } from "@fastchat/testing";
 * Deno.test({
 *   name: "something over NATS",
 *   ignore: await natsTestsIgnored(),
 *   fn: () => console.log(NATS_TEST_URL, testNamespace()),
 * });
 * ```
 * @module
 */

/** The NATS server of tests. */
export const NATS_TEST_URL: string = Deno.env.get("FASTCHAT_TEST_NATS_URL") ??
  "nats://127.0.0.1:4222";

let reachable: Promise<boolean> | undefined;

/** Whether the test NATS server accepts TCP connections (asked once). */
export function natsReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const url = new URL(NATS_TEST_URL);
    try {
      const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port || 4222) });
      conn.close();
      return true;
    } catch {
      return false;
    }
  })();
  return reachable;
}

/**
 * Whether tests that need the test NATS server are ignored: only when it
 * does not answer and this is not CI (`CI=true`), where every machine runs
 * one, so a NATS that is down there fails those tests instead.
 */
export async function natsTestsIgnored(): Promise<boolean> {
  return !await natsReachable() && Deno.env.get("CI") !== "true";
}

/** A namespace no other test uses (NATS subjects are shared by everything on the server). */
export function testNamespace(): string {
  return `t${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

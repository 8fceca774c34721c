/**
 * Whether a server (chat server or load balancer) admits a new connection:
 * the handshake completes, or the connection gets one `RATE_LIMITED` error
 * and is closed at once. For the connection-cap tests.
 *
 * @example
 * ```ts
 * import { expectAdmitted, expectRefused } from "@fastchat/testing";
 * declare const host: string, port: number;
 * const first = await expectAdmitted(host, port);
 * await expectRefused(host, port); // past a cap of one
 * first.close();
 * ```
 * @module
 */
import { expect } from "expect";
import { RawPeer } from "./raw_peer.ts";

/**
 * Connects and completes the handshake (proof the connection was admitted).
 *
 * @example
 * ```ts
 * import { expectAdmitted } from "@fastchat/testing";
 * declare const host: string, port: number;
 * const p = await expectAdmitted(host, port);
 * p.close();
 * ```
 */
export async function expectAdmitted(host: string, port: number): Promise<RawPeer> {
  const p = await RawPeer.connect(host, port);
  await p.send({ t: "hello", v: 1 });
  const w = await p.waitFrame((f) => f.t === "welcome" || f.t === "error");
  expect(w.t).toBe("welcome");
  return p;
}

/**
 * Connects, sends nothing, and expects one RATE_LIMITED error and a close.
 *
 * @example
 * ```ts
 * import { expectRefused } from "@fastchat/testing";
 * declare const host: string, port: number;
 * await expectRefused(host, port);
 * ```
 */
export async function expectRefused(host: string, port: number): Promise<void> {
  const p = await RawPeer.connect(host, port);
  await p.closed;
  expect(p.frames).toEqual([
    expect.objectContaining({ t: "error", code: "RATE_LIMITED", retry: 1000 }),
  ]);
}

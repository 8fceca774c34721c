/**
 * Registering a new user over the raw protocol: the `register` request with
 * a fresh identity and throwaway credentials, and its `ok` reply. For tests
 * that drive a chat server with a {@link RawPeer} and need a logged-in
 * connection.
 *
 * @example
 * ```ts
 * import { expectAdmitted, registerRaw } from "@fastchat/testing";
 * declare const host: string, port: number;
 * const p = await expectAdmitted(host, port); // after hello and welcome
 * await registerRaw(p, "alice");
 * p.close();
 * ```
 * @module
 */
import { expect } from "expect";
import { exportPublicKeys, generateIdentity, type PublicKeys } from "@fastchat/lib/crypto";
import type { ServerFrame } from "@fastchat/lib/protocol";
import type { RawPeer } from "./raw_peer.ts";
import { expectAdmitted } from "./admission.ts";

/**
 * Sends `register` for `user` as request `rid` (random auth, `keys` or a new
 * identity's public keys, an empty backup) and expects the `ok` reply for
 * `user`, which it returns. Pass `keys` made before connecting when the
 * server's login deadline is short: RSA key generation can take a second on
 * a loaded machine.
 *
 * @example
 * ```ts
 * import { expectAdmitted, registerRaw } from "@fastchat/testing";
 * declare const host: string, port: number;
 * const p = await expectAdmitted(host, port);
 * const ok = await registerRaw(p, "bob", 7);
 * console.log(ok.t); // "ok"
 * ```
 */
export async function registerRaw(
  p: RawPeer,
  user: string,
  rid = 1,
  keys?: PublicKeys,
): Promise<ServerFrame> {
  await p.send({
    t: "register",
    rid,
    user,
    auth: crypto.getRandomValues(new Uint8Array(32)),
    keys: keys ?? await exportPublicKeys(await generateIdentity()),
    backup: new Uint8Array(64),
    kdf: { salt: new Uint8Array(16), iter: 100_000 },
  });
  const ok = await p.waitFrame((f) => "rid" in f && f.rid === rid);
  expect(ok).toMatchObject({ t: "ok", user });
  return ok;
}

/**
 * Connects to the chat server at `host:port`, completes the handshake,
 * registers `user` and waits until its (empty) backlog is synced: a
 * logged-in raw connection and its resume token.
 *
 * @example
 * ```ts
 * import { connectRegistered } from "@fastchat/testing";
 * declare const host: string, port: number;
 * const { peer, token } = await connectRegistered(host, port, "alice");
 * console.log(token.length > 0);
 * peer.close();
 * ```
 */
export async function connectRegistered(
  host: string,
  port: number,
  user: string,
): Promise<{ peer: RawPeer; token: string }> {
  const peer = await expectAdmitted(host, port);
  const ok = await registerRaw(peer, user);
  await peer.waitFrame((f) => f.t === "synced");
  return { peer, token: (ok as { token: string }).token };
}

/**
 * Fixtures for peer-link tests: a server's signing identity and the
 * registry row another server dials it by.
 *
 * @module
 */
import type { LinkIdentity } from "../server/peer_link.ts";
import type { ServerInfo } from "../server/server_registry.ts";

/**
 * A fresh Ed25519 link identity for server `id`, with its raw public key.
 *
 * @example
 * ```ts
 * import { peerIdentity } from "@fastchat/testing/peer_fixtures";
 * const a = await peerIdentity("srv-a");
 * console.log(a.publicKey.length); // 32
 * ```
 */
export async function peerIdentity(
  id: string,
): Promise<LinkIdentity & { publicKey: Uint8Array }> {
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
  return { id, keys, publicKey };
}

/**
 * The registry row of server `id` listening for peers on loopback `peerPort`.
 *
 * @example
 * ```ts
 * import { peerInfo } from "@fastchat/testing/peer_fixtures";
 * console.log(peerInfo("srv-a", new Uint8Array(32), 7800).peerHost); // 127.0.0.1
 * ```
 */
export function peerInfo(id: string, publicKey: Uint8Array, peerPort: number): ServerInfo {
  return {
    id,
    host: "127.0.0.1",
    port: 1,
    tls: false,
    peerHost: "127.0.0.1",
    peerPort,
    publicKey,
    clients: 0,
    draining: false,
    ageMs: 0,
  };
}

/**
 * The fabric a clustered chat server starts with: NATS when `nats` is
 * configured (subject namespace as given, else the database's cluster id,
 * so servers sharing a database share a namespace and other clusters on the
 * same NATS stay apart), else the direct peer mesh with its listener and a
 * fresh Ed25519 link identity (published in the registry).
 *
 * @example
 * ```ts
 * import { startClusterFabric } from "@fastchat/server/cluster_fabric";
 * declare const sql: import("postgres").Sql;
 * const f = await startClusterFabric(sql, "srv-1", "127.0.0.1", {
 *   nats: { servers: ["nats://127.0.0.1:4222"] },
 * });
 * console.log(f.natsNamespace); // the database's cluster id
 * await f.fabric.close();
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { readClusterId } from "@fastchat/lib/cluster/cluster_id";
import { type Logger, nullLogger } from "@fastchat/lib/logger";
import type { Fabric } from "./fabric.ts";
import { NatsFabric } from "./nats_fabric.ts";
import { checkPeerPingMs } from "./peer_link.ts";
import { PeerMesh } from "./peer_mesh.ts";
import { ServerRegistry } from "./server_registry.ts";

/**
 * How a server reaches its peers (the fabric part of `ChatServerOptions.cluster`).
 *
 * @example
 * ```ts
 * import type { ClusterFabricOptions } from "@fastchat/server/cluster_fabric";
 * const direct: ClusterFabricOptions = { peerPort: 7801, peerPingMs: 1000 };
 * const nats: ClusterFabricOptions = { nats: { servers: ["nats://10.0.0.5:4222"] } };
 * ```
 */
export interface ClusterFabricOptions {
  /** Bind address and port of the server-to-server listener (default: host, any free port). */
  peerHost?: string;
  peerPort?: number;
  /** Ping interval of quiet peer links (`--peer-ping-ms`; checked, `INVALID_CONFIG`). */
  peerPingMs?: number;
  /** Reach the others through NATS; `namespace` defaults to the database's cluster id. */
  nats?: { servers: string[]; namespace?: string };
}

/**
 * A started fabric.
 *
 * @example
 * ```ts
 * import type { ClusterFabric } from "@fastchat/server/cluster_fabric";
 * declare const f: ClusterFabric;
 * console.log(f.mesh?.port ?? 0, f.natsNamespace);
 * ```
 */
export interface ClusterFabric {
  fabric: Fabric;
  /** The peer mesh (direct links), else null. */
  mesh: PeerMesh | null;
  /** The key published in the registry (peers authenticate links with it; unused over NATS). */
  keys: CryptoKeyPair;
  /** The NATS subject namespace in use (NATS), else null. */
  natsNamespace: string | null;
}

/**
 * Starts the fabric of server `serverId`: connects to NATS (`CONNECT_FAILED`
 * if none answers) or listens for peer links on `peerHost` (default `host`).
 */
export async function startClusterFabric(
  sql: Sql,
  serverId: string,
  host: string,
  opts: ClusterFabricOptions,
  logger: Logger = nullLogger,
): Promise<ClusterFabric> {
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  if (opts.nats) {
    const namespace = opts.nats.namespace ?? await readClusterId(sql);
    const fabric = await NatsFabric.connect({
      id: serverId,
      servers: opts.nats.servers,
      namespace,
      logger,
    });
    return { fabric, mesh: null, keys, natsNamespace: namespace };
  }
  const mesh = PeerMesh.start({
    me: { id: serverId, keys },
    host: opts.peerHost ?? host,
    port: opts.peerPort ?? 0,
    refresh: () => ServerRegistry.liveServers(sql),
    logger,
    linkPingMs: opts.peerPingMs === undefined ? undefined : checkPeerPingMs(opts.peerPingMs),
  });
  return { fabric: mesh, mesh, keys, natsNamespace: null };
}

/**
 * The server-to-server fabric: how a chat server reaches users connected to
 * other servers of its cluster. {@link Fabric} is what the message router
 * asks of it (where a user is online, forward, route acknowledgements and
 * receipts, announce presence); {@link FabricSink} is what the fabric hands
 * back to the router (messages, acknowledgements and receipts that arrived
 * from other servers). The peer mesh (server/peer_mesh.ts, direct links)
 * and the NATS fabric (server/nats_fabric.ts) are the fabrics of a cluster;
 * {@link LocalFabric} is the fabric of a server on its own. Another fabric
 * is a new module implementing both directions, injected in
 * server/chat_server.ts.
 *
 * @example
 * ```ts
 * import { LocalFabric } from "@fastchat/server/fabric";
 * const fabric = new LocalFabric();
 * console.log([...fabric.serversOf("bob")]); // []
 * ```
 * @module
 */
import type { Logger } from "@fastchat/lib/logger";
import type { ForwardedGroupMessage, ForwardedMessage } from "./peer_protocol.ts";

/**
 * [recipient, from, id] of an acknowledgement routed back to a message's origin server.
 *
 * @example
 * ```ts
 * import type { RoutedAck } from "@fastchat/server/fabric";
 * const ack: RoutedAck = ["bob", "alice", "m-00000001"];
 * ```
 */
export type RoutedAck = [recipient: string, from: string, id: string];

/**
 * [sender, recipient, id] of a `delivered` receipt routed to the sender's server.
 *
 * @example
 * ```ts
 * import type { RoutedReceipt } from "@fastchat/server/fabric";
 * const receipt: RoutedReceipt = ["alice", "bob", "m-00000001"];
 * ```
 */
export type RoutedReceipt = [sender: string, recipient: string, id: string];

/**
 * What the fabric hands to its server's router (the direction fabric → router).
 *
 * @example
 * ```ts
 * import type { FabricSink } from "@fastchat/server/fabric";
 * const sink: FabricSink = {
 *   deliverForwarded: () => {},
 *   deliverGroupForwarded: () => {},
 *   ackRouted: () => {},
 *   receiptsRouted: () => {},
 *   flush: () => Promise.resolve(),
 *   localUsers: () => [],
 *   resync: () => {},
 * };
 * ```
 */
export interface FabricSink {
  /** Messages server `origin` forwarded for users connected here. */
  deliverForwarded(origin: string, msgs: ForwardedMessage[]): void;
  /** Group messages and events server `origin` forwarded for members connected here. */
  deliverGroupForwarded(origin: string, msgs: ForwardedGroupMessage[]): void;
  /** Acknowledgements routed back to this server as the messages' origin. */
  ackRouted(items: RoutedAck[]): void;
  /** Receipts for senders connected here; `stored` if the other server's store keeps them. */
  receiptsRouted(items: RoutedReceipt[], stored: boolean): void;
  /** Writes everything accepted so far (before confirming another server's presence). */
  flush(): Promise<void>;
  /** Users online here (sent to a server when the fabric reaches it). */
  localUsers(): string[];
  /**
   * Messages may have been missed (a server came or went): send stored ones
   * again; `afterFlush` (a link came up): once the linked servers confirmed
   * they wrote what they accepted before.
   */
  resync(reason: string, afterFlush?: boolean): void;
}

/**
 * What the router needs from the fabric (the direction router → fabric).
 *
 * @example
 * ```ts
 * import type { Fabric } from "@fastchat/server/fabric";
 * declare const fabric: Fabric;
 * for (const server of fabric.serversOf("bob")) {
 *   fabric.forward(server, ["m-00000001", "alice", "bob", new Uint8Array([1])]);
 * }
 * ```
 */
export interface Fabric {
  /** Makes `sink` receive what arrives from other servers (the router calls this once). */
  attach(sink: FabricSink): void;
  /** Other servers where `user` has sessions. */
  serversOf(user: string): Iterable<string>;
  /** Forwards a message to `server` (dropped if it cannot be reached: the message is stored). */
  forward(server: string, m: ForwardedMessage): void;
  /** Forwards a stored group message once to `server`, for the members connected there. */
  forwardGroup(server: string, m: ForwardedGroupMessage): void;
  /** Routes an acknowledgement back to the message's `origin` server. */
  sendAck(origin: string, item: RoutedAck): void;
  /** Sends a receipt to `server`, where its sender is; false if that server cannot be reached. */
  sendReceipt(server: string, item: RoutedReceipt, stored: boolean): boolean;
  /**
   * Tells the other servers that `users` came online (or went offline) here.
   * Coming online resolves (bounded) once they have written what they
   * accepted for those users before, so a backlog query then sees it;
   * with false if some server did not confirm that in time.
   */
  announce(users: string[], online: boolean): Promise<boolean | void>;
  /** Other servers reached right now (for metrics). */
  readonly linkedPeers: string[];
  /** Stops the fabric (resolves once it has let go of its connections). */
  close(): void | Promise<void>;
}

/**
 * The sink of a fabric before its router attached: what arrives from other
 * servers is dropped (logged).
 *
 * @example
 * ```ts
 * import { detachedSink } from "@fastchat/server/fabric";
 * import { nullLogger } from "@fastchat/lib/logger";
 * detachedSink(nullLogger).localUsers(); // []
 * ```
 */
export function detachedSink(log: Logger): FabricSink {
  const drop = (what: string) => () => log.warn("peer_frame_dropped", { what, reason: "no sink" });
  return {
    deliverForwarded: drop("fwd"),
    deliverGroupForwarded: drop("gfwd"),
    ackRouted: drop("ack"),
    receiptsRouted: drop("rcpt"),
    flush: () => Promise.resolve(),
    localUsers: () => [],
    resync: () => {},
  };
}

const NOWHERE: readonly string[] = [];

/**
 * The fabric of a server without a cluster: nobody is anywhere else.
 *
 * @example
 * ```ts
 * import { LocalFabric } from "@fastchat/server/fabric";
 * const fabric = new LocalFabric();
 * await fabric.announce(["alice"], true); // nobody to tell
 * fabric.sendReceipt("fc-2", ["alice", "bob", "m-00000001"], false); // false
 * ```
 */
export class LocalFabric implements Fabric {
  attach(_sink: FabricSink): void {}

  serversOf(_user: string): Iterable<string> {
    return NOWHERE;
  }

  forward(_server: string, _m: ForwardedMessage): void {}

  forwardGroup(_server: string, _m: ForwardedGroupMessage): void {}

  sendAck(_origin: string, _item: RoutedAck): void {}

  sendReceipt(_server: string, _item: RoutedReceipt, _stored: boolean): boolean {
    return false;
  }

  announce(_users: string[], _online: boolean): Promise<void> {
    return Promise.resolve();
  }

  get linkedPeers(): string[] {
    return [];
  }

  close(): void {}
}

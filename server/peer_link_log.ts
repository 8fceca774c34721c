/**
 * What a chat server's log says about its outbound peer links: each
 * `peer_link_up` / `peer_link_down` event on its stderr (a JSON or text log
 * line, `@fastchat/lib/log_format`) names the peer.
 * The cluster launcher reads this to know when servers form a full mesh,
 * without asking them.
 *
 * @example
 * ```ts
 * import { missingPeerLinks, peerLinkState } from "@fastchat/server/peer_link_log";
 * const stderr = ['{"event":"peer_link_up","peer":"srv-2"}'];
 * peerLinkState(stderr, "srv-2"); // "up"
 * missingPeerLinks([{ id: "srv-1", stderr }, { id: "srv-2", stderr: [] }]); // ["srv-2->srv-1"]
 * ```
 * @module
 */
import { parseLogLine } from "@fastchat/lib/log_format";

/**
 * The state of a server's outbound link to one peer.
 *
 * @example
 * ```ts
 * import type { PeerLinkState } from "@fastchat/server/peer_link_log";
 * const s: PeerLinkState = "up";
 * ```
 */
export type PeerLinkState = "up" | "down";

/**
 * The state of the link to `peer` after the last `peer_link_up` /
 * `peer_link_down` event in `stderr` (`undefined`: it never came up).
 * Lines that are not log events are skipped.
 *
 * @example
 * ```ts
 * import { peerLinkState } from "@fastchat/server/peer_link_log";
 * peerLinkState(['{"event":"peer_link_down","peer":"b"}'], "b"); // "down"
 * ```
 */
export function peerLinkState(stderr: readonly string[], peer: string): PeerLinkState | undefined {
  let state: PeerLinkState | undefined;
  for (const line of stderr) {
    if (!line.includes("peer_link_") || !line.includes(peer)) continue;
    const e = parseLogLine(line); // null: a line that merely mentions the event
    if (e?.peer !== peer) continue;
    if (e.event === "peer_link_up") state = "up";
    else if (e.event === "peer_link_down") state = "down";
  }
  return state;
}

/**
 * The links (`from->to`) not up between servers that should form a full
 * mesh, each judged from its own log.
 *
 * @example
 * ```ts
 * import { missingPeerLinks } from "@fastchat/server/peer_link_log";
 * missingPeerLinks([{ id: "a", stderr: [] }]); // [] — one server is a full mesh
 * ```
 */
export function missingPeerLinks(
  servers: readonly { id: string; stderr: readonly string[] }[],
): string[] {
  const missing: string[] = [];
  for (const a of servers) {
    for (const b of servers) {
      if (a !== b && peerLinkState(a.stderr, b.id) !== "up") missing.push(`${a.id}->${b.id}`);
    }
  }
  return missing;
}

/**
 * Fixtures for the NATS fabric's tests (server/nats_fabric_test.ts,
 * server/nats_fabric_traffic_test.ts): fabric instances against the real
 * NATS server, each with a router stand-in that records what it is handed.
 *
 * @example
 * ```ts ignore
 * import { msg, withPair } from "@fastchat/testing/nats_fabric_nodes";
 * await withPair(async (a, b) => {
 *   b.fabric.forward("srv-a", msg("m-00000001", "bob", "alice"));
 * });
 * ```
 *
 * @module
 */
import { waitUntil } from "@fastchat/lib/wait_until";
import type { Logger } from "@fastchat/lib/logger";
import type { FabricSink, RoutedAck, RoutedReceipt } from "../server/fabric.ts";
import { NatsFabric, type NatsFabricOptions } from "../server/nats_fabric.ts";
import type { ForwardedGroupMessage, ForwardedMessage } from "../server/peer_protocol.ts";
import { NATS_TEST_URL, natsTestsIgnored, testNamespace } from "./nats.ts";

/** Whether the NATS fabric's tests are skipped (no NATS at `NATS_TEST_URL` outside CI). */
export const ignore: boolean = await natsTestsIgnored();

/** A NATS fabric test's name, saying what it needs when it is skipped. */
export const name = (what: string): string =>
  `NatsFabric: ${what}${ignore ? " (needs NATS at 127.0.0.1:4222)" : ""}`;

/** A router stand-in recording what the fabric hands it. */
export class RecordingSink implements FabricSink {
  users: string[] = [];
  forwarded: [string, ForwardedMessage[]][] = [];
  groupForwarded: [string, ForwardedGroupMessage[]][] = [];
  acks: RoutedAck[] = [];
  receipts: [RoutedReceipt[], boolean][] = [];
  resyncs: string[] = [];
  /** Reasons of the resyncs asked for after the peers' flush (a link came up). */
  afterFlush: string[] = [];
  flushes = 0;
  flushDone = 0;
  /** Holds `flush` open until released (to see that announce waits for it). */
  gate: Promise<void> | null = null;
  deliverForwarded(origin: string, msgs: ForwardedMessage[]) {
    this.forwarded.push([origin, msgs]);
  }
  deliverGroupForwarded(origin: string, msgs: ForwardedGroupMessage[]) {
    this.groupForwarded.push([origin, msgs]);
  }
  ackRouted(items: RoutedAck[]) {
    this.acks.push(...items);
  }
  receiptsRouted(items: RoutedReceipt[], stored: boolean) {
    this.receipts.push([items, stored]);
  }
  async flush() {
    this.flushes++;
    await this.gate;
    this.flushDone++;
  }
  localUsers() {
    return this.users;
  }
  resync(reason: string, afterFlush?: boolean) {
    this.resyncs.push(reason);
    if (afterFlush) this.afterFlush.push(reason);
  }
}

/** A logger keeping warnings, to see refusals. */
export function warnings(): Logger & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    debug() {},
    info() {},
    warn: (event, fields) => void seen.push(`${event} ${JSON.stringify(fields)}`),
    error: (event, fields) => void seen.push(`${event} ${JSON.stringify(fields)}`),
  };
}

/** One fabric under test with its recording router and its warnings. */
export type Node = { fabric: NatsFabric; sink: RecordingSink; log: ReturnType<typeof warnings> };

/** A fabric `id` in namespace `ns` whose router has `users` online from the start. */
export async function node(
  ns: string,
  id: string,
  o: Partial<NatsFabricOptions> = {},
  users: string[] = [],
): Promise<Node> {
  const log = warnings();
  const sink = new RecordingSink();
  sink.users = users;
  const fabric = await NatsFabric.connect({
    id,
    servers: [NATS_TEST_URL],
    namespace: ns,
    heartbeatMs: 100,
    livenessMs: 1000,
    logger: log,
    sink,
    ...o,
  });
  return { fabric, sink, log };
}

/** Two linked fabrics `a` (srv-a) and `b` (srv-b); both closed afterwards. */
export async function withPair(fn: (a: Node, b: Node, ns: string) => Promise<void>) {
  const ns = testNamespace();
  const a = await node(ns, "srv-a");
  const b = await node(ns, "srv-b");
  try {
    await waitUntil(
      () => a.fabric.linkedPeers.includes("srv-b") && b.fabric.linkedPeers.includes("srv-a"),
      5000,
      "srv-a and srv-b to hear each other",
    );
    await fn(a, b, ns);
  } finally {
    await a.fabric.close();
    await b.fabric.close();
  }
}

export const msg = (id: string, from: string, to: string, size = 4): ForwardedMessage => [
  id,
  from,
  to,
  new Uint8Array(size).fill(7),
];

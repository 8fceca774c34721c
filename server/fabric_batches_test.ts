/** Batching of fabric sends: one turn, one `batch` frame per server, split by bytes and count. */
import { expect } from "expect";
import { nullLogger } from "@fastchat/lib/logger";
import { dispatchBatch, FabricBatches } from "./fabric_batches.ts";
import type { FabricSink, RoutedAck, RoutedReceipt } from "./fabric.ts";
import { ForwardedSet } from "./forwarded_set.ts";
import type { ForwardedMessage, PeerBatchLists, PeerFrame } from "./peer_protocol.ts";
import { decodePeerFrame, encodePeerFrame } from "./peer_protocol.ts";

function recorder(reachable: (peer: string) => boolean = () => true, budget = 1 << 20) {
  const sent: [string, PeerFrame | "flushed"][] = [];
  const batches = new FabricBatches({
    budget,
    reachable,
    send: (peer, f) => (sent.push([peer, f]), true),
    sent: (peer) => sent.push([peer, "flushed"]),
  });
  return { sent, batches };
}

const msg = (i: number, size = 4): ForwardedMessage => [
  `m-${String(i).padStart(8, "0")}`,
  "alice",
  "bob",
  new Uint8Array(size),
];
const endOfTurn = () => new Promise<void>((r) => setTimeout(r, 0));

Deno.test("FabricBatches: what one turn queued leaves at its end, one frame per server", async () => {
  const { sent, batches } = recorder();
  batches.of("srv-2").fwd.push(msg(1), msg(2));
  await Promise.resolve(); // a microtask later (another read of the same turn): still queued
  batches.of("srv-2").ack.push(["bob", "alice", "m-00000009"]);
  batches.of("srv-2").rcpt.push(["alice", "bob", "m-00000007"]);
  batches.of("srv-2").srcpt.push(["alice", "bob", "m-00000008"]);
  batches.of("srv-3").gfwd.push(["m-00000003", "alice", "team", new Uint8Array([1]), ["carol"]]);
  expect(sent).toEqual([]);
  await endOfTurn();
  expect(sent).toEqual([
    ["srv-2", {
      t: "batch",
      fwd: [msg(1), msg(2)],
      ack: [["bob", "alice", "m-00000009"]],
      rcpt: [["alice", "bob", "m-00000007"]],
      srcpt: [["alice", "bob", "m-00000008"]],
    }],
    ["srv-2", "flushed"], // its link may write now: the turn's batch is complete
    ["srv-3", {
      t: "batch",
      gfwd: [["m-00000003", "alice", "team", new Uint8Array([1]), ["carol"]]],
    }],
    ["srv-3", "flushed"],
  ]);
  // The frame passes the peer frame validator unchanged.
  expect(decodePeerFrame(encodePeerFrame(sent[0][1] as PeerFrame))).toEqual(sent[0][1]);
  batches.flushNow(); // nothing left
  expect(sent.length).toBe(4);
});

Deno.test("FabricBatches: what is queued while a batch is being sent is sent after it", async () => {
  const sent: [string, PeerFrame][] = [];
  let first = true;
  const batches: FabricBatches = new FabricBatches({
    budget: 1 << 20,
    reachable: () => true,
    send: (peer, f) => {
      sent.push([peer, f]);
      // Sending can make more to send (a link that answers at once).
      if (first) batches.of("srv-2").ack.push(["bob", "alice", "m-00000002"]);
      first = false;
      return true;
    },
  });
  batches.of("srv-2").fwd.push(msg(1));
  await endOfTurn();
  await endOfTurn();
  expect(sent.map(([p, f]) => [p, Object.keys(f)])).toEqual([
    ["srv-2", ["t", "fwd"]],
    ["srv-2", ["t", "ack"]],
  ]);
});

Deno.test("FabricBatches: frames stay under the byte budget and 10,000 items", () => {
  const { sent, batches } = recorder(() => true, 1000);
  // 400-byte messages: two per 1,000-byte frame; one over the budget goes alone.
  batches.of("srv-2").fwd.push(msg(1, 400), msg(2, 400), msg(3, 400), msg(4, 5000), msg(5, 4));
  batches.of("srv-2").ack.push(["b", "a", "m-00000001"]);
  const small = recorder();
  small.batches.of("srv-3").ack.push(
    ...Array.from({ length: 25_000 }, (_, i) => ["b", "a", `m-${i}`] as [string, string, string]),
  );
  small.batches.of("srv-3").srcpt.push(["a", "b", "m-00000001"]);
  batches.flushNow();
  small.batches.flushNow();
  const sizes = (xs: [string, PeerFrame | "flushed"][]) =>
    xs.filter(([, f]) => f !== "flushed").map(([, f]) => {
      const b = f as PeerBatchLists;
      return [b.fwd?.length ?? 0, b.ack?.length ?? 0, b.srcpt?.length ?? 0];
    });
  // The last small message and the ack share the frame after the oversized one.
  expect(sizes(sent)).toEqual([[2, 0, 0], [1, 0, 0], [1, 0, 0], [1, 1, 0]]);
  expect(sizes(small.sent)).toEqual([[0, 10_000, 0], [0, 10_000, 0], [0, 5_000, 1]]);
});

Deno.test("FabricBatches: forwards to an unreachable server are dropped, acks still go", () => {
  const { sent, batches } = recorder((peer) => peer !== "srv-gone");
  batches.of("srv-gone").fwd.push(msg(1));
  batches.of("srv-gone").gfwd.push(["m-00000003", "alice", "team", new Uint8Array([1]), ["c"]]);
  batches.of("srv-gone").ack.push(["bob", "alice", "m-00000001"]);
  batches.of("srv-gone2").fwd.push(msg(2));
  batches.flushNow();
  expect(sent).toEqual([
    ["srv-gone", { t: "batch", ack: [["bob", "alice", "m-00000001"]] }],
    ["srv-gone", "flushed"],
    ["srv-gone2", { t: "batch", fwd: [msg(2)] }],
    ["srv-gone2", "flushed"],
  ]);
});

Deno.test("dispatchBatch: lists in order; only acks of messages forwarded to that server act", () => {
  const calls: string[] = [];
  const sink: FabricSink = {
    deliverForwarded: (origin, msgs) => calls.push(`fwd ${origin} ${msgs.map((m) => m[0])}`),
    deliverGroupForwarded: (origin, msgs) => calls.push(`gfwd ${origin} ${msgs.length}`),
    ackRouted: (items: RoutedAck[]) => calls.push(`ack ${items.map((i) => i[2])}`),
    receiptsRouted: (items: RoutedReceipt[], stored) =>
      calls.push(`rcpt ${stored} ${items.map((i) => i[2])}`),
    flush: () => Promise.resolve(),
    localUsers: () => [],
    resync: () => {},
  };
  const forwarded = new ForwardedSet();
  forwarded.add("srv-2", "alice", "m-00000001");
  forwarded.add("srv-3", "alice", "m-00000002");
  dispatchBatch(
    "srv-2",
    {
      fwd: [msg(7)],
      gfwd: [["m-00000003", "alice", "team", new Uint8Array([1]), ["c"]]],
      ack: [["bob", "alice", "m-00000001"], ["bob", "alice", "m-00000002"]],
      rcpt: [["alice", "bob", "m-00000004"]],
      srcpt: [["alice", "bob", "m-00000005"]],
    },
    sink,
    forwarded,
    nullLogger,
  );
  expect(calls).toEqual([
    "fwd srv-2 m-00000007",
    "gfwd srv-2 1",
    "ack m-00000001", // m-00000002 went to srv-3: refused
    "rcpt false m-00000004",
    "rcpt true m-00000005",
  ]);
  expect(forwarded.take("srv-3", "alice", "m-00000002")).toBe(true); // untouched
});

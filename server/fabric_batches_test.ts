/** Batching of fabric sends: one tick, one frame per kind and server, split by bytes and count. */
import { expect } from "expect";
import { FabricBatches } from "./fabric_batches.ts";
import type { ForwardedMessage, PeerFrame } from "./peer_protocol.ts";

function recorder(reachable: (peer: string) => boolean = () => true, budget = 1 << 20) {
  const sent: [string, PeerFrame][] = [];
  const batches = new FabricBatches("srv-1", {
    budget,
    reachable,
    send: (peer, f) => (sent.push([peer, f]), true),
  });
  return { sent, batches };
}

const msg = (i: number, size = 4): ForwardedMessage => [
  `m-${String(i).padStart(8, "0")}`,
  "alice",
  "bob",
  new Uint8Array(size),
];

Deno.test("FabricBatches: what one tick queued leaves at its end, one frame per kind", async () => {
  const { sent, batches } = recorder();
  batches.of("srv-2").fwd.push(msg(1), msg(2));
  batches.of("srv-2").ack.push(["bob", "alice", "m-00000009"]);
  batches.of("srv-2").rcpt.push(["alice", "bob", "m-00000007"]);
  batches.of("srv-2").srcpt.push(["alice", "bob", "m-00000008"]);
  batches.of("srv-3").gfwd.push(["m-00000003", "alice", "team", new Uint8Array([1]), ["carol"]]);
  expect(sent).toEqual([]);
  await Promise.resolve(); // the end of this tick
  expect(sent.map(([peer, f]) => `${peer} ${f.t}`)).toEqual([
    "srv-2 fwd",
    "srv-2 ack",
    "srv-2 rcpt",
    "srv-2 rcpt",
    "srv-3 gfwd",
  ]);
  expect(sent[0][1]).toEqual({ t: "fwd", origin: "srv-1", msgs: [msg(1), msg(2)] });
  expect(sent[3][1]).toEqual({ t: "rcpt", items: [["alice", "bob", "m-00000008"]], stored: true });
  batches.flushNow(); // nothing left
  expect(sent.length).toBe(5);
});

Deno.test("FabricBatches: frames stay under the byte budget and 10,000 items", () => {
  const { sent, batches } = recorder(() => true, 1000);
  // 400-byte messages: two per 1,000-byte frame; one over the budget goes alone.
  batches.of("srv-2").fwd.push(msg(1, 400), msg(2, 400), msg(3, 400), msg(4, 5000), msg(5, 4));
  batches.of("srv-3").ack.push(
    ...Array.from({ length: 25_000 }, (_, i) => ["b", "a", `m-${i}`] as [string, string, string]),
  );
  const small = recorder();
  small.batches.of("srv-3").ack.push(
    ...Array.from({ length: 25_000 }, (_, i) => ["b", "a", `m-${i}`] as [string, string, string]),
  );
  batches.flushNow();
  small.batches.flushNow();
  const sizes = (xs: [string, PeerFrame][], peer: string) =>
    xs.filter(([p]) => p === peer).map(([, f]) =>
      "msgs" in f ? f.msgs.length : "items" in f ? f.items.length : 0
    );
  expect(sizes(sent, "srv-2")).toEqual([2, 1, 1, 1]);
  expect(sizes(small.sent, "srv-3")).toEqual([10_000, 10_000, 5_000]);
});

Deno.test("FabricBatches: forwards to an unreachable server are dropped, acks still go", () => {
  const { sent, batches } = recorder((peer) => peer !== "srv-gone");
  batches.of("srv-gone").fwd.push(msg(1));
  batches.of("srv-gone").gfwd.push(["m-00000003", "alice", "team", new Uint8Array([1]), ["c"]]);
  batches.of("srv-gone").ack.push(["bob", "alice", "m-00000001"]);
  batches.flushNow();
  expect(sent).toEqual([["srv-gone", { t: "ack", items: [["bob", "alice", "m-00000001"]] }]]);
});

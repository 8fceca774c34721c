/**
 * The NATS fabric's traffic against the real NATS server (127.0.0.1:4222 on
 * every development and CI machine): forwards and acknowledgements in
 * batches, batches over NATS's max_payload, and hostile payloads from a raw
 * NATS client. Membership: server/nats_fabric_test.ts.
 */
import { expect } from "expect";
import { connect } from "@nats-io/transport-node";
import { waitUntil } from "@fastchat/lib/wait_until";
import { NATS_TEST_URL } from "@fastchat/testing";
import { ignore, msg, name, withPair } from "@fastchat/testing/nats_fabric_nodes";
import { encodePeerFrame, type ForwardedGroupMessage } from "./peer_protocol.ts";

Deno.test({
  name: name("forwards are batched per tick; acks act only on messages forwarded there"),
  ignore,
  fn: () =>
    withPair(async (a, b) => {
      a.sink.users = ["bob"];
      await a.fabric.announce(["bob"], true);
      expect([...b.fabric.serversOf("bob")]).toEqual(["srv-a"]);
      for (let i = 0; i < 3; i++) b.fabric.forward("srv-a", msg(`m-0000000${i}`, "alice", "bob"));
      await waitUntil(() => a.sink.forwarded.length > 0, 5000, "the forwards");
      expect(a.sink.forwarded).toEqual([[
        "srv-b",
        [0, 1, 2].map((i) => msg(`m-0000000${i}`, "alice", "bob")),
      ]]);
      // bob acknowledges two; a third ack names a message srv-b never forwarded to srv-a.
      a.fabric.sendAck("srv-b", ["bob", "alice", "m-00000000"]);
      a.fabric.sendAck("srv-b", ["bob", "alice", "m-00000001"]);
      a.fabric.sendAck("srv-b", ["bob", "mallory", "m-99999999"]);
      await waitUntil(
        () => b.log.seen.some((w) => w.startsWith("peer_ack_refused")),
        5000,
        "refusal",
      );
      expect(b.sink.acks).toEqual([["bob", "alice", "m-00000000"], ["bob", "alice", "m-00000001"]]);
      // Group forwards and receipts, stored or not.
      const g: ForwardedGroupMessage = ["m-00000009", "alice", "team", new Uint8Array([1]), [
        "bob",
      ]];
      b.fabric.forwardGroup("srv-a", g);
      expect(b.fabric.sendReceipt("srv-a", ["bob", "alice", "m-00000005"], false)).toBe(true);
      expect(b.fabric.sendReceipt("srv-a", ["bob", "alice", "m-00000006"], true)).toBe(true);
      expect(b.fabric.sendReceipt("srv-nowhere", ["bob", "alice", "m-00000007"], true)).toBe(false);
      await waitUntil(
        () => a.sink.receipts.length === 2 && a.sink.groupForwarded.length === 1,
        5000,
        "rcpt",
      );
      expect(a.sink.groupForwarded).toEqual([["srv-b", [g]]]);
      expect(a.sink.receipts).toEqual([
        [[["bob", "alice", "m-00000005"]], false],
        [[["bob", "alice", "m-00000006"]], true],
      ]);
    }),
});

Deno.test({
  name: name("a batch over NATS's max_payload arrives whole, in fragments"),
  ignore,
  fn: () =>
    withPair(async (a, b) => {
      a.sink.users = ["bob"];
      await a.fabric.announce(["bob"], true);
      // Two messages of ~1 MiB each: the frame is over the 1 MiB max_payload, so is one message.
      const big = [
        msg("m-00000001", "alice", "bob", 1 << 20),
        msg("m-00000002", "alice", "bob", 700_000),
      ];
      big[0][3][12345] = 1;
      for (const m of big) b.fabric.forward("srv-a", m);
      await waitUntil(
        () => a.sink.forwarded.flatMap(([, ms]) => ms).length === 2,
        10_000,
        "both big messages",
      );
      expect(a.sink.forwarded.flatMap(([, ms]) => ms)).toEqual(big);
    }),
});

Deno.test({
  name: name("hostile payloads are refused one by one and the fabric keeps working"),
  ignore,
  fn: () =>
    withPair(async (a, b, ns) => {
      a.sink.users = ["bob"];
      await a.fabric.announce(["bob"], true);
      const evil = await connect({ servers: [NATS_TEST_URL] });
      try {
        const toA = (from: string) => `fastchat.${ns}.srv.srv-a.${from}`;
        // Not MessagePack; nested too deep; a fwd claiming another origin; a frame not for this subject.
        evil.publish(toA("srv-b"), new Uint8Array([0xc1, 0xff, 0x00]));
        evil.publish(toA("srv-b"), new Uint8Array([...new Array(40).fill(0x91), 0x01]));
        evil.publish(
          toA("srv-evil"),
          encodePeerFrame({ t: "fwd", origin: "srv-b", msgs: [msg("m-00000001", "x", "bob")] }),
        );
        evil.publish(
          toA("srv-b"),
          encodePeerFrame({ t: "presence", seq: 1, online: true, users: [] }),
        );
        // A heartbeat that is not 8 bytes, a fragment out of sequence, a subject token with a dot.
        evil.publish(`fastchat.${ns}.hb.srv-evil`, new Uint8Array(3));
        const frag = new Uint8Array(16);
        new DataView(frag.buffer).setUint32(0, 1);
        new DataView(frag.buffer).setUint32(4, 2);
        evil.publish(`fastchat.${ns}.frag.srv-a.srv-b`, frag);
        await evil.flush();
        await waitUntil(
          () => a.log.seen.filter((w) => w.startsWith("peer_frame_refused")).length >= 6,
          5000,
          () => `six refusals (${a.log.seen.join("; ")})`,
        );
        expect(a.sink.forwarded).toEqual([]);
        expect(a.fabric.linkedPeers).toEqual(["srv-b"]);
        b.fabric.forward("srv-a", msg("m-00000002", "alice", "bob"));
        await waitUntil(() => a.sink.forwarded.length === 1, 5000, "a real forward after them");
      } finally {
        await evil.close();
      }
    }),
});

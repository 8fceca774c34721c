/** The bounded NATS connection of the fabric, against the real NATS server. */
import { expect } from "expect";
import { waitUntil } from "@fastchat/lib/wait_until";
import { assertCode, NATS_TEST_URL, natsTestsIgnored, testNamespace } from "@fastchat/testing";
import { NatsLink, probeNats } from "./nats_link.ts";
import { Reassembly } from "./nats_wire.ts";

const ignore = await natsTestsIgnored();
const name = (what: string) =>
  `NatsLink: ${what}${ignore ? " (needs NATS at 127.0.0.1:4222)" : ""}`;
const events = { disconnected: () => {}, reconnected: () => {} };

Deno.test({
  name: name("publishes, splits frames over max_payload, refuses what a handler throws on"),
  ignore,
  async fn() {
    const ns = testNamespace();
    const warned: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn: (e: string) => void warned.push(e),
      error() {},
    };
    const a = await NatsLink.connect([NATS_TEST_URL], "a", events, logger);
    const b = await NatsLink.connect([NATS_TEST_URL], "b", events);
    try {
      const got: [string, number][] = [];
      const r = new Reassembly({ maxBytes: 8 << 20, maxFragments: 64 });
      a.subscribe(`${ns}.x.*`, (s) => s.split(".")[2], (from, data) => {
        if (data[0] === 0xff) throw new Error("not for us");
        got.push([from, data.length]);
      });
      a.subscribe(`${ns}.frag.*`, (s) => s.split(".")[2], (from, data) => {
        const whole = r.add(from, data);
        if (whole) got.push([`${from} (fragments)`, whole.length]);
      });
      a.subscribe(`${ns}.ignored.*`, () => null, () => void got.push(["ignored", 0]));
      await a.flush();
      expect(b.publish(`${ns}.x.b`, new Uint8Array(10))).toBe(true);
      expect(b.publish(`${ns}.x.b`, new Uint8Array([0xff]))).toBe(true);
      expect(b.publish(`${ns}.ignored.b`, new Uint8Array(1))).toBe(true);
      const big = new Uint8Array(b.maxPayload * 2 + 5);
      expect(b.publishFrame(`${ns}.x.b`, `${ns}.frag.b`, big)).toBe(true);
      expect(b.publishFrame(`${ns}.x.b`, `${ns}.frag.b`, new Uint8Array(3))).toBe(true);
      await waitUntil(() => got.length === 3, 10_000, () => `three arrivals (${got})`);
      expect(got).toEqual([["b", 10], ["b (fragments)", big.length], ["b", 3]]);
      expect(warned).toEqual(["peer_frame_refused"]);
      expect(b.dropped).toBe(0);
      await b.close();
      expect(b.canSend).toBe(false);
      expect(b.publish(`${ns}.x.b`, new Uint8Array(1))).toBe(false); // closed: dropped, counted
      expect(b.dropped).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: name("probes: answered, gone (nobody subscribes) or silent (nobody answers)"),
  ignore,
  async fn() {
    const ns = testNamespace();
    const a = await NatsLink.connect([NATS_TEST_URL], "a", events);
    const b = await NatsLink.connect([NATS_TEST_URL], "b", events);
    try {
      b.answer(`${ns}.ping.b`);
      b.subscribe(`${ns}.mute.b`, () => "x", () => {}); // subscribed, never answers
      await b.flush();
      expect(await a.probe(`${ns}.ping.b`, 2000)).toBe("answered");
      expect(await a.probe(`${ns}.ping.nobody`, 2000)).toBe("gone");
      expect(await a.probe(`${ns}.mute.b`, 200)).toBe("silent");
      await b.close();
      expect(await a.probe(`${ns}.ping.b`, 2000)).toBe("gone"); // its subscriptions went with it
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: name("an unreachable NATS is CONNECT_FAILED, its URL named without credentials"),
  ignore,
  async fn() {
    await probeNats([NATS_TEST_URL]);
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const e = await assertCode(probeNats([`nats://u:secret@127.0.0.1:${port}`]), "CONNECT_FAILED");
    expect(e.message).toContain(`nats://***@127.0.0.1:${port}`);
    expect(e.message).not.toContain("secret");
  },
});

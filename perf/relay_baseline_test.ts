import { expect } from "expect";
import { BENCH_DIR } from "@fastchat/testing/perf_runs";
import {
  assertPortFree,
  lockRelayPort,
  parseRelayLine,
  RELAY_PORT,
  runRelayBaseline,
} from "./relay_baseline.ts";

function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("parseRelayLine reads load.ts's result line and nothing else", () => {
  expect(
    parseRelayLine(
      "clients=100 sent=500000 delivered=499999 msgs/s=190731 p50=19.21ms p99=108.03ms secs=2.62\n",
    ),
  ).toEqual({
    clients: 100,
    sent: 500000,
    delivered: 499999,
    msgsPerSec: 190731,
    p50Ms: 19.21,
    p99Ms: 108.03,
    secs: 2.62,
  });
  expect(parseRelayLine("")).toBeNull();
  expect(parseRelayLine("clients=100 sent=5")).toBeNull();
  expect(parseRelayLine("clients=1 sent=1 delivered=1 msgs/s=1 p50=1ms p99=1ms secs=1 extra"))
    .toBeNull();
});

Deno.test({
  name: "runRelayBaseline drives the real bench relay and stops it",
  ignore: BENCH_DIR === null,
  fn: async () => {
    const r = await runRelayBaseline(BENCH_DIR!, {
      clients: 4,
      frames: 300,
      bytes: 100,
      window: 8,
    });
    expect(r).toMatchObject({ clients: 4, sent: 1200, delivered: 1200 });
    expect(r.msgsPerSec).toBeGreaterThan(0);
    using _turn = await lockRelayPort(); // no other file's baseline is running now
    expect(portFree(RELAY_PORT)).toBe(true);
  },
});

Deno.test("runRelayBaseline: a load.ts without a result fails clearly, and the relay is stopped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastchat-relay-" });
  try {
    // A relay that listens and a load.ts that reports nothing.
    await Deno.writeTextFile(
      `${dir}/relay.ts`,
      "Deno.listen({ hostname: '127.0.0.1', port: Number(Deno.args[0]) }); setInterval(() => {}, 1000);\n",
    );
    await Deno.writeTextFile(`${dir}/load.ts`, "console.log('no figures');\n");
    const load = { clients: 2, frames: 10, bytes: 100, window: 4 };
    await expect(runRelayBaseline(dir, load)).rejects.toMatchObject({
      code: "INTERNAL",
      message: expect.stringContaining("no figures"),
    });
    using _turn = await lockRelayPort();
    expect(portFree(RELAY_PORT)).toBe(true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("assertPortFree names a taken port", () => {
  const held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (held.addr as Deno.NetAddr).port;
  try {
    expect(() => assertPortFree(port)).toThrow(`port ${port}`);
  } finally {
    held.close();
  }
  assertPortFree(port);
});

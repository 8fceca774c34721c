import { expect } from "expect";
import { parseRelayRatioArgs, runRelayRatio } from "./relay_ratio.ts";
import { BENCH_DIR } from "@fastchat/testing/perf_runs";

Deno.test("parseRelayRatioArgs: the issue's run by default, the relay's load from the perf flags", () => {
  const d = parseRelayRatioArgs(["--", "--bench", "/b"]);
  expect(d).toMatchObject({ bench: "/b", pairs: 3, out: null });
  expect(d.relay).toEqual({ clients: 100, frames: 5000, bytes: 100, window: 64 });
  expect(d.perf.join(" ")).toContain("--clients 100 --messages 1000 --servers 2 --window 64");
  const perfFlags = "--clients 10 --messages 50 --window 8 --payload 1KiB".split(" ");
  const o = parseRelayRatioArgs(
    ["--bench", "/b", "--pairs", "5", "--relay-frames", "200", "--out", "/o", ...perfFlags],
  );
  expect(o).toMatchObject({ pairs: 5, out: "/o" });
  expect(o.relay).toEqual({ clients: 10, frames: 200, bytes: 1024, window: 8 });
  expect(o.perf).toEqual(perfFlags);
});

Deno.test("parseRelayRatioArgs refuses what it cannot compare", () => {
  const bad = (args: string[], what: string) =>
    expect(() => parseRelayRatioArgs(args)).toThrow(
      expect.objectContaining({ message: expect.stringContaining(what) }),
    );
  bad([], "--bench");
  bad(["--bench", "/b", "--pairs", "0"], "--pairs");
  bad(["--bench", "/b", "--pairs"], "needs a value");
  bad(["--bench", "/b", "--clients", "4", "--messages", "5", "--rate", "100/s"], "--window");
  bad(["--bench", "/b", "--clients", "4", "--messages", "5", "--lb", "127.0.0.1:1"], "--window");
  bad(["--bench", "/b", "--clients", "1", "--messages", "5"], "clients"); // perf's own check
});

Deno.test({
  name: "perf:relay runs the real relay and a perf run in turn and reports FastChat's share",
  ignore: BENCH_DIR === null,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "fastchat-relay-ratio-" });
    try {
      const code = await runRelayRatio([
        ...["--bench", BENCH_DIR!, "--pairs", "1", "--relay-frames", "200", "--out", out],
        ...["--clients", "4", "--messages", "20", "--servers", "1", "--window", "4"],
      ]);
      expect(code).toBe(0);
      const r = JSON.parse(await Deno.readTextFile(`${out}/relay_ratio.json`));
      expect(r.relayLoad).toBe("load.ts 4 200 100 4");
      expect(r.pairs).toHaveLength(1);
      const [p] = r.pairs;
      expect(p.relay).toMatchObject({ sent: 800, delivered: 800 });
      const run = JSON.parse(await Deno.readTextFile(`${out}/pair-1/run.json`));
      expect(run.results).toMatchObject({ sent: 80, received: 80 });
      expect(p.fastchatMsgsPerSec).toBe(run.results.msgsPerSec);
      expect(p.share).toBeCloseTo(run.results.msgsPerSec / p.relay.msgsPerSec, 9);
      expect(r.medianShare).toBe(p.share);
      // The pair's perf run checked the host first, and the pair carries it.
      expect(p.hostStalls).toEqual(run.hostStalls);
      expect(p.hostStalls.threads).toBe(navigator.hardwareConcurrency);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test("perf:relay exits 2 on bad flags and 1 when the relay cannot run", async () => {
  expect(await runRelayRatio(["--bench", "/b", "--pairs", "x"])).toBe(2);
  const out = await Deno.makeTempDir({ prefix: "fastchat-relay-ratio-" });
  try {
    const missing = `${out}/no-bench`;
    expect(
      await runRelayRatio([
        "--bench",
        missing,
        "--out",
        out,
        "--clients",
        "2",
        "--messages",
        "1",
        "--window",
        "1",
      ]),
    )
      .toBe(1);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

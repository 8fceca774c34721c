import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { parseBuildAbArgs, runBuildAb } from "./build_ab.ts";
import { type AbRun, formatAbTable, summarizeAb } from "./build_ab_summary.ts";

Deno.test("parseBuildAbArgs: goal 3's run by default; perf flags pass through", () => {
  const d = parseBuildAbArgs(["--", "--base", "HEAD~2"]);
  expect(d).toMatchObject({ base: "HEAD~2", pairs: 4, out: null });
  expect(d.perf.join(" ")).toContain("--clients 100 --messages 1000 --servers 2 --window 64");
  const flags = "--clients 10 --duration 5s --rate 500/s".split(" ");
  expect(parseBuildAbArgs(["--base", "v1", "--pairs", "6", "--out", "/o", ...flags]))
    .toEqual({ base: "v1", pairs: 6, out: "/o", perf: flags });
});

Deno.test("parseBuildAbArgs refuses what it cannot compare", () => {
  const bad = (args: string[], what: string) =>
    expect(() => parseBuildAbArgs(args)).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG", message: expect.stringContaining(what) }),
    );
  bad([], "--base");
  bad(["--base", "HEAD", "--pairs", "0"], "--pairs");
  bad(["--base", "HEAD", "--pairs"], "needs a value");
  bad(["--base", "HEAD", "--idle", "10"], "--idle");
  bad(["--base", "HEAD", "--clients", "4", "--messages", "5", "--lb", "127.0.0.1:1"], "--lb");
  bad(["--base", "HEAD", "--clients", "1", "--messages", "5"], "clients"); // perf's own check
});

const run = (msgsPerSec: number, server: number, worker: number, db = NaN): AbRun => ({
  dir: "d",
  msgsPerSec,
  cpuUsPerMsg: { server, db, worker },
});

Deno.test("summarizeAb: medians of each build, and the median of the pairs' ratios", () => {
  const s = summarizeAb([
    { base: run(100, 10, 40), head: run(120, 9, 36) },
    { base: run(200, 20, 80), head: run(180, 20, 88) },
    { base: run(150, 15, 60), head: run(165, 12, 60) },
  ]);
  expect(s.median.base).toEqual({
    msgsPerSec: 150,
    cpuUsPerMsg: { server: 15, db: NaN, worker: 60 },
  });
  expect(s.median.head.msgsPerSec).toBe(165);
  // Ratios 1.2, 0.9 and 1.1: the median is 1.1, not 165 ÷ 150.
  expect(s.median.msgsPerSecRatio).toBeCloseTo(1.1);
  expect(s.median.cpuRatio.server).toBeCloseTo(0.9);
  expect(s.median.cpuRatio.worker).toBeCloseTo(1);
  expect(s.median.cpuRatio.db).toBeNaN(); // not sampled: no figure, not a zero
  const table = formatAbTable(s, "HEAD~1");
  expect(table[0]).toBe("base HEAD~1 against this build: 3 pair(s), alternating order");
  expect(table.length).toBe(2 + 3 + 2);
  expect(table[5]).toMatch(/^median +150 +165 +1\.100 +15\.0 +12\.0 +— +— +60\.0 +60\.0$/);
  expect(table[6]).toContain("msgs/s 1.100, CPU per message server 0.900, db —, worker 1.000");
});

const ROOT = fileURLToPath(new URL("..", import.meta.url));

async function worktrees(): Promise<string> {
  const r = await new Deno.Command("git", { args: ["-C", ROOT, "worktree", "list"] }).output();
  return new TextDecoder().decode(r.stdout);
}

Deno.test({
  name: "perf:ab runs both builds in turn from a git worktree, then removes it",
  ignore: !(await Deno.stat(`${ROOT}/.git`).then(() => true, () => false)),
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "fastchat-ab-" });
    const before = await worktrees();
    try {
      const code = await runBuildAb([
        ...["--base", "HEAD", "--pairs", "1", "--out", out],
        ...["--clients", "4", "--messages", "20", "--servers", "1", "--window", "4"],
        ...["--kdf-iterations", "100000", "--scrypt-n", "1024"],
      ]);
      expect(code).toBe(0);
      const ab = JSON.parse(await Deno.readTextFile(`${out}/ab.json`));
      expect(ab.baseCommit).toMatch(/^[0-9a-f]{40}$/);
      expect(ab.pairs.length).toBe(1);
      for (const side of ["base", "head"]) {
        const r = ab.pairs[0][side];
        expect(r.dir).toBe(`${out}/pair-1-${side}`);
        expect(r.msgsPerSec).toBeGreaterThan(0);
        expect(r.cpuUsPerMsg.server).toBeGreaterThan(0);
        expect(r.cpuUsPerMsg.worker).toBeGreaterThan(0);
        const run = JSON.parse(await Deno.readTextFile(`${r.dir}/run.json`));
        expect(run.results).toMatchObject({ sent: 80, received: 80, missing: 0 });
        // Each run's host check comes along (both builds have it: the base is HEAD).
        expect(r.hostStalls).toEqual(run.hostStalls);
        expect(r.hostStalls.threads).toBe(navigator.hardwareConcurrency);
      }
      expect(await worktrees()).toBe(before); // the base's checkout is gone
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test("perf:ab: a revision that is no commit is refused before anything runs", async () => {
  const out = await Deno.makeTempDir({ prefix: "fastchat-ab-bad-" });
  try {
    expect(await runBuildAb(["--base", "no-such-revision-xyz", "--out", out])).toBe(2);
    expect([...Deno.readDirSync(out)]).toEqual([]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

import { expect } from "expect";
import { parse } from "csv-parse/sync";
import { parseGcLog } from "./gc_trace.ts";
import { parseProcessesCsv } from "./process_analysis.ts";
import { summarizeHeapProfiles } from "./heap_profile.ts";
import { analyzeRuns } from "./analyze.ts";
import { runPerfMain } from "@fastchat/testing/perf_runs";
import { readWakeDelays } from "./wake_delays.ts";

Deno.test({
  name: "perf/main.ts end to end: 4 clients x 20 messages over 2 servers",
  // Real processes: database, 2 servers, LB, 2 workers. ~15 s here.
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "fastchat-perf-e2e-" });
    const out = `${tmp}/run`;
    try {
      const stdout = await runPerfMain([
        "--clients",
        "4",
        "--messages",
        "20",
        "--servers",
        "2",
        "--out",
        out,
        // The analysis is its own component with its own tests.
        "--no-analyze",
        // GC lines on the cluster's stdout must leave the ready lines whole.
        "--trace-gc",
        "--host-check",
        "300ms",
        "--wake-meter",
      ]);
      expect(stdout).toContain("sent 80, received 80");
      expect(stdout).toContain(`run directory: ${out}`);

      const run = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
      expect(run.config).toMatchObject({ clients: 4, messages: 20, servers: 2, payloadBytes: 100 });
      expect(run.interrupted).toBe(false);
      expect(run.versions).toMatchObject({ deno: Deno.version.deno, fastchat: expect.any(String) });
      expect(run.machine.cores).toBe(navigator.hardwareConcurrency);
      // The host check ran before anything started: one spinning thread per core.
      expect(run.config.hostCheckMs).toBe(300);
      expect(run.hostStalls).toMatchObject({
        threads: navigator.hardwareConcurrency,
        durationMs: expect.any(Number),
        longestMs: expect.any(Number),
      });
      expect(run.hostStalls.durationMs).toBeGreaterThanOrEqual(300);
      // --wake-meter: a thread slept through the messaging phase and its record reads back.
      const wake = await readWakeDelays(out);
      expect(wake!.wakeups).toBeGreaterThan(0);
      expect(wake!.startedAtMs).toBeGreaterThanOrEqual(run.phases.messaging.startMs - 1000);
      expect(run.phases.register).toMatchObject({ count: 4 });
      expect(run.phases.login).toMatchObject({ count: 4 });
      expect(run.phases.messaging.endMs).toBeGreaterThan(run.phases.messaging.startMs);
      expect(run.results).toMatchObject({ sent: 80, received: 80, missing: 0 });
      expect(run.servers).toHaveLength(2);

      const files = [...Deno.readDirSync(`${out}/clients`)].map((e) => e.name).sort();
      expect(files).toHaveLength(4);
      const seed = run.config.seed;
      expect(files).toEqual([0, 1, 2, 3].map((i) => `perf-${seed}-${i}.csv`));
      const sentBy = new Map<string, string>();
      const receivedBy = new Map<string, string[]>();
      for (const f of files) {
        const user = f.replace(/\.csv$/, "");
        const text = await Deno.readTextFile(`${out}/clients/${f}`);
        expect(text.split("\n")[0]).toBe("message_id,event,time_ms,bytes,peer,kind");
        const rows = parse(text, { columns: true }) as Record<string, string>[];
        for (const r of rows) {
          expect(Number(r.time_ms)).toBeGreaterThan(1.6e12);
          if (r.event === "sent") {
            expect(r.peer).not.toBe(user);
            sentBy.set(r.message_id, user);
          }
          if (r.event === "received") {
            receivedBy.set(r.message_id, [...receivedBy.get(r.message_id) ?? [], user]);
          }
        }
      }
      expect(sentBy.size).toBe(80);
      for (const [id, sender] of sentBy) {
        const got = receivedBy.get(id);
        expect({ id, got: got?.length }).toEqual({ id, got: 1 });
        expect(got![0]).not.toBe(sender);
      }
      // Cluster logs are kept.
      const logs = [...Deno.readDirSync(`${out}/logs`)].map((e) => e.name);
      expect(logs).toEqual(expect.arrayContaining(["srv-1.stderr.log", "lb.stdout.log"]));
      expect(parseGcLog(await Deno.readTextFile(`${out}/logs/srv-1.stdout.log`)).length)
        .toBeGreaterThan(0);

      // Every process sampled, in every phase.
      const procs = parseProcessesCsv(await Deno.readTextFile(`${out}/processes.csv`));
      const names = (phase: string) =>
        [...new Set(procs.filter((r) => r.phase === phase).map((r) => r.name))].sort();
      const workers = Array.from({ length: run.config.workers }, (_, k) => `worker-${k}`);
      const all = ["db", "lb", "perf", "srv-1", "srv-2", ...workers];
      for (const phase of ["register", "login", "warmup", "messaging", "after"]) {
        expect({ phase, names: names(phase) }).toEqual({ phase, names: all });
      }
      expect(procs.filter((r) => r.phase === "messaging").every((r) => r.rssBytes > 0)).toBe(true);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "perf/main.ts open loop: sends wait for their time; --heap-sample writes each worker's profile",
  // Real processes, as above; 4 clients at 100 msgs/s in all: each sends every 40 ms.
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "fastchat-perf-rate-" });
    const out = `${tmp}/run`;
    try {
      const args = ["--clients", "4", "--messages", "10", "--rate", "100/s", "--servers", "1"];
      const stdout = await runPerfMain([
        ...[...args, "--out", out, "--no-analyze", "--heap-sample", "--host-check", "0s"],
      ]);
      expect(stdout).toContain("sent 40, received 40");
      const run = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
      expect(run.config).toMatchObject({
        send: { kind: "rate", perSecond: 100 },
        heapSample: true,
        hostCheckMs: 0,
      });
      expect(run.hostStalls).toBeUndefined(); // --host-check 0s skips it
      // A send is never early: each client's 10th is due 9 gaps (360 ms) after the start at least.
      for (const e of Deno.readDirSync(`${out}/clients`)) {
        const rows = parse(await Deno.readTextFile(`${out}/clients/${e.name}`), {
          columns: true,
        }) as Record<string, string>[];
        const sent = rows.filter((r) => r.event === "sent").map((r) => Number(r.time_ms));
        expect(sent).toHaveLength(10);
        expect(Math.max(...sent) - run.phases.messaging.startMs).toBeGreaterThanOrEqual(9 * 40 - 1);
      }
      const profiles = [...Deno.readDirSync(`${out}/profiles`)].map((e) => e.name).sort();
      expect(profiles).toEqual(
        Array.from({ length: run.config.workers }, (_, k) => `worker-${k}.heapprofile`),
      );
      const s = summarizeHeapProfiles(
        profiles.map((f) => JSON.parse(Deno.readTextFileSync(`${out}/profiles/${f}`))),
      );
      expect(s.totalBytes).toBeGreaterThan(0);
      // Allocations are charged to the project's modules by their paths in the repository.
      expect(s.byProjectModule.some((r) => /^(client|lib)\/[a-z_/]+\.ts$/.test(r.name))).toBe(true);
      // The analysis reports them per message received, in its summary and report.html.
      const { runs, reports } = await analyzeRuns([out], { charts: false });
      expect(runs[0].heapAllocation).toMatchObject({
        profiles: run.config.workers,
        totalBytes: s.totalBytes,
        bytesPerMessage: s.totalBytes / 40,
      });
      expect(await Deno.readTextFile(reports[0])).toContain("Load workers' heap allocations");
      // Every message sent took a socket write of its sender's, from "go" on.
      expect(runs[0].workerSockets?.workers).toBe(run.config.workers);
      expect(runs[0].workerSockets?.writes).toBeGreaterThanOrEqual(40);
      expect(runs[0].workerSockets?.framesOut).toBeGreaterThanOrEqual(
        runs[0].workerSockets!.writes,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

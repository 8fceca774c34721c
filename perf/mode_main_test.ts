import { expect } from "expect";
import { parse } from "csv-parse/sync";
import { analyzeRunDir } from "./run_analysis.ts";
import { peerSets } from "./peer_graph.ts";
import { userName } from "./run_config.ts";
import { runPerfMain } from "@fastchat/testing/perf_runs";

/** Runs perf/main.ts with `args` (cheap password costs, no analysis); returns stdout. */
async function perf(args: string[]): Promise<string> {
  return await runPerfMain([
    ...args,
    "--kdf-iterations",
    "100000",
    "--scrypt-n",
    "1024",
    "--workers",
    "2",
    "--no-analyze",
  ]);
}

async function rowsOf(out: string): Promise<Map<string, Record<string, string>[]>> {
  const logs = new Map<string, Record<string, string>[]>();
  for (const e of [...Deno.readDirSync(`${out}/clients`)]) {
    const text = await Deno.readTextFile(`${out}/clients/${e.name}`);
    expect(text.split("\n")[0]).toBe("message_id,event,time_ms,bytes,peer,kind");
    logs.set(e.name.replace(/\.csv$/, ""), parse(text, { columns: true }));
  }
  return logs;
}

Deno.test({
  name: "perf --mode group end to end: 6 clients in 2 groups of 3, 3 messages each",
  // Real processes: database, server, LB, 2 workers.
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "fastchat-perf-group-" });
    const out = `${tmp}/run`;
    try {
      const stdout = await perf([
        ...["--clients", "6", "--messages", "3", "--mode", "group", "--group-size", "3"],
        ...["--out", out],
      ]);
      // 18 group messages, each received by the 2 other members.
      expect(stdout).toContain("sent 18, received 36");
      const run = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
      expect(run.config).toMatchObject({ mode: "group", groupSize: 3, groupSenders: 3 });
      expect(run.groups).toHaveLength(2);
      expect(run.phases.prepare).toMatchObject({ count: 2 });
      const members = new Map<string, string[]>(
        run.groups.map((g: { name: string; members: string[] }) => [`#${g.name}`, g.members]),
      );
      const logs = await rowsOf(out);
      const sent = new Map<string, { user: string; group: string }>();
      const got = new Map<string, string[]>();
      for (const [user, rows] of logs) {
        for (const r of rows) {
          expect(r.kind).toBe("group");
          expect(r.event).not.toBe("delivered"); // no per-recipient receipts for groups
          if (r.event === "sent") sent.set(r.message_id, { user, group: r.peer });
          if (r.event === "received") got.set(r.message_id, [...got.get(r.message_id) ?? [], user]);
        }
      }
      expect(sent.size).toBe(18);
      for (const [id, m] of sent) {
        const others = members.get(m.group)!.filter((u) => u !== m.user).sort();
        expect({ id, got: got.get(id)?.sort() }).toEqual({ id, got: others });
      }
      const { summary } = await analyzeRunDir(out);
      expect(summary.group).toMatchObject({
        groups: 2,
        messages: 18,
        expectedDeliveries: 36,
        deliveries: 36,
        lostDeliveries: 0,
        duplicateDeliveries: 0,
        unexpectedDeliveries: 0,
      });
      expect(summary.group!.deliveriesPerSec).toBeGreaterThan(0);
      expect(summary.counts.lost).toBe(0);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "perf --mode file end to end: 2 clients send each other a 1 MiB file",
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "fastchat-perf-file-" });
    const out = `${tmp}/run`;
    try {
      const stdout = await perf(["--clients", "2", "--mode", "file", "--out", out]);
      expect(stdout).toContain("sent 2, received 2");
      const run = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
      expect(run.config).toMatchObject({ mode: "file", messages: 1, fileBytes: 1 << 20 });
      expect(run.file.rssKbPeak["srv-1"]).toBeGreaterThan(0);
      expect(run.file.rssKbPeak["srv-1"]).toBeGreaterThanOrEqual(run.file.rssKbBefore["srv-1"]);
      const logs = await rowsOf(out);
      for (const [user, rows] of logs) {
        const events = rows.map((r) => r.event).sort();
        expect({ user, events }).toEqual({
          user,
          events: ["acked", "delivered", "received", "sent"],
        });
        for (const r of rows) expect([r.kind, r.bytes]).toEqual(["file", String(1 << 20)]);
      }
      const { summary } = await analyzeRunDir(out);
      expect(summary.file).toMatchObject({ files: 2, completed: 2, failed: 0 });
      expect(summary.file!.mbPerSec).toBeGreaterThan(0);
      expect(summary.file!.completeMs.max).toBeGreaterThan(0);
      // Every file matched its SHA-256, and the workers removed their homes (test files, downloads).
      for (const w of ["worker-0", "worker-1"]) {
        const log = await Deno.readTextFile(`${out}/logs/${w}.log`);
        expect(log).not.toContain("file_mismatch");
        expect(log).not.toContain("cleanup_failed");
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "perf --peers end to end: 8 clients, 2 peers each, 20 messages each",
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "fastchat-perf-peers-" });
    const out = `${tmp}/run`;
    const seed = "peers1"; // perf's own in-memory database: fresh users on every run
    try {
      const stdout = await perf([
        ...["--clients", "8", "--messages", "20", "--peers", "2", "--servers", "2"],
        ...["--seed", seed, "--out", out],
      ]);
      expect(stdout).toContain("sent 160, received 160");
      const run = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
      expect(run.config).toMatchObject({ mode: "dm", clients: 8, peers: 2 });
      // 20 sends over 2 peers reach both here: the warm-up is the 16 pairs of the ring.
      expect(run.phases.warmup).toMatchObject({ count: 16 });
      const sets = peerSets(seed, 8, 2);
      const peersOf = new Map(
        sets.map((s, i) => [userName(seed, i), s.map((j) => userName(seed, j)).sort()]),
      );
      const logs = await rowsOf(out);
      expect([...logs.keys()].sort()).toEqual([...peersOf.keys()].sort());
      for (const [user, rows] of logs) {
        // Every row names one of the user's peers, and both of them show up.
        const seen = [...new Set(rows.map((r) => r.peer))].sort();
        expect({ user, seen }).toEqual({ user, seen: peersOf.get(user) });
        expect(rows.filter((r) => r.event === "sent")).toHaveLength(20);
      }
      const { summary } = await analyzeRunDir(out);
      expect(summary.counts).toMatchObject({ sent: 160, received: 160, lost: 0, duplicated: 0 });
      expect(summary.counts.errors).toBe(0);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "perf --driver wire end to end: 6 clients over 2 servers, 30 messages each, counted by id",
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "fastchat-perf-wire-" });
    const out = `${tmp}/run`;
    try {
      const stdout = await perf([
        ...["--clients", "6", "--messages", "30", "--servers", "2", "--driver", "wire"],
        ...["--window", "8", "--out", out],
      ]);
      expect(stdout).toContain("sent 180, received 180");
      const run = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
      expect(run.config).toMatchObject({ mode: "dm", driver: "wire" });
      expect(run.phases.warmup?.count ?? 0).toBe(0); // no keys to share
      const logs = await rowsOf(out);
      for (const [user, rows] of logs) {
        const count = (e: string) => rows.filter((r) => r.event === e).length;
        // Every send confirmed ("sent" or a receipt) and receipted, once.
        expect({ user, sent: count("sent"), acked: count("acked"), delivered: count("delivered") })
          .toEqual({ user, sent: 30, acked: 30, delivered: 30 });
      }
      const { summary } = await analyzeRunDir(out);
      expect(summary.counts).toMatchObject({ sent: 180, received: 180, lost: 0, duplicated: 0 });
      expect(summary.counts.errors).toBe(0);
      // Both servers logged their counters; some messages crossed between them.
      const { readServerCounters } = await import("./server_counters.ts");
      const c = await readServerCounters(out);
      expect(c).toMatchObject({ servers: 2, accepted: 180 });
      expect(c!.forwarded).toBeGreaterThan(0);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

/**
 * Dead servers leave the registry, with real processes: a chat server killed
 * with SIGKILL stays in `lb status` as dead, then is forgotten once it has
 * been dead for the retention (`--forget-after`), whether a load balancer's
 * sweep or another server's heartbeat does it; a server that stops cleanly
 * removes its own row at once.
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";
import type { Sql } from "postgres";
import { connectStore } from "@fastchat/db/connect";
import { allServers } from "@fastchat/lib/cluster/server_directory";
import { LB_READY } from "@fastchat/lib/cluster/ready_lines";
import { LIVENESS_MS } from "@fastchat/lib/cluster/timing";
import { ManagedProcess } from "@fastchat/lib/managed_process";
import { waitUntil } from "@fastchat/lib/wait_until";
import { DB_KINDS, openTestDb, type ServerProcess, startServerProcess } from "@fastchat/testing";

const LB_MAIN = fileURLToPath(new URL("../lb/main.ts", import.meta.url));
/** Just above the liveness window, so the test waits seconds, not minutes. */
const SHORT_RETENTION = String(LIVENESS_MS + 500);
/** Safety net of the waits below; a healthy run ends long before. */
const WAIT_MS = 60_000;

async function lbStatus(dbUrl: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", LB_MAIN, "status"],
    env: { DATABASE_URL: dbUrl },
    stdin: "null",
  }).output();
  expect(out.code).toBe(0);
  return new TextDecoder().decode(out.stdout).trim().split("\n");
}

/** The registry as `id:state` pairs, e.g. `["fc-1:dead", "fc-2:live"]`. */
async function registry(sql: Sql): Promise<string[]> {
  return (await allServers(sql)).map((s) => `${s.id}:${s.live ? "live" : "dead"}`);
}

/** Waits until the registry reads `want` (polled: nothing announces a row's change). */
async function registryIs(sql: Sql, want: string[]): Promise<void> {
  let seen: string[] = [];
  await waitUntil(
    async () => {
      seen = await registry(sql);
      return seen.join() === want.join();
    },
    WAIT_MS,
    () => `registry ${want.join()} (saw ${seen.join()})`,
  );
}

async function killed(s: ServerProcess): Promise<void> {
  s.proc.kill("SIGKILL");
  await s.proc.exited;
}

for (const kind of DB_KINDS) {
  Deno.test(`dead servers (${kind}): kill -9 shows dead in lb status, then an LB forgets it; a clean stop removes its row`, async () => {
    const db = await openTestDb(kind);
    const sql = connectStore(db.url, { max: 1 });
    const procs: ManagedProcess[] = [];
    try {
      const a = await startServerProcess(db.url, { id: "fc-a" });
      procs.push(a.proc);
      const b = await startServerProcess(db.url, { id: "fc-b" }); // default retention
      procs.push(b.proc);
      await registryIs(sql, ["fc-a:live", "fc-b:live"]);

      await killed(a);
      await registryIs(sql, ["fc-a:dead", "fc-b:live"]);
      // fc-b's heartbeats keep fc-a (default retention: minutes); lb status shows it dead.
      const lines = await lbStatus(db.url);
      expect(lines[0]).toMatch(/^ID\s+ADDRESS\s+TLS\s+CLIENTS\s+AGE\s+STATE$/);
      expect(lines[1]).toMatch(
        new RegExp(`^fc-a\\s+${a.host}:${a.port}\\s+no\\s+0\\s+\\S+\\s+dead$`),
      );
      expect(lines[2]).toMatch(
        new RegExp(`^fc-b\\s+${b.host}:${b.port}\\s+no\\s+0\\s+\\S+\\s+live$`),
      );
      expect(lines[3]).toBe("1 live server, 0 clients, 1 dead");

      // A load balancer with a short retention forgets it with its sweep.
      const lb = await ManagedProcess.spawn({
        name: "lb",
        args: ["run", "-A", LB_MAIN, "--port", "0", "--forget-after", SHORT_RETENTION],
        ready: LB_READY,
        env: { DATABASE_URL: db.url, FASTCHAT_LOG_LEVEL: "warn" },
      });
      procs.push(lb);
      await registryIs(sql, ["fc-b:live"]);
      expect((await lbStatus(db.url)).at(-1)).toBe("1 live server, 0 clients");

      // A clean stop deletes its own row before the process exits.
      expect((await b.proc.stop()).code).toBe(0);
      expect(await registry(sql)).toEqual([]);
    } finally {
      for (const p of procs) await p.stop().catch(() => {});
      await sql.end();
      await db.close();
    }
  });
}

Deno.test(`dead servers (${DB_KINDS[0]}): a live server's heartbeat forgets a killed one after --forget-after`, async () => {
  const db = await openTestDb(DB_KINDS[0]);
  const sql = connectStore(db.url, { max: 1 });
  const procs: ManagedProcess[] = [];
  try {
    const a = await startServerProcess(db.url, { id: "fc-a" });
    procs.push(a.proc);
    const b = await startServerProcess(db.url, {
      id: "fc-b",
      args: ["--forget-after", SHORT_RETENTION],
    });
    procs.push(b.proc);
    await registryIs(sql, ["fc-a:live", "fc-b:live"]);
    await killed(a);
    await registryIs(sql, ["fc-b:live"]);
  } finally {
    for (const p of procs) await p.stop().catch(() => {});
    await sql.end();
    await db.close();
  }
});

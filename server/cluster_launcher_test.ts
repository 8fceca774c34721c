/**
 * The launcher with real processes: the database password reaches servers
 * and load balancers only through their environment; kill -9, restart at
 * the same address, unexpected exits, supervision, and a stop that leaves
 * no process behind.
 */
import { processAlive } from "@fastchat/testing";
import { expect } from "expect";
import { EmbeddedDatabase } from "@fastchat/db/embedded";
import { requestTicket } from "@fastchat/client/lb_client";
import { ClusterLauncher } from "./cluster_launcher.ts";
import { waitForLive } from "./registry_waits.ts";

// Sanitizers off: the launcher's children are supervised processes whose
// stdout/stderr readers and restart timers outlive a single test step by
// design (a killed server is restarted in the background); stop() ends them,
// but Deno's per-test accounting sees the pipes of restarted children opened
// and closed across steps.
const opts = { sanitizeOps: false, sanitizeResources: false };
const FAST = ["--scrypt-n", "1024"];

/** `/proc/<pid>/<file>` as NUL-separated strings (Linux). */
async function procStrings(pid: number, file: "cmdline" | "environ"): Promise<string[]> {
  return (await Deno.readTextFile(`/proc/${pid}/${file}`)).split("\0");
}

Deno.test({
  name: "launcher: external database; secrets only in env; kill -9, restart, crash, stop",
  ignore: Deno.build.os !== "linux",
  ...opts,
  async fn() {
    const db = await EmbeddedDatabase.start({ port: 0 });
    const logDir = await Deno.makeTempDir({ prefix: "fastchat-launcher-logs-" });
    const crashes: string[] = [];
    let crashed!: () => void;
    const crash = new Promise<void>((r) => crashed = r);
    const cluster = await ClusterLauncher.start({
      dbUrl: db.url,
      servers: 2,
      serverArgs: FAST,
      logDir,
      onUnexpectedExit: (name) => {
        crashes.push(name);
        crashed();
      },
    });
    const pids = () => cluster.processes.members.map((m) => m.pid);
    let all: number[] = [];
    try {
      expect(cluster.db).toBeNull();
      expect(cluster.servers.map((s) => s.id)).toEqual(["srv-1", "srv-2"]); // start order
      expect(cluster.lbs.map((l) => l.name)).toEqual(["lb"]);
      for (const pid of pids()) {
        const argv = await procStrings(pid, "cmdline");
        expect(argv.some((a) => a.includes(db.password))).toBe(false);
        expect(await procStrings(pid, "environ")).toContain(`DATABASE_URL=${db.url}`);
      }
      // Ready means registered and (by default) meshed.
      expect((await cluster.liveServers()).map((s) => s.id)).toEqual(["srv-1", "srv-2"]);
      expect(cluster.linkState(cluster.servers[0], "srv-2")).toBe("up");
      expect((await requestTicket(cluster.lb)).server).toMatch(/^srv-[12]$/);

      const [s1, s2] = cluster.servers;
      const { port } = s1;
      all = [...pids()];
      expect((await cluster.kill(s1)).signal).toBe("SIGKILL");
      expect(cluster.running()).toEqual([s2]);
      expect(s1.killed).toBe(true);
      // Back with its id at its address: it takes over its (still fresh) registry row.
      await cluster.restart(s1);
      expect({ id: s1.id, port: s1.port, restarts: s1.restarts }).toEqual({
        id: "srv-1",
        port,
        restarts: 1,
      });
      all.push(s1.pid);
      await cluster.waitForMesh();
      await waitForLive(cluster.sql, ["srv-1", "srv-2"]);

      Deno.kill(s2.pid, "SIGKILL"); // not the launcher's doing
      await crash;
      expect(crashes).toEqual(["srv-2"]);
    } finally {
      await cluster.stop();
      await db.close();
    }
    for (const pid of all) expect({ pid, alive: processAlive(pid) }).toEqual({ pid, alive: false });
    const logs = [...Deno.readDirSync(logDir)].map((e) => e.name).sort();
    expect(logs).toEqual([
      "lb.stderr.log",
      "lb.stdout.log",
      "srv-1.stderr.log",
      "srv-1.stdout.log",
      "srv-2.stderr.log",
      "srv-2.stdout.log",
    ]);
    expect(await Deno.readTextFile(`${logDir}/srv-2.stdout.log`)).toMatch(
      /^FastChat server srv-2 listening on 127\.0\.0\.1:\d+$/m,
    );
    await Deno.remove(logDir, { recursive: true });
  },
});

Deno.test({
  name: "launcher: embedded database in memory, supervised: a killed server is restarted",
  ...opts,
  async fn() {
    const lines: string[] = [];
    const cluster = await ClusterLauncher.start({
      servers: 1,
      serverArgs: FAST,
      idPrefix: null,
      supervise: true,
      log: (l) => lines.push(l),
    });
    try {
      expect(cluster.dbPid).toBe(cluster.db!.pid);
      expect(cluster.dbUrl).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\//);
      const [s] = cluster.servers;
      expect(s.name).toBe("server-1");
      expect(s.id).toBe(`fc-${s.port}`); // the server's own choice
      const before = { pid: s.pid, id: s.id };
      await expect(cluster.restart(s)).rejects.toThrow(/supervised/);
      const back = s.nextStart();
      await cluster.kill(s);
      await back;
      await waitForLive(cluster.sql, [s.id]); // the restarted one, under its new id
      expect(s.restarts).toBe(1);
      expect(s.pid).not.toBe(before.pid);
      expect(s.id).not.toBe(before.id);
      expect(lines.some((l) => l.startsWith("server-1 exited (signal SIGKILL)"))).toBe(true);
    } finally {
      await cluster.stop();
    }
    for (const m of cluster.processes.members) expect(m.proc.done).toBe(true);
  },
});

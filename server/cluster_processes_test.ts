import { expect } from "expect";
import {
  DB_READY,
  dbReadyLine,
  LB_READY,
  lbReadyLine,
  SERVER_READY,
  serverReadyLine,
} from "@fastchat/lib/cluster/ready_lines";
import type { SpawnOptions } from "@fastchat/lib/managed_process";
import { ClusterProcesses } from "./cluster_processes.ts";

/**
 * A stand-in process: prints `line` (after `delayMs`), then runs until
 * SIGTERM, when it appends its name to `stopLog` (so stop order can be read).
 */
function fake(
  name: string,
  line: string,
  ready: RegExp,
  stopLog: string,
  delayMs = 0,
): SpawnOptions {
  const script = `
    Deno.addSignalListener("SIGTERM", () => {
      Deno.writeTextFileSync(${JSON.stringify(stopLog)}, ${
    JSON.stringify(name + "\n")
  }, { append: true });
      Deno.exit(0);
    });
    console.error("stderr of ${name}");
    setTimeout(() => console.log(${JSON.stringify(line)}), ${delayMs});
    setInterval(() => {}, 1000);`;
  return { name, args: ["eval", script], ready };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fastchat-procs-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("ClusterProcesses: stops LBs, then servers, then the database; writes logs", async () => {
  await withDir(async (dir) => {
    const order = `${dir}/order`;
    const exits: string[] = [];
    const procs = new ClusterProcesses({ onUnexpectedExit: (name) => exits.push(name) });
    try {
      await procs.spawn(
        "db",
        fake("db", dbReadyLine("postgres://x@127.0.0.1:1/d"), DB_READY, order),
      );
      await Promise.all([1, 2].map((n) =>
        procs.spawn(
          "server",
          fake(`srv-${n}`, serverReadyLine(`srv-${n}`, `127.0.0.1:${n}`), SERVER_READY, order),
          ["--x"],
        )
      ));
      await procs.spawn("lb", fake("lb", lbReadyLine("lb-9", "127.0.0.1:9"), LB_READY, order));
      expect(procs.members.map((m) => m.name).sort()).toEqual(["db", "lb", "srv-1", "srv-2"]);
      expect(procs.servers.map((s) => s.args)).toEqual([["--x"], ["--x"]]);
      expect(procs.logs(5)).toContain("--- lb\nFastChat load balancer lb-9 listening on");
    } finally {
      await procs.stop();
    }
    const stopped = (await Deno.readTextFile(order)).trim().split("\n");
    expect(stopped[0]).toBe("lb");
    expect(stopped.slice(1, 3).sort()).toEqual(["srv-1", "srv-2"]);
    expect(stopped[3]).toBe("db");
    expect(exits).toEqual([]); // stopped on purpose
    await procs.writeLogs(`${dir}/logs`);
    expect(await Deno.readTextFile(`${dir}/logs/srv-2.stderr.log`)).toBe("stderr of srv-2\n");
    await expect(procs.spawn("lb", fake("lb-2", "", LB_READY, order))).rejects.toMatchObject({
      code: "SERVER_SHUTTING_DOWN",
    });
  });
});

Deno.test("ClusterProcesses: an exit nobody asked for is reported; a restart is not", async () => {
  await withDir(async (dir) => {
    const exits: string[] = [];
    let reported!: () => void;
    const reportedOnce = new Promise<void>((r) => reported = r);
    const procs = new ClusterProcesses({
      onUnexpectedExit: (name) => {
        exits.push(name);
        reported();
      },
    });
    try {
      const spec = fake("srv-1", serverReadyLine("srv-1", "127.0.0.1:1"), SERVER_READY, `${dir}/o`);
      const s = await procs.spawn("server", spec);
      Deno.kill(s.pid, "SIGKILL"); // from outside: a crash
      await reportedOnce;
      expect(exits).toEqual(["srv-1"]);
      await procs.restart(s, spec);
      expect(s.restarts).toBe(1);
      s.stoppedOnPurpose = true;
      s.proc.kill("SIGKILL");
      await s.proc.exited;
      await expect(procs.restart(s, { ...spec, ready: /never/, timeoutMs: 100 })).rejects
        .toMatchObject({ code: "TIMEOUT" });
      expect(exits).toEqual(["srv-1"]);
    } finally {
      await procs.stop();
    }
  });
});

Deno.test("ClusterProcesses: stop while a process is starting stops it once ready", async () => {
  await withDir(async (dir) => {
    const order = `${dir}/order`;
    const procs = new ClusterProcesses();
    const line = serverReadyLine("slow", "127.0.0.1:1");
    const starting = procs.spawn("server", fake("slow", line, SERVER_READY, order, 500));
    await procs.stop();
    await expect(starting).rejects.toMatchObject({ code: "SERVER_SHUTTING_DOWN" });
    expect(await Deno.readTextFile(order)).toBe("slow\n");
    expect(procs.servers).toEqual([]);
  });
});

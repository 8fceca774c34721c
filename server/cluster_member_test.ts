import { expect } from "expect";
import { SERVER_READY, serverReadyLine } from "@fastchat/lib/cluster/ready_lines";
import { ManagedProcess, type SpawnOptions } from "@fastchat/lib/managed_process";
import { Supervisor } from "@fastchat/lib/supervisor";
import { ClusterMember } from "./cluster_member.ts";

/** A stand-in server: prints a ready line naming `id` at `address`, then waits to be stopped. */
function fakeServer(id: string, address: string): SpawnOptions {
  const line = JSON.stringify(serverReadyLine(id, address));
  return {
    name: id,
    args: ["eval", `console.log(${line}); setInterval(() => {}, 1000);`],
    ready: SERVER_READY,
  };
}

Deno.test("ClusterMember: id and address from the ready line; replace restarts it", async () => {
  const spec = fakeServer("srv-1", "127.0.0.1:7701");
  const first = await ManagedProcess.spawn(spec);
  const m = new ClusterMember("server", spec, first);
  try {
    expect(m).toMatchObject({
      name: "srv-1",
      id: "srv-1",
      host: "127.0.0.1",
      port: 7701,
      address: "127.0.0.1:7701",
      pid: first.pid,
      restarts: 0,
      supervised: false,
      killed: false,
    });
    m.stoppedOnPurpose = m.killed = true;
    first.kill("SIGKILL");
    await first.exited;
    const again = await ManagedProcess.spawn(fakeServer("srv-1", "127.0.0.1:7702"));
    m.replace(again);
    expect(m).toMatchObject({ pid: again.pid, port: 7702, restarts: 1, killed: false });
    expect(m.proc).toBe(again);
    expect(() => m.nextStart()).toThrow(/not supervised/);
  } finally {
    await m.proc.stop();
  }
});

Deno.test("ClusterMember: a supervised member follows its supervisor's restarts", async () => {
  const sup = new Supervisor({ log: () => {}, policy: { initialDelayMs: 10, maxDelayMs: 10 } });
  try {
    const spec = fakeServer("srv-2", "127.0.0.1:7703");
    const m = new ClusterMember("server", spec, await sup.start(spec));
    expect(m.supervised).toBe(true);
    const before = m.pid;
    const restarted = m.nextStart();
    m.proc.kill("SIGKILL");
    await restarted;
    expect(m.pid).not.toBe(before);
    expect(m.restarts).toBe(1);
    expect(m.id).toBe("srv-2");
    expect(() => m.replace(m.proc)).toThrow(/supervised/);
  } finally {
    await sup.stopAll();
  }
});

Deno.test("ClusterMember: the database has no server ready line", async () => {
  const spec: SpawnOptions = {
    name: "db",
    args: ["eval", "console.log('up'); setInterval(() => {}, 1000);"],
    ready: /up/,
  };
  const m = new ClusterMember("db", spec, await ManagedProcess.spawn(spec));
  try {
    expect(() => m.id).toThrow(/no server ready line/);
  } finally {
    await m.proc.stop();
  }
});

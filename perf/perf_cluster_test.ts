import { expect } from "expect";
import { clusterCpuSeconds, PERF_AUTH_RATE, serverRss, startPerfCluster } from "./perf_cluster.ts";

Deno.test({
  name: "perf cluster: perf's limits, RSS and CPU per process, kill one, logs at stop",
  ignore: Deno.build.os !== "linux",
  // Off: the cluster's child processes are killed and sampled (/proc) across
  // the test; their output pipes close after the test body when stop() reaps them.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const logDir = await Deno.makeTempDir({ prefix: "fastchat-perf-cluster-" });
    const exits: string[] = [];
    const cluster = await startPerfCluster({
      servers: 2,
      scryptN: 1024,
      logDir,
      onUnexpectedExit: (name) => exits.push(name),
    });
    try {
      expect(cluster.servers.map((s) => s.id)).toEqual(["srv-1", "srv-2"]);
      expect(cluster.dbPid).toBeGreaterThan(0);
      expect(cluster.lbAddress).toMatch(/^127\.0\.0\.1:\d+$/);
      const argv = async (pid: number) =>
        (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0").join(" ");
      expect(await argv(cluster.servers[0].pid)).toContain(
        `--scrypt-n 1024 --auth-rate ${PERF_AUTH_RATE} --max-preauth-per-address 1000`,
      );
      expect(await argv(cluster.lbPid)).toContain("--rate 0 --max-per-address 10000");

      const rss = await serverRss(cluster);
      expect([...rss.keys()]).toEqual(["srv-1", "srv-2"]);
      for (const kb of rss.values()) expect(kb).toBeGreaterThan(1000);
      const cpu = await clusterCpuSeconds(cluster);
      expect(Object.keys(cpu).sort()).toEqual(["db", "lb", "srv-1", "srv-2"]);
      expect(cpu.db).toBeGreaterThan(0);

      await cluster.kill("srv-1"); // --kill-one
      expect(cluster.servers.map((s) => [s.id, s.killed])).toEqual([
        ["srv-1", true],
        ["srv-2", false],
      ]);
      expect([...(await serverRss(cluster)).keys()]).toEqual(["srv-2"]);
    } finally {
      await cluster.stop();
    }
    expect(exits).toEqual([]); // a kill by the run is no failure
    expect(cluster.servers[1].killed).toBe(false); // stopping is not killing
    const files = [...Deno.readDirSync(logDir)].map((e) => e.name).sort();
    expect(files).toEqual(
      ["db", "lb", "srv-1", "srv-2"].flatMap((n) => [`${n}.stderr.log`, `${n}.stdout.log`]),
    );
    await Deno.remove(logDir, { recursive: true });
  },
});

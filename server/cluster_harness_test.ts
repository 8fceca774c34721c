/**
 * The harness's processes get the database URL (with the embedded
 * database's password) through their environment: what `ps` shows of
 * every server and load balancer holds no password.
 */
import { expect } from "expect";
import { EmbeddedDatabase } from "@fastchat/db/embedded";
import { Cluster } from "./cluster_harness.ts";

/** `/proc/<pid>/<file>` as NUL-separated strings (Linux). */
async function procStrings(pid: number, file: "cmdline" | "environ"): Promise<string[]> {
  return (await Deno.readTextFile(`/proc/${pid}/${file}`)).split("\0");
}

Deno.test({
  name: "cluster harness: servers and LB see the database password only in their environment",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const db = await EmbeddedDatabase.start({ port: 0 });
    let cluster: Cluster | undefined;
    try {
      cluster = await Cluster.start({ dbUrl: db.url, servers: 2 });
      const pids = [
        ...cluster.servers.map((s) => s.proc.pid),
        ...cluster.lbs.map((l) => l.proc.pid),
      ];
      expect(pids.length).toBe(3);
      for (const pid of pids) {
        const argv = await procStrings(pid, "cmdline");
        expect(argv.some((a) => a.includes(db.password))).toBe(false);
        expect(argv).not.toContain("--db");
        expect(await procStrings(pid, "environ")).toContain(`DATABASE_URL=${db.url}`);
      }
      // and they did connect with it: both servers registered and linked
      expect((await cluster.sql`select id from servers order by id`).map((r) => r.id)).toEqual(
        cluster.servers.map((s) => s.id).sort(),
      );
    } finally {
      await cluster?.stop();
      await db.close();
    }
  },
});

/**
 * `lb/main.ts` as a real process: ready line, tickets, the `status`
 * subcommand, the key file (0600, reused across restarts), clean stop.
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { connectStore } from "@fastchat/db/connect";
import { EmbeddedDatabase } from "@fastchat/db/embedded";
import { ManagedProcess } from "@fastchat/lib/managed_process";
import { LB_READY as READY } from "@fastchat/lib/cluster/ready_lines";
import { requestTicket } from "@fastchat/client/lb_client";
import postgres from "postgres";
import { DB_KINDS, insertServer, openTestDb, TEST_PG_URL } from "@fastchat/testing";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
function startLb(args: string[]): Promise<ManagedProcess> {
  return ManagedProcess.spawn({
    name: "lb",
    args: ["run", "-A", MAIN, "--port", "0", ...args],
    ready: READY,
    env: { FASTCHAT_LOG_LEVEL: "warn" },
  });
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

for (const kind of DB_KINDS) {
  Deno.test({
    name: `lb process (${kind}): ready line, tickets, status, key file reused`,
    async fn() {
      const db = await openTestDb(kind);
      const dir = await Deno.makeTempDir({ prefix: "fastchat-lb-" });
      const keyFile = `${dir}/keys/lb-key.json`;
      const sql = connectStore(db.url, { max: 1 });
      // fc-old is a minute dead: keep it in the registry (the default retention would forget it).
      const common = ["--db", db.url, "--key", keyFile, "--forget-after", "3600000"];
      // Fake servers count as live for 3.5 s after their last heartbeat, and a
      // process may take longer than that to start on a loaded machine: the
      // rows get a fresh heartbeat right before each use.
      const started: ManagedProcess[] = [];
      const heartbeat = async () => {
        await insertServer(sql, { id: "fc-a", port: 7901, clients: 3 });
        await insertServer(sql, { id: "fc-b", port: 7902, draining: true });
        await insertServer(sql, { id: "fc-old", port: 7903, ageMs: 60_000 });
      };
      try {
        const lb = await startLb([...common, "--algorithm", "least-connections"]);
        started.push(lb);
        await heartbeat();
        const [, id, host, port] = lb.match;
        expect(id).toBe(`lb-${port}`);
        const tk = await requestTicket({ host, port: Number(port) });
        expect(tk).toMatchObject({ server: "fc-a", port: 7901 });

        const info = await Deno.stat(keyFile);
        expect(info.mode! & 0o777).toBe(0o600);
        const keyId = JSON.parse(await Deno.readTextFile(keyFile)).keyId;
        expect((await sql`select key_id from lb_keys`).map((r) => r.key_id)).toEqual([keyId]);

        await heartbeat();
        const status = await run(["status", "--db", db.url]);
        expect(status.code).toBe(0);
        const lines = status.stdout.trim().split("\n");
        expect(lines[0]).toMatch(/^ID\s+ADDRESS\s+TLS\s+CLIENTS\s+AGE\s+STATE$/);
        expect(lines[1]).toMatch(/^fc-a\s+127\.0\.0\.1:7901\s+no\s+3\s+\S+s\s+live$/);
        expect(lines[2]).toMatch(/^fc-b\s+127\.0\.0\.1:7902\s+no\s+0\s+\S+s\s+draining$/);
        expect(lines[3]).toMatch(/^fc-old\s+127\.0\.0\.1:7903\s+no\s+0\s+1m\d\ds\s+dead$/);
        expect(lines[4]).toBe("2 live servers (1 accepting clients), 3 clients, 1 dead");

        expect((await lb.stop()).code).toBe(0); // SIGTERM: clean exit

        // Restart with the same key file: same key id, nothing new in lb_keys.
        const again = await startLb(common);
        started.push(again);
        await heartbeat();
        const tk2 = await requestTicket({ host: again.match[2], port: Number(again.match[3]) });
        expect(tk2.server).toBe("fc-a");
        expect(JSON.parse(await Deno.readTextFile(keyFile)).keyId).toBe(keyId);
        expect((await sql`select key_id from lb_keys`).map((r) => r.key_id)).toEqual([keyId]);
        again.kill("SIGINT");
        expect((await again.exited).code).toBe(0);
      } finally {
        // A failed expectation must not leave a load balancer running.
        for (const p of started) await p.stop();
        await sql.end();
        await db.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test("lb process: bad flags fail with INVALID_CONFIG, --help works", async () => {
  const bad = await run(["--algorithm", "fastest", "--db", "postgres://127.0.0.1:1/x"]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/fastchat lb: INVALID_CONFIG: unknown algorithm "fastest"/);
  const unknown = await run(["--bogus"]);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/INVALID_CONFIG/);
  const cmd = await run(["stats"]);
  expect(cmd.stderr).toMatch(/INVALID_CONFIG: unknown command: stats/);
  const help = await run(["--", "--help"]); // as `deno task lb -- --help` passes it
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/deno task lb -- status/);
});

Deno.test("lb process: status with no database reachable fails clearly", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const out = await run(["status", "--db", `postgres://postgres@127.0.0.1:${port}/x`]);
  expect(out.code).toBe(1);
  expect(out.stderr).toMatch(/STORE_UNAVAILABLE/);
});

Deno.test({
  name: "lb process: status only reads; on an empty database it says so",
  ignore: !TEST_PG_URL,
  async fn() {
    const admin = postgres(TEST_PG_URL!, { max: 1, onnotice: () => {} });
    const name = `fc_lb_empty_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    await admin.unsafe(`create database ${name}`);
    try {
      const u = new URL(TEST_PG_URL!);
      u.pathname = `/${name}`;
      const out = await run(["status", "--db", u.href]);
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/no chat servers registered.*no FastChat tables yet/);
      const sql = postgres(u.href, { max: 1, onnotice: () => {} });
      const tables = await sql`select table_name from information_schema.tables
        where table_schema = current_schema()`;
      await sql.end();
      expect(tables.length).toBe(0); // not migrated by status
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  },
});

Deno.test({
  name: "lb main: --metrics-port serves Prometheus counters",
  async fn() {
    const db = await EmbeddedDatabase.start({ port: 0 });
    const dir = await Deno.makeTempDir();
    const lb = await ManagedProcess.spawn({
      name: "lb",
      args: [
        "run",
        "-A",
        new URL("./main.ts", import.meta.url).pathname,
        "--port",
        "0",
        "--db",
        db.url,
        "--key",
        `${dir}/key.json`,
        "--metrics-port",
        "0",
      ],
      ready: READY,
    });
    try {
      const [, url] = await lb.waitForLine(/metrics on (\S+)/);
      const text = await (await fetch(url)).text();
      expect(text).toMatch(/^fastchat_lb_tickets_total\{lb="lb-\d+"\} 0$/m);
      expect(text).toContain("# TYPE fastchat_lb_connections gauge");
    } finally {
      await lb.stop();
      await db.close();
    }
  },
});

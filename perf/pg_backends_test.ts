import { expect } from "expect";
import postgres from "postgres";
import { backendClientPort, parseProcNetTcp, postgresBackendPids } from "./pg_backends.ts";

Deno.test("parseProcNetTcp: ports by inode, IPv4 and IPv6", () => {
  const head =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
  const v4 = head +
    "   0: 0100007F:D431 0100007F:1538 01 00000000:00000000 00:00000000 00000000     0        0 98765 1\n";
  const v6 = head +
    "   0: 00000000000000000000000001000000:1538 00000000000000000000000001000000:D432 01 00000000:00000000 00:00000000 00000000   0   0 4321 1\n";
  expect([...parseProcNetTcp(v4)]).toEqual([[98765, { localPort: 54321, remotePort: 5432 }]]);
  expect(parseProcNetTcp(v6).get(4321)).toEqual({ localPort: 5432, remotePort: 54322 });
});

Deno.test("backendClientPort: TCP backends only", () => {
  expect(backendClientPort("postgres: 15/main: postgres test 127.0.0.1(54321) idle")).toBe(54321);
  expect(backendClientPort("postgres: postgres test ::1(40000) SELECT")).toBe(40000);
  expect(backendClientPort("postgres: postgres test [local] idle")).toBeNull();
  expect(backendClientPort("postgres: 15/main: walwriter")).toBeNull();
  expect(backendClientPort("deno run 127.0.0.1(5)")).toBeNull();
});

const url = Deno.env.get("FASTCHAT_TEST_DATABASE_URL");

Deno.test({
  name: "postgresBackendPids: finds the backends of our own connections (PostgreSQL)",
  ignore: !url,
  async fn() {
    const sql = postgres(url!, { max: 2, onnotice: () => {} });
    try {
      const [a, b] = await Promise.all([
        sql`select pg_backend_pid() as pid, pg_sleep(0.05)`,
        sql`select pg_backend_pid() as pid, pg_sleep(0.05)`,
      ]);
      const mine = [a[0].pid, b[0].pid].sort((x, y) => x - y);
      const found = await postgresBackendPids([Deno.pid], Number(new URL(url!).port || 5432));
      expect(found).toEqual([...new Set(mine)]);
      expect(await postgresBackendPids([2 ** 30], 5432)).toEqual([]);
    } finally {
      await sql.end();
    }
  },
});

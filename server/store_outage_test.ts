/**
 * A database outage as a user meets it: the embedded database and a chat
 * server as real processes, a client on loopback. A message to a user the
 * server has not looked up yet, sent while the database is down, must not be
 * refused as `INTERNAL` and dropped: it is sent once the database is back and
 * its recipient gets it exactly once.
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { embeddedDatabaseUrl } from "@fastchat/db/credentials";
import { DB_READY } from "@fastchat/lib/cluster/ready_lines";
import { ManagedProcess } from "@fastchat/lib/managed_process";
import { EventLog, startServerProcess } from "@fastchat/testing";
import { ChatClient, type ClientEvent } from "../client/chat_client.ts";
import { isStoreOutage, storeUnavailable } from "./store_outage.ts";

const DB_MAIN = fileURLToPath(import.meta.resolve("@fastchat/db/main"));
const KDF = 100_000;

Deno.test("isStoreOutage: connection errors and outage SQLSTATEs only", () => {
  const withCode = (code: string) => Object.assign(new Error("x"), { code });
  for (const code of ["ECONNREFUSED", "CONNECTION_CLOSED", "CONNECT_TIMEOUT", "57P01", "08006"]) {
    expect(isStoreOutage(withCode(code))).toBe(true);
  }
  for (const code of ["23505", "22P02", "42P01", "ENOENT"]) {
    expect(isStoreOutage(withCode(code))).toBe(false);
  }
  expect(isStoreOutage(new TypeError("bug"))).toBe(false);
  expect(isStoreOutage(null)).toBe(false);
  const err = storeUnavailable(new Error("connect ECONNREFUSED 127.0.0.1:7432 postgres://secret"));
  expect(err.code).toBe("STORE_UNAVAILABLE");
  expect(err.details?.retryMs).toBeGreaterThan(0);
  expect(err.message).not.toContain("127.0.0.1");
});

function startDb(dataDir: string, port: number): Promise<ManagedProcess> {
  return ManagedProcess.spawn({
    name: "db",
    args: ["run", "-A", DB_MAIN, "--port", String(port), "--data", dataDir],
    ready: DB_READY,
  });
}

Deno.test("a message sent while the database is down is sent when it is back, not dropped", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fastchat-outage-db-" });
  const home = await Deno.makeTempDir({ prefix: "fastchat-outage-home-" });
  let db = await startDb(dataDir, 0);
  const listenUrl = db.match[1];
  const port = Number(new URL(listenUrl).port);
  const url = await embeddedDatabaseUrl(listenUrl, dataDir);
  const clients: ChatClient[] = [];
  const servers: ManagedProcess[] = [];
  const open = (serverPort: number, log: EventLog<ClientEvent>) => {
    const c = new ChatClient({
      server: { host: "127.0.0.1", port: serverPort },
      homeRoot: home,
      kdfIterations: KDF,
      onEvent: log.push,
    });
    clients.push(c);
    return c;
  };
  try {
    // alice knows bob (his keys are pinned in her home) from a first server.
    const first = await startServerProcess(url);
    servers.push(first.proc);
    const bobLog = new EventLog<ClientEvent>();
    const bob = open(first.port, bobLog);
    await bob.register("bob", "bob-password-1");
    const aliceLog = new EventLog<ClientEvent>();
    const alice = open(first.port, aliceLog);
    await alice.register("alice", "alice-password-1");
    const hello = await alice.send("bob", "hello");
    await aliceLog.waitFor((e) => e.event === "delivered" && e.id === hello);
    await bob.close();
    await alice.close();
    await first.proc.stop();

    // A fresh server has not looked bob up; alice logs in there, then the database dies.
    const second = await startServerProcess(url);
    servers.push(second.proc);
    const alice2Log = new EventLog<ClientEvent>();
    const alice2 = open(second.port, alice2Log);
    await alice2.login("alice", "alice-password-1");
    db.kill("SIGKILL");
    await db.exited;
    const id = await alice2.send("bob", "while the database is down");
    // Refused for now (the lookup of bob needs the database): typed, and kept to send again.
    const refusal = await second.proc.waitForLine(/"event":"request_\w+","t":"send"/, "stderr");
    expect(refusal[0]).toContain("request_store_unavailable"); // not request_failed (INTERNAL)
    db = await startDb(dataDir, port);
    await alice2Log.waitFor((e) => e.event === "sent" && e.id === id, 60_000);
    expect(alice2Log.events.filter((e) => e.event === "error")).toEqual([]);

    const bob2Log = new EventLog<ClientEvent>();
    const bob2 = open(second.port, bob2Log);
    await bob2.login("bob", "bob-password-1");
    await bob2Log.waitFor((e) => e.event === "message" && e.id === id);
    await alice2.idle();
    await bob2.close();
    await alice2.close();
    const got = bob2Log.events.filter((e) => e.event === "message" && e.id === id);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ from: "alice", text: "while the database is down" });
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    for (const s of servers) await s.stop();
    await db.stop();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(home, { recursive: true });
  }
});

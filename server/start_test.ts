/**
 * What users run: `deno task start --servers 3` as a real process tree
 * (embedded database, three servers, load balancer). A server killed with
 * SIGKILL must not end the deployment: its clients reconnect to the other
 * servers within 5 s, every message sent around the kill arrives exactly
 * once, the supervisor restarts the server and the load balancer hands out
 * tickets for it again; Ctrl-C still stops every process.
 *
 * `FASTCHAT_START_ECHO=1` echoes the deployment's output.
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { ChatClient, type ClientEvent, viaLoadBalancer } from "@fastchat/client";
import { requestTicket } from "@fastchat/client/lb_client";
import { ManagedProcess } from "@fastchat/lib/managed_process";
import { EventLog } from "./test_support.ts";

type Ev<K extends ClientEvent["event"]> = Extract<ClientEvent, { event: K }>;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT"); // a harmless signal: throws once the process is gone
    return true;
  } catch {
    return false;
  }
}

interface Peer {
  user: string;
  client: ChatClient;
  log: EventLog<ClientEvent>;
}

Deno.test({
  name: "deno task start: kill -9 of a server; clients fail over, nothing is lost, it rejoins",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const data = await Deno.makeTempDir({ prefix: "fastchat-start-" });
    const home = await Deno.makeTempDir({ prefix: "fastchat-start-home-" });
    const lb = { host: "127.0.0.1", port: freePort() };
    const start = await ManagedProcess.spawn({
      name: "start",
      args: [
        "run",
        "-A",
        fileURLToPath(new URL("./start.ts", import.meta.url)),
        "--servers",
        "3",
        "--port",
        String(lb.port),
        "--db-port",
        String(freePort()),
        "--data",
        data,
      ],
      ready: /FastChat is running/,
      echo: Deno.env.get("FASTCHAT_START_ECHO") === "1",
      timeoutMs: 120_000,
    });
    const peers: Peer[] = [];
    try {
      const servers = new Map<string, number>(); // id → pid
      for (let i = 0; i < 3; i++) {
        const m = await start.waitForLine(new RegExp(`^  server (\\S+) at \\S+ \\(pid (\\d+)\\)`));
        const lines = start.stdout.filter((l) => /^ {2}server \S+ at \S+ \(pid \d+\)/.test(l));
        for (const l of lines) {
          const [, id, pid] = l.match(/^ {2}server (\S+) at \S+ \(pid (\d+)\)/)!;
          servers.set(id, Number(pid));
        }
        if (servers.size === 3) break;
        expect(m).toBeTruthy();
      }
      expect(servers.size).toBe(3);

      for (const user of ["ann", "ben", "cat", "dan", "eve", "fay"]) {
        const log = new EventLog<ClientEvent>();
        const client = new ChatClient({
          server: viaLoadBalancer(lb),
          homeRoot: home,
          kdfIterations: 100_000,
          onEvent: log.push,
        });
        await client.register(user, `${user}-password-1`);
        peers.push({ user, client, log });
      }
      const on = (p: Peer) => p.client.whoami().server!;
      // Round robin puts two on each server: kill the server of the first client.
      const victimId = on(peers[0]);
      const affected = peers.filter((p) => on(p) === victimId);
      const recipient = affected[0];
      const sender = peers.find((p) => on(p) !== victimId)!;

      const ids: string[] = [];
      const mine = new Set<string>();
      const isSent = (e: ClientEvent) => e.event === "sent" && mine.has(e.id);
      let streaming = true;
      const stream = (async () => {
        for (let i = 0; streaming; i++) {
          const id = await sender.client.send(recipient.user, `through the crash ${i}`);
          ids.push(id);
          mine.add(id);
          await new Promise((r) => setTimeout(r, 5)); // paces the stream; waits for nothing
        }
      })();
      let reconnectMs: number[] = [];
      try {
        await sender.log.waitForCount(isSent, 20, 30_000);
        const restarted = start.waitForLine(/supervisor \| server-\d+ restarted \(pid (\d+)\)/);
        const killedAt = performance.now();
        Deno.kill(servers.get(victimId)!, "SIGKILL");
        reconnectMs = await Promise.all(affected.map(async (p) => {
          const r = await p.log.waitFor((e) => e.event === "reconnected", 30_000) as Ev<
            "reconnected"
          >;
          expect(r.server).not.toBe(victimId);
          return performance.now() - killedAt;
        }));
        console.log(`reconnected after ${reconnectMs.map((ms) => ms.toFixed(0)).join(", ")} ms`);
        for (const ms of reconnectMs) expect(ms).toBeLessThan(5_000);
        const confirmed = sender.log.events.filter(isSent).length;
        await sender.log.waitForCount(isSent, confirmed + 20, 30_000);

        // The supervisor restarted the server; it registers under a new id and rejoins.
        const newPid = Number((await restarted)[1]);
        expect(alive(newPid)).toBe(true);
        const [, newId] = await start.waitForLine(
          new RegExp(`^server-\\d+ \\| FastChat server (\\S+) listening on`),
        ).then(() => {
          const lines = start.stdout.filter((l) => /\| FastChat server \S+ listening on/.test(l));
          return lines.at(-1)!.match(/FastChat server (\S+) listening/)!;
        });
        expect([...servers.keys()]).not.toContain(newId);
        let handedOut = false;
        for (let i = 0; i < 40 && !handedOut; i++) {
          handedOut = (await requestTicket(lb)).server === newId;
          if (!handedOut) await new Promise((r) => setTimeout(r, 100)); // liveness is polled
        }
        expect(handedOut).toBe(true);
      } finally {
        streaming = false;
        await stream;
      }
      // Every message is confirmed and received exactly once.
      await sender.log.waitForCount(isSent, ids.length, 30_000);
      const got = await recipient.log.waitForCount(
        (e) => e.event === "message" && mine.has(e.id),
        ids.length,
        30_000,
      );
      expect(new Set(got.map((e) => (e as Ev<"message">).id)).size).toBe(ids.length);
      expect(got.length).toBe(ids.length);
      expect(sender.log.events.filter((e) => e.event === "error")).toEqual([]);
    } finally {
      await Promise.all(peers.map((p) => p.client.close()));
      const pids = start.stdout.flatMap((l) => {
        const m = l.match(/\(pid (\d+)\)/);
        return m ? [Number(m[1])] : [];
      });
      start.kill("SIGINT");
      const status = await start.exited;
      expect(status.code).toBe(0);
      // Ctrl-C stopped every process of the deployment.
      for (const pid of pids) expect({ pid, alive: alive(pid) }).toEqual({ pid, alive: false });
      await Deno.remove(data, { recursive: true });
      await Deno.remove(home, { recursive: true });
    }
  },
});

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
import { waitUntil } from "@fastchat/lib/wait_until";
import { EventLog, freePorts, processAlive } from "@fastchat/testing";

type Ev<K extends ClientEvent["event"]> = Extract<ClientEvent, { event: K }>;

/** `deno task start` with `servers` servers, its LB on `lbPort`, its files in `data`. */
function spawnStart(servers: number, lbPort: number, data: string): Promise<ManagedProcess> {
  const start = fileURLToPath(new URL("./start.ts", import.meta.url));
  return ManagedProcess.spawn({
    name: "start",
    args: ["run", "-A", start, "--servers", String(servers), "--port", String(lbPort)]
      .concat(["--db-port", String(freePorts()), "--data", data]),
    ready: /FastChat is running/,
    echo: Deno.env.get("FASTCHAT_START_ECHO") === "1",
    timeoutMs: 120_000,
  });
}

interface Peer {
  user: string;
  client: ChatClient;
  log: EventLog<ClientEvent>;
}

/** Sends numbered messages from `from` to `to` until `stop()`; `ids` are all sent. */
function streamMessages(from: Peer, to: Peer) {
  const ids: string[] = [];
  const mine = new Set<string>();
  let streaming = true;
  const done = (async () => {
    for (let i = 0; streaming; i++) {
      const id = await from.client.send(to.user, `through the crash ${i}`);
      ids.push(id);
      mine.add(id);
      await new Promise((r) => setTimeout(r, 5)); // paces the stream; waits for nothing
    }
  })();
  return {
    from,
    to,
    ids,
    mine,
    isSent: (e: ClientEvent) => e.event === "sent" && mine.has(e.id),
    stop: () => {
      streaming = false;
      return done;
    },
  };
}

Deno.test({
  name: "deno task start: kill -9 of a server; clients fail over, nothing is lost, it rejoins",
  async fn() {
    const data = await Deno.makeTempDir({ prefix: "fastchat-start-" });
    const home = await Deno.makeTempDir({ prefix: "fastchat-start-home-" });
    const lb = { host: "127.0.0.1", port: freePorts() };
    const start = await spawnStart(3, lb.port, data);
    const peers: Peer[] = [];
    try {
      // The summary ends with "Connect with:"; each server line has its id and pid.
      await start.waitForLine(/^Connect with:/);
      const servers = new Map<string, number>(); // id → pid
      for (const l of start.stdout) {
        const m = l.match(/^ {2}server (\S+) at \S+ \(pid (\d+)\)/);
        if (m) servers.set(m[1], Number(m[2]));
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
      expect(affected.length).toBe(2);
      const bystander = peers.find((p) => on(p) !== victimId)!;

      // Two streams through the crash: into a client of the victim, and out of one.
      const streams = [
        streamMessages(bystander, affected[0]),
        streamMessages(affected[1], bystander),
      ];
      try {
        for (const s of streams) await s.from.log.waitForCount(s.isSent, 20, 30_000);
        const restarted = start.waitForLine(
          /supervisor \| server-\d+ restarted \(pid (\d+)\): FastChat server (\S+) listening/,
        );
        const killedAt = performance.now();
        Deno.kill(servers.get(victimId)!, "SIGKILL");
        const reconnectMs = await Promise.all(affected.map(async (p) => {
          const r = await p.log.waitFor((e) => e.event === "reconnected", 30_000) as Ev<
            "reconnected"
          >;
          expect(r.server).not.toBe(victimId);
          return performance.now() - killedAt;
        }));
        console.log(`reconnected after ${reconnectMs.map((ms) => ms.toFixed(0)).join(", ")} ms`);
        for (const ms of reconnectMs) expect(ms).toBeLessThan(5_000);
        for (const s of streams) {
          const confirmed = s.from.log.events.filter(s.isSent).length;
          await s.from.log.waitForCount(s.isSent, confirmed + 20, 30_000);
        }

        // The supervisor restarted the server; it registers under a new id and rejoins.
        const [, newPid, newId] = await restarted;
        expect(processAlive(Number(newPid))).toBe(true);
        expect([...servers.keys()]).not.toContain(newId);
        let handedOut = false;
        for (let i = 0; i < 50 && !handedOut; i++) {
          handedOut = (await requestTicket(lb)).server === newId;
          if (!handedOut) await new Promise((r) => setTimeout(r, 100)); // the LB polls liveness
        }
        expect(handedOut).toBe(true);
      } finally {
        for (const s of streams) await s.stop();
      }
      // Every message is confirmed and received exactly once.
      for (const s of streams) {
        await s.from.log.waitForCount(s.isSent, s.ids.length, 30_000);
        const got = await s.to.log.waitForCount(
          (e) => e.event === "message" && s.mine.has(e.id),
          s.ids.length,
          30_000,
        );
        expect(new Set(got.map((e) => (e as Ev<"message">).id)).size).toBe(s.ids.length);
        expect(got.length).toBe(s.ids.length);
        expect(s.from.log.events.filter((e) => e.event === "error")).toEqual([]);
      }

      await Promise.all(peers.map((p) => p.client.close()));
      const pids = start.stdout.flatMap((l) => {
        const m = l.match(/\(pid (\d+)\)/);
        return m ? [Number(m[1])] : [];
      });
      expect(pids.length).toBe(6); // db, lb, three servers, the restarted one
      if (Deno.build.os === "linux") {
        // No database URL or password on any command line (other users can read them).
        const password = (await Deno.readTextFile(`${data}/pglite/.fastchat-db-password`)).trim();
        for (const pid of pids.filter(processAlive)) {
          const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
          expect({ pid, url: cmdline.includes("postgres://") }).toEqual({ pid, url: false });
          expect({ pid, password: cmdline.includes(password) }).toEqual({ pid, password: false });
        }
      }
      // Ctrl-C stops every process of the deployment.
      start.kill("SIGINT");
      expect((await start.exited).code).toBe(0);
      for (const pid of pids) {
        expect({ pid, alive: processAlive(pid) }).toEqual({ pid, alive: false });
      }
    } finally {
      await Promise.all(peers.map((p) => p.client.close()));
      if (!start.done) {
        start.kill("SIGINT"); // on failure too: start.ts stops its children
        await start.exited;
      }
      await Deno.remove(data, { recursive: true });
      await Deno.remove(home, { recursive: true });
    }
  },
});

/** Alive and not a zombie (an orphan's exit is reaped by init, maybe not at once). */
function running(pid: number): boolean {
  if (!processAlive(pid)) return false;
  if (Deno.build.os !== "linux") return true;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false; // gone between the two looks
  }
}

for (const signal of ["SIGKILL", "SIGHUP"] as const) {
  Deno.test({
    name: `deno task start: after ${signal} of the supervisor no process of it lives on`,
    ignore: Deno.build.os === "windows",
    async fn() {
      const data = await Deno.makeTempDir({ prefix: "fastchat-start-" });
      const start = await spawnStart(1, freePorts(), data);
      try {
        await start.waitForLine(/^Connect with:/);
        const pids = start.stdout.flatMap((l) => {
          const m = l.match(/^ {2}(?:db|lb|server) .*\(pid (\d+)\)$/);
          return m ? [Number(m[1])] : [];
        });
        expect(pids.length).toBe(3); // database, load balancer, server
        start.kill(signal); // SIGKILL: no handler runs; SIGHUP: the terminal closed
        const status = await start.exited;
        if (signal === "SIGHUP") expect(status.code).toBe(0); // stopped in order
        // The children see their lifeline end (or were stopped) and exit.
        await waitUntil(
          () => pids.every((pid) => !running(pid)),
          30_000,
          () => `the deployment's processes to exit (alive: ${pids.filter(running).join(", ")})`,
        );
      } finally {
        if (!start.done) {
          start.kill("SIGKILL");
          await start.exited;
        }
        await Deno.remove(data, { recursive: true });
      }
    },
  });
}

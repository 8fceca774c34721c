/**
 * Separate hosts: the embedded database, the load balancer, two chat
 * servers and the clients each run in their own network namespace with
 * their own address (testing/netns.ts), so nothing works by loopback. The
 * servers listen on every interface and publish their host's address with
 * `--advertise` (loopback, the default for a bind-all host, is down here).
 *
 * Alice lands on one server and Bob on the other. Then alice's server host
 * loses its link (not a kill: its TCP connections stall, nothing is reset):
 * alice's client notices the silence, moves to the other server and resumes;
 * what she and bob sent meanwhile is queued and then flows. The link comes
 * back, the old server rejoins, and messages keep flowing both ways. Every
 * message confirmed to its sender (`sent`) is shown to its receiver exactly
 * once, and none is lost.
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { ManagedProcess } from "@fastchat/lib/managed_process";
import { SERVER_V8_FLAGS } from "@fastchat/lib/runtime_flags";
import { DB_READY, LB_READY, SERVER_READY } from "@fastchat/lib/cluster/ready_lines";
import { waitUntil } from "@fastchat/lib/wait_until";
import type { ClientEvent } from "@fastchat/client/events";
import { EventLog, NetLab, netLabUnavailable } from "@fastchat/testing";

const unavailable = await netLabUnavailable();
if (unavailable) console.error(`separate-hosts test skipped: ${unavailable}`);

const main = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
const DB_MAIN = main("../db/main.ts");
const SERVER_MAIN = main("./main.ts");
const LB_MAIN = main("../lb/main.ts");
const CLIENT_MAIN = main("../client/main.ts");

/** Every process listens on the same ports: each host has its own port space. */
const PORTS = { db: 7432, server: 7701, lb: 7700 };
/** The client pings a quiet server every second: a dead link shows in 2–3 s. */
const PING_MS = 1000;

/** `client/main.ts --json` in the clients' namespace, driven through stdin. */
class ClientProcess {
  readonly log = new EventLog<ClientEvent>();
  readonly stderr: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reading: Promise<unknown>;

  /** `target`: `["--lb", "host:port"]` or `["--server", "host:port"]`. */
  constructor(lab: NetLab, target: string[], home: string) {
    this.#child = lab.command("cl", [
      Deno.execPath(),
      ...["run", "-A", CLIENT_MAIN, ...target, "--home", home, "--json"],
      ...["--ping-ms", String(PING_MS), "--kdf-iterations", "100000"],
    ], { env: { NO_COLOR: "1" }, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    const lines = async (s: ReadableStream<Uint8Array>, each: (l: string) => void) => {
      let partial = "";
      for await (const text of s.pipeThrough(new TextDecoderStream())) {
        const ls = (partial + text).split("\n");
        partial = ls.pop()!;
        ls.forEach(each);
      }
    };
    this.#reading = Promise.all([
      lines(this.#child.stdout, (l) => l.startsWith("{") && this.log.push(JSON.parse(l))),
      lines(this.#child.stderr, (l) => this.stderr.push(l)),
    ]);
  }

  async type(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(line + "\n"));
  }

  /** Types `/quit` (which waits for unconfirmed messages) and waits for the exit. */
  async quit(): Promise<Deno.CommandStatus> {
    await this.type("/quit");
    await this.#stdin.close();
    const status = await this.#child.status;
    await this.#reading;
    return status;
  }

  async kill(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // It exited already (quit): nothing to stop.
    }
    await this.#child.status;
    await this.#reading;
    await this.#stdin.close().catch(() => {}); // closed by quit(), or died with the process
  }
}

/** Starts `script` on lab host `host` and waits for its ready line. */
function spawnIn(
  lab: NetLab,
  host: string,
  name: string,
  args: string[],
  ready: RegExp,
  env: Record<string, string>,
): Promise<ManagedProcess> {
  return ManagedProcess.spawn({
    name,
    command: "ip",
    args: lab.execArgs(host, [Deno.execPath(), ...args]),
    ready,
    env,
    timeoutMs: 30_000,
  });
}

/** How many `peer_link_up` log lines of `proc` name `peer`. */
function linksUp(proc: ManagedProcess, peer: string): number {
  return proc.stderr.filter((l) => l.includes('"peer_link_up"') && l.includes(`"${peer}"`))
    .length;
}

Deno.test({
  name:
    "separate hosts: a server host's link is cut and restored; its clients move, nothing acknowledged is lost or shown twice",
  ignore: unavailable !== null,
  async fn() {
    const lab = await NetLab.create(["db", "lb", "s1", "s2", "cl"]);
    const home = await Deno.makeTempDir({ prefix: "fastchat-netns-" });
    const procs: ManagedProcess[] = [];
    const clients: ClientProcess[] = [];
    try {
      const addr = (h: string) => lab.host(h).address;
      const password = crypto.randomUUID();
      procs.push(
        await spawnIn(
          lab,
          "db",
          "db",
          ["run", "-A", DB_MAIN, "--memory", "--host", addr("db"), "--port", String(PORTS.db)],
          DB_READY,
          { FASTCHAT_DB_PASSWORD: password },
        ),
      );
      const dbUrl = `postgres://postgres:${password}@${addr("db")}:${PORTS.db}/postgres`;
      const startServer = (host: string, id: string) =>
        spawnIn(
          lab,
          host,
          id,
          [
            ...["run", "-A", SERVER_V8_FLAGS, SERVER_MAIN, "--id", id, "--scrypt-n", "1024"],
            ...["--host", "0.0.0.0", "--port", String(PORTS.server)],
            ...["--advertise", `${addr(host)}:${PORTS.server}`],
          ],
          SERVER_READY,
          { DATABASE_URL: dbUrl },
        );
      // The first applies the migrations; then the other server and the LB.
      // (Should a start fail, lab.close() stops what runs in the namespaces.)
      const s1 = await startServer("s1", "fc-a");
      procs.push(s1);
      const [s2, lbProc] = await Promise.all([
        startServer("s2", "fc-b"),
        spawnIn(
          lab,
          "lb",
          "lb",
          [
            ...["run", "-A", LB_MAIN, "--host", addr("lb"), "--port", String(PORTS.lb)],
            ...["--algorithm", "round-robin", "--key", `${home}/lb-key.json`],
          ],
          LB_READY,
          { DATABASE_URL: dbUrl },
        ),
      ]);
      procs.push(s2, lbProc);
      await waitUntil(
        () => linksUp(s1, "fc-b") >= 1 && linksUp(s2, "fc-a") >= 1,
        20_000,
        "the servers to link up",
      );
      const lb = `${addr("lb")}:${PORTS.lb}`;

      // Round-robin over fc-a, fc-b: alice gets one server, bob the other.
      const alice = new ClientProcess(lab, ["--lb", lb], home);
      clients.push(alice);
      await alice.type("/register alice alice-password-1");
      const aliceReady = await alice.log.waitFor((e) => e.event === "ready", 30_000);
      const bob = new ClientProcess(lab, ["--lb", lb], home);
      clients.push(bob);
      await bob.type("/register bob bob-password-1");
      const bobReady = await bob.log.waitFor((e) => e.event === "ready", 30_000);
      if (aliceReady.event !== "ready" || bobReady.event !== "ready") {
        throw new Error("unreachable");
      }
      expect(aliceReady.server).not.toBe(bobReady.server);
      // Clients were handed the advertised addresses, not loopback or 0.0.0.0.
      expect([aliceReady.address, bobReady.address].sort()).toEqual(
        [`${addr("s1")}:${PORTS.server}`, `${addr("s2")}:${PORTS.server}`].sort(),
      );
      const aliceHost = aliceReady.server === "fc-a" ? "s1" : "s2";
      const otherServer = aliceHost === "s1" ? s2 : s1;

      /** Every /msg typed: from, to, text. */
      const typed: { from: string; to: string; text: string }[] = [];
      const users = new Map([["alice", alice], ["bob", bob]]);
      const say = async (from: string, to: string, text: string) => {
        typed.push({ from, to, text });
        await users.get(from)!.type(`/msg ${to} ${text}`);
      };
      /** Waits until every message typed so far is confirmed and shown. */
      const flowed = async () => {
        for (const [name, c] of users) {
          const mine = typed.filter((m) => m.from === name).length;
          await c.log.waitForCount((e) => e.event === "sent", mine, 30_000);
          const theirs = typed.filter((m) => m.to === name).length;
          await c.log.waitForCount((e) => e.event === "message", theirs, 30_000);
        }
      };

      await say("alice", "bob", "a1-before-the-cut");
      await say("bob", "alice", "b1-before-the-cut");
      await flowed();

      // Alice's server host loses its link: her client hears nothing more.
      await lab.cutLink(aliceHost);
      await say("alice", "bob", "a2-during-the-cut");
      await say("bob", "alice", "b2-during-the-cut");
      await say("alice", "bob", "a3-during-the-cut");
      await say("bob", "alice", "b3-during-the-cut");
      const disconnected = await alice.log.waitFor((e) => e.event === "disconnected", 20_000);
      expect(disconnected).toMatchObject({ code: "TIMEOUT" });
      const moved = await alice.log.waitFor((e) => e.event === "reconnected", 30_000);
      expect(moved).toMatchObject({ server: bobReady.server });
      await flowed();
      await say("alice", "bob", "a4-after-failover");
      await say("bob", "alice", "b4-after-failover");
      await flowed();

      // The link comes back: the old server rejoins the mesh.
      const aliceServerId = aliceReady.server;
      const otherId = bobReady.server;
      // (Its own link to the other server may well survive the cut: TCP
      // waits; the other server dropped its link when the registry showed
      // the cut server dead, and dials it again once it is live.)
      const upBefore = linksUp(otherServer, aliceServerId);
      await lab.restoreLink(aliceHost);
      await waitUntil(
        () => linksUp(otherServer, aliceServerId) > upBefore,
        30_000,
        `${otherId} to link to ${aliceServerId} again`,
      );
      await say("alice", "bob", "a5-after-restore");
      await say("bob", "alice", "b5-after-restore");
      await flowed();
      // The restored server serves again, and talks to its peer both ways
      // (carol dials it directly: no LB choice involved).
      const carol = new ClientProcess(
        lab,
        ["--server", `${addr(aliceHost)}:${PORTS.server}`],
        home,
      );
      clients.push(carol);
      users.set("carol", carol);
      await carol.type("/register carol carol-password-1");
      expect(await carol.log.waitFor((e) => e.event === "ready", 30_000)).toMatchObject({
        server: aliceServerId,
      });
      await say("carol", "alice", "c1-to-alice");
      await say("carol", "bob", "c2-to-bob");
      await say("alice", "carol", "a6-to-carol");
      await say("bob", "carol", "b6-to-carol");
      await flowed();

      for (const c of users.values()) expect(await c.quit()).toMatchObject({ code: 0 });
      // Every message confirmed once, and shown once each to its recipient:
      // the same ids, the same texts.
      for (const [name, c] of users) {
        const confirmed = c.log.events.flatMap((e) => e.event === "sent" ? [e.id] : []);
        expect(new Set(confirmed).size).toBe(typed.filter((m) => m.from === name).length);
        const shownIds = [...users.values()].flatMap((r) =>
          r.log.events.flatMap((e) => e.event === "message" && e.from === name ? [e.id] : [])
        );
        expect(shownIds.sort()).toEqual(confirmed.sort());
        const shown = c.log.events.flatMap((e) =>
          e.event === "message" ? [`${e.from}: ${e.text}`] : []
        );
        expect(shown.sort()).toEqual(
          typed.filter((m) => m.to === name).map((m) => `${m.from}: ${m.text}`).sort(),
        );
      }
    } catch (e) {
      for (const c of clients) console.error(c.stderr.slice(-20).join("\n"));
      for (const p of procs) console.error(`--- ${p.name}\n${p.stderr.slice(-30).join("\n")}`);
      throw e;
    } finally {
      for (const c of clients) await c.kill();
      for (const p of procs.reverse()) await p.stop(5_000);
      await lab.close();
      await Deno.remove(home, { recursive: true });
    }
  },
});

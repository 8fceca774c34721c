/**
 * TLS end to end: a real chat server process serving TLS with the test
 * certificate in `testdata/tls/` (see its README), clients that trust the
 * test CA, and clients that must fail clearly: plain TCP against the TLS
 * port, and TLS without trusting the CA. Through a load balancer, the
 * registry says the server speaks TLS and the client dials it so.
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { ChatClient, type ClientEvent } from "@fastchat/client";
import { requestTicket, viaLoadBalancer } from "@fastchat/client/lb_client";
import { FastChatError } from "@fastchat/lib/errors";
import {
  DB_KINDS,
  EventLog,
  openTestDb,
  type ServerProcess,
  startServerProcess,
  type TestDb,
  withLoadBalancer,
} from "@fastchat/testing";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLIENT_MAIN = fileURLToPath(new URL("../client/main.ts", import.meta.url));
const TLS_DIR = fileURLToPath(new URL("./testdata/tls/", import.meta.url));
const CA_FILE = `${TLS_DIR}ca.pem`;
const CERT_FILE = `${TLS_DIR}server.pem`;
const KEY_FILE = `${TLS_DIR}server-key.pem`;
const KDF = 100_000;

/** What a failed connect may report: all say "could not talk to the server". */
const CONNECT_ERROR_CODE = /^(CONNECT_FAILED|TIMEOUT|CONNECTION_CLOSED)$/;

function startTlsServer(dbUrl: string): Promise<ServerProcess> {
  return startServerProcess(dbUrl, { args: ["--tls-cert", CERT_FILE, "--tls-key", KEY_FILE] });
}

/** A `client/main.ts --json` process fed through stdin; waits fail fast when it exits. */
class JsonCli {
  readonly events: ClientEvent[] = [];
  readonly stderr: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #done: Promise<void>;
  readonly #waiters = new Set<() => void>();
  #ended = false;

  constructor(args: string[]) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLIENT_MAIN, "--json", "--kdf-iterations", String(KDF), ...args],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#done = Promise.all([
      this.#lines(this.#child.stdout, (l) => {
        try {
          if (l.startsWith("{")) this.events.push(JSON.parse(l));
        } catch { /* not an event */ }
      }),
      this.#lines(this.#child.stderr, (l) => this.stderr.push(l)),
    ]).then(() => {
      this.#ended = true;
    }).finally(() => this.#wake());
  }

  async #lines(stream: ReadableStream<Uint8Array>, onLine: (l: string) => void): Promise<void> {
    let partial = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (partial + text).split("\n");
      partial = parts.pop()!;
      for (const l of parts) {
        onLine(l);
        this.#wake();
      }
    }
    if (partial !== "") onLine(partial);
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  async send(...lines: string[]): Promise<void> {
    const bytes = new TextEncoder().encode(lines.map((l) => l + "\n").join(""));
    // A process that died is reported, with its stderr, by the next wait.
    await this.#stdin.write(bytes).catch(() => {});
  }

  waitFor(pred: (e: ClientEvent) => boolean): Promise<ClientEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.events.find(pred);
        if (hit || this.#ended) {
          this.#waiters.delete(check);
          clearTimeout(timer);
          if (hit) resolve(hit);
          else {
            reject(
              new Error(
                `client exited before an event matching ${pred}; events: ${
                  JSON.stringify(this.events)
                }; stderr:\n${this.stderr.join("\n")}`,
              ),
            );
          }
        }
      };
      // Safety net only: a healthy run resolves on output long before.
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no event matching ${pred}; events: ${JSON.stringify(this.events)}`));
      }, 60_000);
      this.#waiters.add(check);
      check();
    });
  }

  async exit(): Promise<number> {
    await this.#stdin.close().catch(() => {});
    const [status] = await Promise.all([this.#child.status, this.#done]);
    return status.code;
  }

  async kill(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* exited */ }
    await this.exit().catch(() => {});
  }
}

for (const kind of DB_KINDS) {
  Deno.test({
    name: `tls (${kind}): clients trusting the test CA chat over TLS; the CLI with --tls --ca`,
    async fn(t) {
      const caPem = await Deno.readTextFile(CA_FILE);
      const db = await openTestDb(kind);
      const server = await startTlsServer(db.url);
      const target = { host: server.host, port: server.port };
      const homes = [await Deno.makeTempDir(), await Deno.makeTempDir(), await Deno.makeTempDir()];
      const logA = new EventLog<ClientEvent>();
      const logB = new EventLog<ClientEvent>();
      const tls = { caCerts: [caPem] };
      const alice = new ChatClient({
        server: target,
        tls,
        homeRoot: homes[0],
        kdfIterations: KDF,
        onEvent: logA.push,
      });
      const bob = new ChatClient({
        server: target,
        tls,
        homeRoot: homes[1],
        kdfIterations: KDF,
        onEvent: logB.push,
      });
      let cli: JsonCli | undefined;
      try {
        await t.step("register and exchange messages with receipts over TLS", async () => {
          await alice.register("alice", "alice-password-1");
          await bob.register("bob", "bob-password-1");
          expect(alice.whoami()).toEqual({
            user: "alice",
            server: server.id,
            address: `${server.host}:${server.port}`,
          });
          const id = await alice.send("bob", "hello over tls");
          const m = await logB.waitFor((e) => e.event === "message" && e.text === "hello over tls");
          expect(m).toMatchObject({ id, from: "alice", to: "bob" });
          await logA.waitFor((e) => e.event === "sent" && e.id === id);
          await logA.waitFor((e) => e.event === "delivered" && e.id === id && e.to === "bob");
          await bob.send("alice", "and back");
          await logA.waitFor((e) => e.event === "message" && e.text === "and back");
          expect(await bob.verify("alice")).toBe(await alice.verify("bob"));
        });

        await t.step("client/main.ts --tls --ca connects and chats", async () => {
          cli = new JsonCli([
            "--server",
            `${server.host}:${server.port}`,
            "--home",
            homes[2],
            "--tls",
            "--ca",
            CA_FILE,
          ]);
          await cli.send("/register carol carol-password-1");
          expect(await cli.waitFor((e) => e.event === "ready")).toEqual({
            event: "ready",
            user: "carol",
            server: server.id,
            address: `${server.host}:${server.port}`,
          });
          await cli.send("/msg alice hi from the tls cli");
          const m = await logA.waitFor((e) =>
            e.event === "message" && e.text === "hi from the tls cli"
          );
          expect(m).toMatchObject({ from: "carol", to: "alice" });
          await cli.waitFor((e) => e.event === "delivered" && e.to === "alice");
          await cli.send("/quit");
          expect(await cli.exit()).toBe(0);
        });
      } finally {
        await alice.close().catch(() => {});
        await bob.close().catch(() => {});
        await cli?.kill();
        await server.proc.stop();
        await db.close();
        for (const h of homes) await Deno.remove(h, { recursive: true }).catch(() => {});
      }
    },
  });
}

Deno.test({
  name: "tls: plain TCP and untrusting TLS clients fail with a clear connect error",
  async fn(t) {
    // Independent of the database kind: one server on PGlite is enough.
    const db: TestDb = await openTestDb(DB_KINDS[0]);
    const server = await startTlsServer(db.url);
    const target = { host: server.host, port: server.port };
    const home = await Deno.makeTempDir();
    // A failed connect must surface as one rejected call, not also as a
    // stray rejection somewhere else (that would crash a CLI process).
    const unhandled: unknown[] = [];
    const onUnhandled = (e: PromiseRejectionEvent) => {
      unhandled.push(e.reason);
      e.preventDefault();
    };
    globalThis.addEventListener("unhandledrejection", onUnhandled);
    const failure = async (tls: { caCerts?: string[] } | undefined): Promise<FastChatError> => {
      const c = new ChatClient({ server: target, tls, homeRoot: home, kdfIterations: KDF });
      try {
        await c.register("mallory", "mallory-password-1");
      } catch (e) {
        return e as FastChatError;
      } finally {
        await c.close().catch(() => {});
      }
      throw new Error("register unexpectedly succeeded");
    };
    let cli: JsonCli | undefined;
    try {
      await t.step("plain TCP against the TLS port", async () => {
        const err = await failure(undefined);
        expect(err).toBeInstanceOf(FastChatError);
        expect(err.code).toMatch(CONNECT_ERROR_CODE);
      });

      await t.step("TLS without trusting the test CA", async () => {
        const err = await failure({});
        expect(err).toBeInstanceOf(FastChatError);
        expect(err.code).toMatch(CONNECT_ERROR_CODE);
        expect(err.message).toMatch(/certificate/i);
      });

      await t.step("the CLI without --tls reports the error and keeps running", async () => {
        cli = new JsonCli([
          "--server",
          `${server.host}:${server.port}`,
          "--home",
          home,
        ]);
        await cli.send("/register mallory mallory-password-1");
        const err = await cli.waitFor((e) => e.event === "error");
        // Only now ask again: the process must still be alive after the failure.
        await cli.send("/whoami");
        expect(await cli.waitFor((e) => e.event === "whoami")).toMatchObject({ user: null });
        expect((err as { code: string }).code).toMatch(CONNECT_ERROR_CODE);
        await cli.send("/quit");
        expect(await cli.exit()).toBe(0);
      });

      await t.step("no stray unhandled rejections from the failed connects", () => {
        expect(unhandled.map(String)).toEqual([]);
      });
    } finally {
      globalThis.removeEventListener("unhandledrejection", onUnhandled);
      await cli?.kill();
      await server.proc.stop();
      await db.close();
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "tls: through a load balancer, the ticket says TLS and clients dial the server with TLS",
  async fn(t) {
    const db: TestDb = await openTestDb(DB_KINDS[0]);
    const server = await startTlsServer(db.url);
    const caCerts = [await Deno.readTextFile(CA_FILE)];
    const lbTls = {
      cert: await Deno.readTextFile(CERT_FILE),
      key: await Deno.readTextFile(KEY_FILE),
    };
    const homes = [await Deno.makeTempDir(), await Deno.makeTempDir()];
    let cli: JsonCli | undefined;
    try {
      await withLoadBalancer(db.url, { tls: lbTls }, async (lb) => {
        await t.step("the ticket names the server and its TLS flag", async () => {
          const tk = await requestTicket(lb, { tls: { caCerts } });
          expect(tk).toMatchObject({
            server: server.id,
            host: server.host,
            port: server.port,
            tls: true,
          });
        });

        await t.step("a ChatClient via the LB registers over TLS", async () => {
          const dave = new ChatClient({
            server: viaLoadBalancer(lb, { tls: { caCerts } }),
            homeRoot: homes[0],
            kdfIterations: KDF,
          });
          try {
            await dave.register("dave", "dave-password-1");
            expect(dave.whoami()).toEqual({
              user: "dave",
              server: server.id,
              address: `${server.host}:${server.port}`,
            });
          } finally {
            await dave.close();
          }
        });

        await t.step("client/main.ts --lb --tls --ca reaches the TLS server", async () => {
          cli = new JsonCli([
            "--lb",
            `${lb.host}:${lb.port}`,
            "--home",
            homes[1],
            "--tls",
            "--ca",
            CA_FILE,
          ]);
          await cli.send("/register erin erin-password-1");
          expect(await cli.waitFor((e) => e.event === "ready")).toEqual({
            event: "ready",
            user: "erin",
            server: server.id,
            address: `${server.host}:${server.port}`,
          });
          await cli.send("/quit");
          expect(await cli.exit()).toBe(0);
        });
      });
    } finally {
      await cli?.kill();
      await server.proc.stop();
      await db.close();
      for (const h of homes) await Deno.remove(h, { recursive: true }).catch(() => {});
    }
  },
});

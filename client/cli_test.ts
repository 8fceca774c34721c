/**
 * The terminal client as users and scripts run it: `client/main.ts` as real
 * processes with piped stdin (script mode), talking over real TCP to a real
 * chat server process on an ephemeral port, backed by PGlite and (when
 * `FASTCHAT_TEST_DATABASE_URL` is set) PostgreSQL.
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { DB_KINDS, openTestDb, startServerProcess } from "@fastchat/testing";
import type { ClientEvent } from "./events.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const encoder = new TextEncoder();

type EventOf<K extends ClientEvent["event"]> = Extract<ClientEvent, { event: K }>;

/**
 * One `client/main.ts` process: lines go to its stdin, stdout lines are kept
 * (and parsed as JSON events with `--json`), and waits resolve on output —
 * or fail as soon as the process has ended its output without a match.
 */
class CliProcess {
  readonly lines: string[] = [];
  readonly events: ClientEvent[] = [];
  readonly stderr: string[] = [];
  readonly status: Promise<Deno.CommandStatus>;
  readonly #name: string;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #output: Promise<void>;
  readonly #waiters = new Set<() => void>();
  #ended = false;
  #inputClosed = false;

  private constructor(name: string, args: string[]) {
    this.#name = name;
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...args],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.status = this.#child.status;
    this.#output = Promise.all([
      this.#pump(this.#child.stdout, (l) => this.#stdoutLine(l)),
      this.#pump(this.#child.stderr, (l) => this.stderr.push(l)),
    ]).then(() => {
      this.#ended = true;
      this.#wake();
    });
  }

  /** Starts a client against `server` with its own `home`; `--json` unless `json: false`. */
  static start(
    name: string,
    server: string,
    home: string,
    opts: { json?: boolean; args?: string[] } = {},
  ): CliProcess {
    return new CliProcess(name, [
      "--server",
      server,
      "--home",
      home,
      ...(opts.json === false ? ["--no-color"] : ["--json"]),
      "--kdf-iterations",
      "100000",
      ...(opts.args ?? []),
    ]);
  }

  async #pump(stream: ReadableStream<Uint8Array>, onLine: (l: string) => void): Promise<void> {
    let partial = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (partial + text).split("\n");
      partial = parts.pop()!;
      for (const l of parts) onLine(l);
    }
    if (partial !== "") onLine(partial);
  }

  #stdoutLine(line: string): void {
    this.lines.push(line);
    if (line.startsWith("{")) {
      try {
        const v = JSON.parse(line);
        if (v && typeof v.event === "string") this.events.push(v as ClientEvent);
      } catch { /* not an event: kept in lines only */ }
    }
    this.#wake();
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Writes each argument as one line of input. */
  async send(...lines: string[]): Promise<void> {
    const bytes = encoder.encode(lines.map((l) => l + "\n").join(""));
    // A process that died is reported, with its stderr, by the next wait.
    await this.#stdin.write(bytes).catch(() => {});
  }

  /** Closes stdin: end of input. */
  async closeInput(): Promise<void> {
    if (this.#inputClosed) return;
    this.#inputClosed = true;
    await this.#stdin.close().catch(() => {});
  }

  /** Number of events so far, to wait only for later ones. */
  mark(): number {
    return this.events.length;
  }

  /** The first event `kind` (from index `from` on) matching `pred`. */
  waitFor<K extends ClientEvent["event"]>(
    kind: K,
    pred: (e: EventOf<K>) => boolean = () => true,
    from = 0,
  ): Promise<EventOf<K>> {
    return this.#wait(
      () =>
        this.events.slice(from).find((e): e is EventOf<K> =>
          e.event === kind && pred(e as EventOf<K>)
        ),
      `a "${kind}" event matching ${pred}`,
    );
  }

  /** All events `kind` (from index `from` on) matching `pred`, once there are `n`. */
  waitForCount<K extends ClientEvent["event"]>(
    kind: K,
    pred: (e: EventOf<K>) => boolean,
    n: number,
    from = 0,
  ): Promise<EventOf<K>[]> {
    return this.#wait(() => {
      const got = this.events.slice(from).filter((e): e is EventOf<K> =>
        e.event === kind && pred(e as EventOf<K>)
      );
      return got.length >= n ? got : undefined;
    }, `${n} "${kind}" events matching ${pred}`);
  }

  /** The first stdout line matching `pred`. */
  waitForLine(pred: (line: string) => boolean): Promise<string> {
    return this.#wait(() => this.lines.find(pred), `a line matching ${pred}`);
  }

  /** Waits for the exit; output is fully read when this resolves. */
  async exit(): Promise<number> {
    const [status] = await Promise.all([this.status, this.#output]);
    return status.code;
  }

  /** Kills the process if it still runs (cleanup). */
  async kill(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already exited */ }
    await this.closeInput();
    await this.exit().catch(() => {});
  }

  #wait<T>(probe: () => T | undefined, what: string): Promise<T> {
    const hit = probe();
    if (hit !== undefined) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const done = () => {
        this.#waiters.delete(check);
        clearTimeout(timer);
      };
      const check = () => {
        const h = probe();
        if (h !== undefined) {
          done();
          resolve(h);
        } else if (this.#ended) {
          done();
          reject(new Error(`${this.#name} exited before printing ${what}\n${this.#dump()}`));
        }
      };
      // A safety net so a broken build fails instead of hanging; never reached when healthy.
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.#name}: no ${what} within 60 s\n${this.#dump()}`));
      }, 60_000);
      this.#waiters.add(check);
    });
  }

  #dump(): string {
    return `--- stdout of ${this.#name} (last 20 lines):\n${
      this.lines.slice(-20).join("\n")
    }\n--- stderr:\n${this.stderr.slice(-20).join("\n")}`;
  }
}

const SAFETY_NUMBER = /^\d{5}( \d{5}){11}$/;

for (const kind of DB_KINDS) {
  Deno.test({
    name: `cli (${kind}): script mode over real processes, JSON events, exit codes`,
    async fn(t) {
      const db = await openTestDb(kind);
      const server = await startServerProcess(db.url);
      const address = `${server.host}:${server.port}`;
      const dirs: string[] = [];
      const tempDir = async () => {
        const d = await Deno.makeTempDir({ prefix: "fastchat_cli_test_" });
        dirs.push(d);
        return d;
      };
      const procs: CliProcess[] = [];
      const start = async (name: string, opts?: { json?: boolean }) => {
        const p = CliProcess.start(name, address, await tempDir(), opts);
        procs.push(p);
        return p;
      };
      const a = await start("alice");
      const b = await start("bob");
      try {
        await t.step("register from two processes", async () => {
          await a.send("/register alice pw-alice-1");
          await b.send("/register bob pw-bob-1");
          expect(await a.waitFor("ready")).toEqual({
            event: "ready",
            user: "alice",
            server: server.id,
            address,
          });
          expect(await b.waitFor("ready")).toMatchObject({ user: "bob", server: server.id });
        });

        let first: EventOf<"message">;
        await t.step("/msg is received with sent and delivered receipts; /whoami", async () => {
          await a.send("/msg bob hello from the cli", "/whoami", "/verify bob");
          first = await b.waitFor("message", (e) => e.text === "hello from the cli");
          expect(first).toMatchObject({
            event: "message",
            from: "alice",
            to: "bob",
            text: "hello from the cli",
          });
          expect(typeof first.id).toBe("string");
          expect(typeof first.sent_at).toBe("number");
          await a.waitFor("sent", (e) => e.id === first.id);
          await a.waitFor("delivered", (e) => e.id === first.id && e.to === "bob");
          expect(await a.waitFor("whoami")).toEqual({
            event: "whoami",
            user: "alice",
            server: server.id,
            address,
          });
        });

        await t.step("/history shows the message on both sides", async () => {
          await a.send("/history bob 5");
          await b.send("/history alice 5");
          const expected = {
            id: first.id,
            from: "alice",
            to: "bob",
            text: "hello from the cli",
            sent_at: first.sent_at,
          };
          expect(await a.waitFor("history")).toEqual({
            event: "history",
            peer: "bob",
            messages: [expected],
          });
          expect(await b.waitFor("history")).toEqual({
            event: "history",
            peer: "alice",
            messages: [expected],
          });
        });

        await t.step("/verify prints the same safety number on both sides", async () => {
          await b.send("/verify alice");
          const va = await a.waitFor("verify");
          const vb = await b.waitFor("verify");
          expect(va).toMatchObject({ user: "alice", peer: "bob" });
          expect(vb).toMatchObject({ user: "bob", peer: "alice" });
          expect(va.safety_number).toMatch(SAFETY_NUMBER);
          expect(vb.safety_number).toBe(va.safety_number);
        });

        await t.step("/open makes plain lines go to the peer; /close stops it", async () => {
          const from = a.mark();
          await a.send("/open bob", "a plain   line to bob");
          expect((await a.waitFor("info", () => true, from)).message).toContain("bob");
          const m = await b.waitFor("message", (e) => e.text === "a plain   line to bob");
          expect(m).toMatchObject({ from: "alice", to: "bob" });
          await a.waitFor("delivered", (e) => e.id === m.id);
          await a.send("/close", "not sent anywhere");
          const err = await a.waitFor("error", () => true, from);
          expect(err).toMatchObject({ code: "BAD_REQUEST" });
          expect(err.message).toContain("no open conversation");
        });

        await t.step("bad commands yield BAD_REQUEST and the process keeps running", async () => {
          const from = a.mark();
          await a.send("/frobnicate", "/history bob zero", "/msg bob", "/whoami");
          const errors = await a.waitForCount("error", () => true, 3, from);
          expect(errors.map((e) => e.code)).toEqual(["BAD_REQUEST", "BAD_REQUEST", "BAD_REQUEST"]);
          expect(errors[0].message).toContain("unknown command /frobnicate");
          expect(errors[1].message).toContain("usage: /history");
          expect(errors[2].message).toContain("usage: /msg");
          // Still running and still logged in.
          expect(await a.waitFor("whoami", () => true, from)).toMatchObject({ user: "alice" });
        });

        await t.step(
          "wrong password is INVALID_CREDENTIALS; an omitted password is read from the next line",
          async () => {
            const c = await start("alice-2");
            await c.send("/login alice wrong-password-1");
            const err = await c.waitFor("error");
            expect(err.code).toBe("INVALID_CREDENTIALS");
            await c.send("/login alice", "pw-alice-1");
            expect(await c.waitFor("ready")).toMatchObject({ user: "alice", server: server.id });
            await c.send("/whoami");
            expect(await c.waitFor("whoami")).toMatchObject({ user: "alice" });
            // The password line was consumed as the password, not run as a message.
            expect(c.events.filter((e) => e.event === "error")).toEqual([err]);
            expect(c.events.filter((e) => e.event === "disconnected")).toEqual([]);
            expect(c.lines.join("\n")).not.toContain("pw-alice-1");
            await c.send("/quit");
            expect(await c.exit()).toBe(0);
          },
        );

        await t.step("without --json the human output shows the message text", async () => {
          const h = await start("carol", { json: false });
          await h.send("/register carol pw-carol-1");
          await h.waitForLine((l) => l.includes("logged in as carol"));
          await a.send("/msg carol hi carol, in plain text");
          const line = await h.waitForLine((l) => l.includes("hi carol, in plain text"));
          expect(line).toContain("alice");
          expect(h.lines.some((l) => l.startsWith("{"))).toBe(false);
          await h.closeInput();
          expect(await h.exit()).toBe(0);
        });

        await t.step("end of input exits 0 after pending messages are confirmed", async () => {
          const from = b.mark();
          const texts = Array.from({ length: 20 }, (_, i) => `goodbye ${i}`);
          await b.send(...texts.map((x) => `/msg alice ${x}`));
          await b.closeInput();
          expect(await b.exit()).toBe(0);
          const sent = b.events.slice(from).filter((e) => e.event === "sent");
          expect(sent.length).toBe(texts.length);
          const got = await a.waitForCount("message", (e) => e.text.startsWith("goodbye "), 20);
          expect(got.map((e) => e.text)).toEqual(texts);
          // Every received message was confirmed once. Confirmations may come in any order:
          // one acknowledged early by its recipient is confirmed before one that had to be stored.
          expect(got.map((e) => e.id).sort()).toEqual(
            sent.map((e) => (e as EventOf<"sent">).id).sort(),
          );
          expect(b.stderr.join("\n")).toBe("");
        });

        await t.step("/quit exits 0", async () => {
          await a.send("/quit");
          expect(await a.exit()).toBe(0);
          expect(a.stderr.join("\n")).toBe("");
        });
      } finally {
        for (const p of procs) await p.kill();
        await server.proc.stop();
        await db.close();
        for (const d of dirs) await Deno.remove(d, { recursive: true }).catch(() => {});
      }
    },
  });
}

Deno.test({
  name: "cli: an unreachable server is CONNECT_FAILED and the process keeps running",
  async fn() {
    // A port that was free a moment ago: nothing listens there.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const home = await Deno.makeTempDir({ prefix: "fastchat_cli_test_" });
    const p = CliProcess.start("nowhere", `127.0.0.1:${port}`, home);
    try {
      await p.send("/login alice pw-alice-1", "/whoami");
      const err = await p.waitFor("error");
      expect(err.code).toBe("CONNECT_FAILED");
      expect(err.message).toContain(`127.0.0.1:${port}`);
      expect(await p.waitFor("whoami")).toEqual({
        event: "whoami",
        user: null,
        server: null,
        address: null,
      });
      await p.send("/quit");
      expect(await p.exit()).toBe(0);
    } finally {
      await p.kill();
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "cli: --help prints usage and exits 0; a bad --server exits 2 with a clear message",
  async fn() {
    const run = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, ...args],
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
    const dec = new TextDecoder();
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(dec.decode(help.stdout)).toContain("--server host:port");
    const bad = await run(["--server", "no-port-here"]);
    expect(bad.code).toBe(2);
    expect(dec.decode(bad.stderr).trim()).toBe(
      `fastchat client: INVALID_CONFIG: expected host:port, got "no-port-here"`,
    );
  },
});

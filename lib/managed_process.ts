/**
 * Starts, watches and stops FastChat processes (database, servers, load
 * balancer): used by `deno task start`, the load generator and the tests.
 * A process is "ready" when a line of its stdout matches a pattern; all its
 * output lines are kept (bounded) and can be echoed with a prefix.
 *
 * @example
 * ```ts
 * import { ManagedProcess } from "@fastchat/lib/managed_process";
 * const db = await ManagedProcess.spawn({
 *   name: "db",
 *   args: ["run", "-A", "db/main.ts", "--port", "0", "--memory"],
 *   ready: /listening on (\S+)/,
 * });
 * console.log(db.match[1]);
 * await db.stop();
 * ```
 * @module
 */
import { type ErrorCode, FastChatError, isErrorCode } from "./errors.ts";
import { signalIfRunning } from "./already_gone.ts";
import { LIFELINE_ENV } from "./lifeline.ts";

/**
 * The failure a FastChat program reported before it exited: the last of
 * `lines` of the form `fastchat <name>: CODE: message` (what every entry
 * point prints, see `./process_main.ts`) whose code is an {@link ErrorCode}.
 *
 * @example
 * ```ts
 * import { reportedFailure } from "@fastchat/lib/managed_process";
 * reportedFailure(["fastchat lb: ADDRESS_IN_USE: 127.0.0.1:7700 is already in use"]);
 * // { code: "ADDRESS_IN_USE", message: "127.0.0.1:7700 is already in use" }
 * ```
 */
export function reportedFailure(
  lines: readonly string[],
): { code: ErrorCode; message: string } | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = lines[i].match(/^fastchat [a-z][a-z-]*: ([A-Z_]+): (.+)$/);
    if (m && isErrorCode(m[1])) return { code: m[1], message: m[2] };
  }
  return null;
}

/** Options of {@link ManagedProcess.spawn}. */
export interface SpawnOptions {
  /** Short name used as the log prefix. */
  name: string;
  /** Arguments to the executable (e.g. `["run", "-A", "server/main.ts"]`). */
  args: string[];
  /**
   * The executable (default: this Deno), e.g. `ip` with `netns exec <ns>
   * deno ...` arguments to start a process in another network namespace.
   */
  command?: string;
  /** A stdout line matching this marks the process ready. */
  ready: RegExp;
  env?: Record<string, string>;
  cwd?: string;
  /** Echo output lines as `name | line` (stdout to stdout, stderr to stderr). */
  echo?: boolean;
  /** How long to wait for readiness (default 60 s). */
  timeoutMs?: number;
  /** Lines kept per stream (default 10,000). */
  keepLines?: number;
}

const encoder = new TextEncoder();

/**
 * A child process with captured output.
 *
 * @example
 * ```ts
 * import { ManagedProcess } from "@fastchat/lib/managed_process";
 * declare const p: ManagedProcess;
 * p.kill("SIGKILL");
 * await p.exited;
 * ```
 */
export class ManagedProcess {
  /** Captured stdout lines. */
  readonly stdout: string[] = [];
  /** Captured stderr lines. */
  readonly stderr: string[] = [];
  /** The readiness match. */
  match: RegExpMatchArray = [] as unknown as RegExpMatchArray;
  /** Resolves with the exit status. */
  readonly exited: Promise<Deno.CommandStatus>;
  readonly #child: Deno.ChildProcess;
  readonly #opts: SpawnOptions;
  #done = false;
  #lineWaiters: { re: RegExp; err: boolean; resolve: (m: RegExpMatchArray) => void }[] = [];

  private constructor(child: Deno.ChildProcess, opts: SpawnOptions) {
    this.#child = child;
    this.#opts = opts;
    this.exited = child.status.then(async (s) => {
      this.#done = true;
      // The lifeline's write end: nothing to keep open for a process that is gone.
      await child.stdin.close().catch(() => {/* already broken: the child is gone */});
      return s;
    });
  }

  /** The name given at spawn (log prefix). */
  get name(): string {
    return this.#opts.name;
  }

  /** Process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Whether the process has exited. */
  get done(): boolean {
    return this.#done;
  }

  /** Spawns the subprocess (Deno by default) and waits until it is ready. */
  static async spawn(opts: SpawnOptions): Promise<ManagedProcess> {
    const child = new Deno.Command(opts.command ?? Deno.execPath(), {
      args: opts.args,
      // The child's stdin is its lifeline (lib/lifeline.ts): never written,
      // closed by the kernel when this process ends, however it ends.
      env: { ...opts.env, [LIFELINE_ENV]: "1" },
      cwd: opts.cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      // Own process group: a terminal's Ctrl-C reaches only the parent, which
      // then stops its children in order (e.g. servers before the database).
      detached: true,
    }).spawn();
    const p = new ManagedProcess(child, opts);
    const ready = p.waitForLine(opts.ready);
    p.#pump(child.stdout, p.stdout, false);
    const stderrRead = p.#pump(child.stderr, p.stderr, true);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      p.match = await Promise.race([
        ready,
        p.exited.then(async (s) => {
          // Its last words, unless a process it left behind keeps the pipe open.
          let timer: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([stderrRead, new Promise((r) => timer = setTimeout(r, 1000))]);
          clearTimeout(timer);
          // A FastChat program says why in one line: its code and message are the failure's.
          const said = reportedFailure(p.stderr.slice(-20));
          if (said) throw new FastChatError(said.code, `${opts.name}: ${said.message}`);
          throw new FastChatError(
            "INTERNAL",
            `${opts.name} exited with code ${s.code} before it was ready:\n${
              p.stderr.slice(-20).join("\n")
            }`,
          );
        }),
        new Promise<never>((_, reject) =>
          timer = setTimeout(
            () =>
              reject(
                new FastChatError(
                  "TIMEOUT",
                  `${opts.name} not ready in time:\n${p.stderr.slice(-20).join("\n")}`,
                ),
              ),
            opts.timeoutMs ?? 60_000,
          )
        ),
      ]);
    } catch (e) {
      p.kill("SIGKILL");
      await p.exited;
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return p;
  }

  /**
   * Resolves with the first future (or already seen) line of `stream`
   * (default stdout; logs go to stderr) matching `re`.
   */
  waitForLine(re: RegExp, stream: "stdout" | "stderr" = "stdout"): Promise<RegExpMatchArray> {
    const err = stream === "stderr";
    for (const l of err ? this.stderr : this.stdout) {
      const m = l.match(re);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve) => this.#lineWaiters.push({ re, err, resolve }));
  }

  async #pump(stream: ReadableStream<Uint8Array>, into: string[], isErr: boolean): Promise<void> {
    const keep = this.#opts.keepLines ?? 10_000;
    const out = isErr ? Deno.stderr : Deno.stdout;
    let partial = "";
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        const text = partial + decoder.decode(chunk, { stream: true });
        const lines = text.split("\n");
        partial = lines.pop()!;
        for (const line of lines) this.#line(line, into, keep, isErr, out);
      }
    } catch (e) {
      // Not the end of output (that ends the loop): keep what failed with
      // the captured stderr, where readiness timeouts and callers look.
      const stream = isErr ? "stderr" : "stdout";
      this.#line(`[reading ${stream} failed: ${e}]`, this.stderr, keep, true, Deno.stderr);
    }
    if (partial) this.#line(partial, into, keep, isErr, out);
  }

  #line(line: string, into: string[], keep: number, isErr: boolean, out: typeof Deno.stdout): void {
    into.push(line);
    if (into.length > keep) into.splice(0, into.length - keep);
    if (this.#opts.echo) {
      try {
        out.writeSync(encoder.encode(`${this.#opts.name} | ${line}\n`));
      } catch {
        // Our own stdout/stderr is closed (the parent went away): there is
        // nowhere to echo to, and the line is kept in `into` all the same.
      }
    }
    if (this.#lineWaiters.length > 0) {
      this.#lineWaiters = this.#lineWaiters.filter((w) => {
        const m = w.err === isErr ? line.match(w.re) : null;
        if (m) w.resolve(m);
        return !m;
      });
    }
  }

  /** Sends a signal (ignored if already exited). */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#done) return;
    signalIfRunning(this.#child, signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status. */
  async stop(graceMs = 10_000): Promise<Deno.CommandStatus> {
    this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A load-generator worker process (`perf/load_worker.ts`) seen from the
 * parent: spawn, the JSON-lines channel (commands in on stdin, messages out
 * on stdout), waiting for a message type, log capture and stop.
 *
 * @example
 * ```ts
 * import { WorkerHandle } from "@fastchat/perf/worker_handle";
 * declare const cfg: import("./worker_protocol.ts").WorkerConfig;
 * const w = new WorkerHandle(0, cfg, "/tmp/worker-0.log", (_w, m) => console.log(m.t));
 * await w.exited;
 * ```
 * @module
 */
import { signalIfRunning } from "@fastchat/lib/already_gone";
import { selfCommand } from "@fastchat/lib/self_command";
import { parseGcLine, traceGcEnv } from "./gc_trace.ts";
import {
  readLines,
  type WorkerCommand,
  type WorkerConfig,
  type WorkerMessage,
  type WorkerProgress,
} from "./worker_protocol.ts";

const encoder = new TextEncoder();

/**
 * A worker process and its JSON-lines channel.
 *
 * @example
 * ```ts
 * import { WorkerHandle } from "./worker_handle.ts";
 * declare const cfg: import("./worker_protocol.ts").WorkerConfig;
 * const w = new WorkerHandle(0, cfg, "/tmp/worker-0.log", () => {});
 * await w.exited;
 * ```
 */
export class WorkerHandle {
  progress: WorkerProgress | null = null;
  flushed = false;
  readonly tail: string[] = [];
  readonly exited: Promise<Deno.CommandStatus>;
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #waiters: { t: WorkerMessage["t"]; resolve: (m: WorkerMessage) => void }[] = [];
  readonly #seen = new Map<WorkerMessage["t"], WorkerMessage>();
  #stdoutDone: Promise<void>;
  #stderrDone: Promise<void>;
  readonly #gcLogPath: string | undefined;
  #gcLines: string[] = [];
  #gcWrite: Promise<void> = Promise.resolve();

  /**
   * `gcLogPath`: run the worker with V8's `--trace-gc` ({@link traceGcEnv})
   * and append its GC lines (which come on stdout, between the protocol's
   * JSON lines) to that file, where the analysis reads them.
   */
  constructor(
    readonly index: number,
    cfg: WorkerConfig,
    readonly logPath: string,
    readonly onMessage: (w: WorkerHandle, m: WorkerMessage) => void,
    denoFlags: string[] = [],
    gcLogPath?: string,
  ) {
    const { command, args } = selfCommand("perf-worker", [JSON.stringify(cfg)], { denoFlags });
    const gcEnv = gcLogPath === undefined ? null : traceGcEnv(Deno.env.toObject());
    this.#gcLogPath = gcEnv ? gcLogPath : undefined;
    this.#child = new Deno.Command(command, {
      args,
      ...(gcEnv ? { env: gcEnv } : {}),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      // Own process group: Ctrl-C reaches only the parent, which stops workers via stdin.
      detached: true,
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.exited = this.#child.status;
    this.#stdoutDone = this.#readStdout();
    this.#stderrDone = this.#readStderr();
  }

  get pid(): number {
    return this.#child.pid;
  }

  async #readStdout(): Promise<void> {
    const handle = (line: string) => {
      if (!line.startsWith("{")) {
        if (this.#gcLogPath !== undefined && parseGcLine(line)) return this.#logGc(line);
        return this.#keep(line);
      }
      let m: WorkerMessage;
      try {
        m = JSON.parse(line);
      } catch {
        return this.#keep(line);
      }
      if (m.t === "progress" || m.t === "flushed") {
        const { t: _t, worker: _w, ...p } = m;
        this.progress = p;
      }
      if (m.t === "flushed") this.flushed = true;
      this.#seen.set(m.t, m);
      this.onMessage(this, m);
      for (let i = this.#waiters.length - 1; i >= 0; i--) {
        if (this.#waiters[i].t === m.t) this.#waiters.splice(i, 1)[0].resolve(m);
      }
    };
    try {
      for await (const line of readLines(this.#child.stdout)) handle(line);
    } catch (e) {
      // Not the end of output (that ends the loop): keep it in the tail shown on failure.
      this.#keep(`[reading the worker's stdout failed: ${e}]`);
    }
    await this.#gcWrite;
  }

  async #readStderr(): Promise<void> {
    const file = await Deno.open(this.logPath, { write: true, create: true, append: true });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.#child.stderr) {
        await file.write(chunk);
        for (const l of decoder.decode(chunk, { stream: true }).split("\n")) if (l) this.#keep(l);
      }
    } catch (e) {
      // Not the end of output (that ends the loop): keep it in the tail shown on failure.
      this.#keep(`[reading the worker's stderr failed: ${e}]`);
    } finally {
      file.close();
    }
  }

  /** Appends GC lines in order, a batch per write (about one collection a second). */
  #logGc(line: string): void {
    this.#gcLines.push(line + "\n");
    if (this.#gcLines.length > 1) return; // a write is queued and takes this line too
    this.#gcWrite = this.#gcWrite.then(() => {
      const text = this.#gcLines.join("");
      this.#gcLines = [];
      return Deno.writeTextFile(this.#gcLogPath!, text, { append: true });
    }).catch((e) => this.#keep(`[writing ${this.#gcLogPath} failed: ${e}]`));
  }

  #keep(line: string): void {
    this.tail.push(line);
    if (this.tail.length > 50) this.tail.shift();
  }

  /** The first message of type `t` (already seen or future). */
  waitFor<T extends WorkerMessage["t"]>(t: T): Promise<Extract<WorkerMessage, { t: T }>> {
    const seen = this.#seen.get(t);
    if (seen) return Promise.resolve(seen as Extract<WorkerMessage, { t: T }>);
    return new Promise((resolve) =>
      this.#waiters.push({ t, resolve: resolve as (m: WorkerMessage) => void })
    );
  }

  async send(cmd: WorkerCommand): Promise<void> {
    try {
      await this.#writer.write(encoder.encode(JSON.stringify(cmd) + "\n"));
    } catch {
      // The worker exited (BrokenPipe): nobody is left to obey the command,
      // and the exit itself is observed through `exited`.
    }
  }

  /** Asks the worker to stop and flush; SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    await this.send({ cmd: "stop" });
    // Fails only if the pipe already broke (the worker exited; see send()).
    await this.#writer.close().catch(() => {});
    const timer = setTimeout(() => this.kill(), graceMs);
    try {
      await this.exited;
      await Promise.all([this.#stdoutDone, this.#stderrDone]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    signalIfRunning(this.#child, "SIGKILL");
  }
}

/**
 * Chat servers as real child processes (`server/main.ts`), which tests
 * start, kill with any signal, and restart on the same port: the ready line
 * on stdout tells when a server listens, and which id, host and port it got.
 *
 * @example
 * ```ts
 * import { openTestDb, startServerProcess } from "@fastchat/testing";
 * const db = await openTestDb("pglite");
 * const server = await startServerProcess(db.url);
 * server.proc.kill("SIGKILL"); // a crash
 * await server.proc.exited;
 * const again = await startServerProcess(db.url, { port: server.port, id: server.id });
 * await again.proc.stop(); // SIGTERM, then waits for the exit
 * await db.close();
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";
import { ManagedProcess } from "@fastchat/lib/managed_process";
import { SERVER_V8_FLAGS } from "@fastchat/lib/runtime_flags";
import { SERVER_READY } from "@fastchat/lib/cluster/ready_lines";

/** The line `server/main.ts` prints once it listens: id, host, port. */
export const SERVER_READY_LINE: RegExp = SERVER_READY;

const SERVER_MAIN = fileURLToPath(import.meta.resolve("@fastchat/server/main"));

/** A chat server child process. */
export interface ServerProcess {
  /** The process: `kill(signal)`, `stop()`, `exited`, captured `stdout`/`stderr`. */
  proc: ManagedProcess;
  host: string;
  port: number;
  id: string;
}

/** Options of {@link startServerProcess}. */
export interface ServerProcessOptions {
  /** Port to listen on (default 0: a free one). */
  port?: number;
  /** Server id (default: the server picks one). */
  id?: string;
  /** More `server/main.ts` arguments. */
  args?: string[];
}

/** The `deno` arguments of a test server: a cheap scrypt cost so logins stay fast. */
function serverProcessArgs(opts: ServerProcessOptions): string[] {
  return [
    "run",
    "-A",
    SERVER_V8_FLAGS,
    SERVER_MAIN,
    "--port",
    String(opts.port ?? 0),
    "--scrypt-n",
    "1024",
    ...(opts.id ? ["--id", opts.id] : []),
    ...(opts.args ?? []),
  ];
}

/**
 * Starts `server/main.ts` over the database at `dbUrl` and resolves once it
 * prints its ready line (rejects if it exits or times out first).
 *
 * @example
 * ```ts
 * import { startServerProcess } from "@fastchat/testing";
 * declare const dbUrl: string;
 * const s = await startServerProcess(dbUrl, { args: ["--metrics-port", "0"] });
 * console.log(s.id, s.host, s.port);
 * await s.proc.stop();
 * ```
 */
export async function startServerProcess(
  dbUrl: string,
  opts: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const proc = await ManagedProcess.spawn({
    name: "server",
    args: serverProcessArgs(opts),
    ready: SERVER_READY_LINE,
    env: { DATABASE_URL: dbUrl }, // not argv: the URL holds the database password
  });
  return { proc, id: proc.match[1], host: proc.match[2], port: Number(proc.match[3]) };
}

/**
 * Whether process `pid` still exists (sends it the harmless SIGCONT, which
 * throws once the process is gone).
 *
 * @example
 * ```ts
 * import { processAlive } from "@fastchat/testing";
 * console.log(processAlive(Deno.pid)); // true
 * ```
 */
export function processAlive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/**
 * `deno task db`: runs the embedded FastChat database (PGlite) as a
 * PostgreSQL-protocol server until SIGINT/SIGTERM/SIGHUP (or until the process
 * that started it is gone), then closes it cleanly so
 * the data directory is consistent, and exits 0.
 *
 * Flags: `--port` (default 7432; 0 = ephemeral), `--host` (default
 * 127.0.0.1), `--data` (default `./data/pglite`), `--memory` (keep nothing).
 * Prints one line when ready (never the password):
 * `FastChat embedded database listening on postgres://postgres@127.0.0.1:7432/postgres`.
 *
 * Clients must prove the database password (SCRAM-SHA-256). With a data
 * directory it is kept in `<data>/.fastchat-db-password` (created at first
 * start; see `embeddedDatabaseUrl` in `credentials.ts`). With `--memory` it is
 * `$FASTCHAT_DB_PASSWORD` (removed from the environment once read), else a
 * random one nobody knows. The process runs with umask 077 and makes the data
 * directory private (0700, files 0600).
 *
 * @example
 * ```ts
 * import { parseDbArgs } from "./main.ts";
 * parseDbArgs(["--port", "0", "--memory"]); // { port: 0, host: "127.0.0.1", dataDir: undefined }
 * ```
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { FastChatError } from "@fastchat/lib/errors";
import { DEFAULT_DATA_DIR } from "./credentials.ts";
import { EmbeddedDatabase, type EmbeddedOptions } from "./embedded_server.ts";
import { dbReadyLine } from "@fastchat/lib/cluster/ready_lines";
import { STOP_SIGNALS, watchLifeline } from "@fastchat/lib/lifeline";

/**
 * Parses the command line of `db/main.ts` into {@link EmbeddedOptions}.
 * Throws `FastChatError("INVALID_CONFIG")` on a bad flag or port.
 *
 * @example
 * ```ts
 * import { parseDbArgs } from "./main.ts";
 * parseDbArgs(["--data", "/tmp/fc"]); // { port: 7432, host: "127.0.0.1", dataDir: "/tmp/fc" }
 * ```
 */
export function parseDbArgs(args: string[]): EmbeddedOptions {
  let values;
  try {
    ({ values } = parseArgs({
      // `deno task x -- --flag` passes the `--` through.
      args: args[0] === "--" ? args.slice(1) : args,
      options: {
        port: { type: "string", default: "7432" },
        host: { type: "string", default: "127.0.0.1" },
        data: { type: "string", default: DEFAULT_DATA_DIR },
        memory: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new FastChatError("INVALID_CONFIG", e instanceof Error ? e.message : String(e));
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new FastChatError("INVALID_CONFIG", `invalid --port: ${values.port}`);
  }
  return { port, host: values.host, dataDir: values.memory ? undefined : values.data };
}

/** Environment variable with the password of a `--memory` database. */
export const MEMORY_PASSWORD_ENV = "FASTCHAT_DB_PASSWORD";

/** Reads and removes {@link MEMORY_PASSWORD_ENV} (so children do not inherit it). */
function takeMemoryPassword(): string | undefined {
  const password = Deno.env.get(MEMORY_PASSWORD_ENV) || undefined;
  Deno.env.delete(MEMORY_PASSWORD_ENV);
  if (password === undefined) {
    console.error(
      `FastChat embedded database: in memory with a random password (set ${MEMORY_PASSWORD_ENV} to choose it)`,
    );
  }
  return password;
}

/**
 * Runs the server until a signal arrives; resolves with the exit code.
 *
 * @example
 * ```ts
 * import { runDb } from "./main.ts";
 * Deno.exit(await runDb(["--memory", "--port", "0"]));
 * ```
 */
export async function runDb(args: string[]): Promise<number> {
  let db: EmbeddedDatabase;
  try {
    const opts = parseDbArgs(args);
    if (opts.dataDir === undefined) opts.password = takeMemoryPassword();
    db = await EmbeddedDatabase.start(opts);
  } catch (e) {
    // One line, as every FastChat program reports a failed start: `fastchat <name>: CODE: message`.
    const err = FastChatError.from(e, "STORE_UNAVAILABLE");
    console.error(`fastchat db: ${err.code}: ${err.message}`);
    return 1;
  }
  const signals = STOP_SIGNALS;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  for (const s of signals) Deno.addSignalListener(s, stop);
  watchLifeline(stop); // started by `deno task start`: stop when it is gone
  console.log(dbReadyLine(db.publicUrl));
  let code = 0;
  try {
    await Promise.race([stopped, db.closed]);
    await db.close();
    await db.closed;
  } catch (e) {
    console.error(`FastChat embedded database failed: ${e instanceof Error ? e.message : e}`);
    code = 1;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, stop);
  }
  return code;
}

const HELP = `Usage: fastchat db [options]   (from a checkout: deno task db -- [options])
  --port P     listen port (default 7432; 0 = any free port)
  --host H     bind address (default 127.0.0.1)
  --data DIR   data directory, kept (default ${DEFAULT_DATA_DIR}); its password is in
               DIR/.fastchat-db-password
  --memory     keep nothing; the password is $${MEMORY_PASSWORD_ENV}, else random`;

/**
 * Runs the `db` command line (without the program name) as a process:
 * `--help`, or files it creates are the owner's only, then {@link runDb}.
 *
 * @example
 * ```ts
 * import { main } from "@fastchat/db/main";
 * Deno.exit(await main(["--data", "./data/pglite"]));
 * ```
 */
export function main(args: string[]): Promise<number> {
  const flags = args[0] === "--" ? args.slice(1) : args;
  if (flags.includes("--help") || flags.includes("-h")) {
    console.log(HELP);
    return Promise.resolve(0);
  }
  process.umask(0o077); // PGlite's files: owner only
  return runDb(args);
}

if (import.meta.main) Deno.exit(await main(Deno.args));

/**
 * What the cluster launcher runs: its options ({@link ClusterOptions}) and,
 * for each FastChat process, the `fastchat <sub>` command line (see
 * `@fastchat/lib/self_command`: `deno run`, or the compiled binary), environment and
 * ready line of the embedded database, a chat server and a load balancer. Secrets (the database URL with its password)
 * travel in the environment, never on the command line, which every user of
 * the machine can read.
 *
 * @example
 * ```ts
 * import { serverSpec } from "@fastchat/server/cluster_specs";
 * const spec = serverSpec({ name: "srv-1", id: "srv-1", dbUrl: "postgres://u:secret@db/x" });
 * spec.args.includes("--require-ticket"); // true
 * spec.env?.DATABASE_URL; // "postgres://u:secret@db/x"
 * ```
 * @module
 */
import { DB_READY, LB_READY, SERVER_READY } from "@fastchat/lib/cluster/ready_lines";
import type { SpawnOptions } from "@fastchat/lib/managed_process";
import { LOG_FORMAT_ENV, type LogFormat } from "@fastchat/lib/log_format";
import { SERVER_V8_FLAGS } from "@fastchat/lib/runtime_flags";
import { selfCommand } from "@fastchat/lib/self_command";
import { type FabricConfig, fabricServerArgs, natsUrlEnv } from "./fabric_config.ts";

/** The `fastchat` subcommands the cluster runs. */
const MAINS = { db: "db", server: "server", lb: "lb" } as const;

/**
 * Load-balancing algorithms of `lb/main.ts --algorithm`.
 *
 * @example
 * ```ts
 * import type { Algorithm } from "@fastchat/server/cluster_specs";
 * const a: Algorithm = "least-connections";
 * ```
 */
export type Algorithm = "round-robin" | "random" | "least-connections";

/**
 * What every process spec shares: name, output handling, profiling.
 *
 * @example
 * ```ts
 * import type { CommonSpec } from "@fastchat/server/cluster_specs";
 * const c: CommonSpec = { name: "srv-1", echo: true, cpuProfDir: "/tmp/prof" };
 * ```
 */
export interface CommonSpec {
  /** Log prefix and name of the process (and of its CPU profile). */
  name: string;
  /** Echo its output lines as `name | line`. */
  echo?: boolean;
  /** Output lines kept per stream (default 10,000). */
  keepLines?: number;
  /** How long to wait for its ready line (default 60 s). */
  timeoutMs?: number;
  /** Write a V8 CPU profile (`deno run --cpu-prof`) into this directory. */
  cpuProfDir?: string;
  /**
   * Its log lines (`$FASTCHAT_LOG_FORMAT`; default `json`, whatever the
   * launcher's own environment says: launchers read their children's events).
   */
  logFormat?: LogFormat;
}

function spawnOptions(
  c: CommonSpec,
  denoFlags: string[],
  main: (typeof MAINS)[keyof typeof MAINS],
  args: string[],
  ready: RegExp,
  env: Record<string, string>,
): SpawnOptions {
  const prof = c.cpuProfDir
    ? ["--cpu-prof", `--cpu-prof-dir=${c.cpuProfDir}`, `--cpu-prof-name=${c.name}.cpuprofile`]
    : [];
  const { command, args: commandArgs } = selfCommand(main, args, {
    denoFlags: [...prof, ...denoFlags],
  });
  return {
    name: c.name,
    command,
    args: commandArgs,
    ready,
    env: { ...env, [LOG_FORMAT_ENV]: c.logFormat ?? "json" },
    echo: c.echo,
    keepLines: c.keepLines,
    timeoutMs: c.timeoutMs,
  };
}

/**
 * The embedded database (`db/main.ts`): with `dataDir` it keeps its data
 * (and password file) there; without, it runs in memory and takes its
 * password from `$FASTCHAT_DB_PASSWORD`.
 *
 * @example
 * ```ts
 * import { embeddedDbSpec } from "@fastchat/server/cluster_specs";
 * const spec = embeddedDbSpec({ name: "db", port: 0, password: "pw" }); // in memory
 * ```
 */
export function embeddedDbSpec(
  o: CommonSpec & { port?: number; dataDir?: string; password?: string },
): SpawnOptions {
  const args = ["--port", String(o.port ?? 0)];
  args.push(...(o.dataDir === undefined ? ["--memory"] : ["--data", o.dataDir]));
  const env: Record<string, string> = o.password === undefined || o.dataDir !== undefined
    ? {}
    : { FASTCHAT_DB_PASSWORD: o.password };
  return spawnOptions(o, [], MAINS.db, args, DB_READY, env);
}

/**
 * A chat server (`server/main.ts --port P --require-ticket`), admitting new
 * sessions only with a load-balancer ticket; `id`, `host` and `fabric` when
 * given, then `args` (later flags win). NATS URLs go in `$NATS_URL`.
 *
 * @example
 * ```ts
 * import { serverSpec } from "@fastchat/server/cluster_specs";
 * const spec = serverSpec({
 *   name: "srv-2", id: "srv-2", dbUrl: "postgres://db/x", args: ["--scrypt-n", "1024"],
 * });
 * ```
 */
export function serverSpec(
  o: CommonSpec & {
    dbUrl: string;
    id?: string;
    host?: string;
    port?: number;
    fabric?: FabricConfig;
    args?: string[];
  },
): SpawnOptions {
  const args = ["--port", String(o.port ?? 0), "--require-ticket"];
  if (o.host !== undefined) args.push("--host", o.host);
  if (o.id !== undefined) args.push("--id", o.id);
  if (o.fabric) args.push(...fabricServerArgs(o.fabric));
  args.push(...o.args ?? []);
  return spawnOptions(o, [SERVER_V8_FLAGS], MAINS.server, args, SERVER_READY, {
    DATABASE_URL: o.dbUrl,
    ...(o.fabric ? natsUrlEnv(o.fabric) : {}),
  });
}

/**
 * A load balancer (`lb/main.ts`) signing with the key in `keyFile`
 * (created if missing).
 *
 * @example
 * ```ts
 * import { lbSpec } from "@fastchat/server/cluster_specs";
 * const spec = lbSpec({ name: "lb", dbUrl: "postgres://db/x", keyFile: "/tmp/lb-key.json" });
 * ```
 */
export function lbSpec(
  o: CommonSpec & {
    dbUrl: string;
    keyFile: string;
    host?: string;
    port?: number;
    algorithm?: Algorithm;
    args?: string[];
  },
): SpawnOptions {
  const args = [
    "--port",
    String(o.port ?? 0),
    "--host",
    o.host ?? "127.0.0.1",
    "--algorithm",
    o.algorithm ?? "round-robin",
    "--key",
    o.keyFile,
    ...o.args ?? [],
  ];
  return spawnOptions(o, [], MAINS.lb, args, LB_READY, { DATABASE_URL: o.dbUrl });
}

/**
 * Default deadline of the launcher's waits (mesh, registry).
 *
 * @example
 * ```ts
 * import { DEFAULT_WAIT_MS } from "@fastchat/server/cluster_specs";
 * console.log(DEFAULT_WAIT_MS);
 * ```
 */
export const DEFAULT_WAIT_MS = 20_000;

/**
 * What to launch (every field optional).
 *
 * @example
 * ```ts
 * import type { ClusterOptions } from "@fastchat/server/cluster_specs";
 * const perf: ClusterOptions = { servers: 2, serverArgs: ["--scrypt-n", "16384"], lbArgs: ["--rate", "0"] };
 * ```
 */
export interface ClusterOptions {
  /** PostgreSQL URL every process uses; absent: the launcher starts the embedded database. */
  dbUrl?: string;
  /** The embedded database's data directory (kept); absent: in memory. */
  dbDataDir?: string;
  /** The embedded database's port (default 0: any free port). */
  dbPort?: number;
  /** Chat servers to start (default 3). */
  servers?: number;
  /** Server ids are `<idPrefix>-<n>` (default `srv`); null: each picks `fc-<port>`. */
  idPrefix?: string | null;
  /** Bind address of servers and load balancers (default: theirs, 127.0.0.1). */
  host?: string;
  /** How the servers reach each other (default direct peer links). */
  fabric?: FabricConfig;
  /** Extra arguments of every server (e.g. `--scrypt-n 1024`). */
  serverArgs?: string[];
  /** Extra arguments of the n-th server started (1-based), after `serverArgs`; kept on restart. */
  serverArgsFor?: (n: number) => string[];
  /** Algorithm of the first load balancer (default round-robin). */
  algorithm?: Algorithm;
  /** Port of the first load balancer (default 0: any free port). */
  lbPort?: number;
  /** Key file of the first load balancer (default: in a temporary directory). */
  lbKeyFile?: string;
  /** Extra arguments of the first load balancer. */
  lbArgs?: string[];
  /** Restart a process that exits, with backoff (`@fastchat/lib/supervisor`). */
  supervise?: boolean;
  /** Where the supervisor reports exits and restarts (default stderr). */
  log?: (line: string) => void;
  /** Echo every process's output as `name | line`. */
  echo?: boolean;
  /** Output lines kept per process and stream (default 10,000). */
  keepLines?: number;
  /** Write V8 CPU profiles of every process into this directory. */
  cpuProfDir?: string;
  /** Every process's log lines (default `json`; `deno task start` on a terminal: `text`). */
  logFormat?: LogFormat;
  /** Wait for the full peer mesh at launch (default true). */
  waitForMesh?: boolean;
  /** Deadline of that wait (default {@link DEFAULT_WAIT_MS}). */
  meshTimeoutMs?: number;
  /** Called when an unsupervised process exits that the launcher did not stop. */
  onUnexpectedExit?: (name: string, code: number) => void;
  /** Write every process's output here at `ClusterLauncher.stop`. */
  logDir?: string;
}

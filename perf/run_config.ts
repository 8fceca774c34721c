/**
 * Command line of the load generator (`deno task perf -- …`): parsing and
 * validation into a {@link RunConfig} (the run schema, `run_schema.ts`).
 * Every error is a `FastChatError("INVALID_CONFIG")` whose message names
 * the flag and what it accepts (values: `flag_values.ts`).
 *
 * @example
 * ```ts
 * import { parseRunArgs } from "./run_config.ts";
 * const cfg = parseRunArgs(["--clients", "10", "--messages", "100", "--rate", "500/s"]);
 * console.log(cfg.send); // { kind: "rate", perSecond: 500 }
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { USERNAME_RE } from "@fastchat/lib/protocol";
import {
  invalidFlag as invalid,
  parseDelay,
  parseDuration,
  parseHostPort,
  parseInteger as integer,
  parseRate,
  parseSize,
} from "./flag_values.ts";
import { type FabricConfig, parseFabricFlags } from "@fastchat/server/fabric_config";
import type { RunConfig, SendModel } from "./run_schema.ts";
import { parseFileSize } from "./file_mode.ts";
import { runStamp } from "./clock.ts";

/**
 * Chat servers' scrypt cost for perf runs (see HELP for why).
 *
 * @example
 * ```ts
 * import { parseRunArgs, PERF_SCRYPT_N } from "./run_config.ts";
 * parseRunArgs(["--clients", "2", "--messages", "1"]).scryptN === PERF_SCRYPT_N; // true
 * ```
 */
export const PERF_SCRYPT_N = 16384;
/**
 * scrypt cost in `--idle` mode: 10,000 logins must stay feasible.
 *
 * @example
 * ```ts
 * import { IDLE_SCRYPT_N, parseRunArgs } from "./run_config.ts";
 * parseRunArgs(["--idle", "100"]).scryptN === IDLE_SCRYPT_N; // true
 * ```
 */
export const IDLE_SCRYPT_N = 1024;
/**
 * PBKDF2 iterations of perf users (the client library's default).
 *
 * @example
 * ```ts
 * import { parseRunArgs, PERF_KDF_ITERATIONS } from "./run_config.ts";
 * parseRunArgs(["--clients", "2", "--messages", "1"]).kdfIterations === PERF_KDF_ITERATIONS; // true
 * ```
 */
export const PERF_KDF_ITERATIONS = 600_000;
/**
 * PBKDF2 iterations of `--idle` users: the smallest the client accepts.
 *
 * @example
 * ```ts
 * import { IDLE_KDF_ITERATIONS, parseRunArgs } from "./run_config.ts";
 * parseRunArgs(["--idle", "100"]).kdfIterations === IDLE_KDF_ITERATIONS; // true
 * ```
 */
export const IDLE_KDF_ITERATIONS = 100_000;

/** Identities per worker in idle mode (see `--identity-pool`). */
const IDLE_IDENTITY_POOL = 16;

/**
 * A random seed usable in user names (8 base-36 characters).
 *
 * @example
 * ```ts
 * import { randomSeed } from "./run_config.ts";
 * randomSeed(); // e.g. "k3x9a0qz"
 * ```
 */
export function randomSeed(): string {
  const b = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(b, (x) => (x % 36).toString(36)).join("");
}

/**
 * The user name of client `i`: `perf-<seed>-<i>`.
 *
 * @example
 * ```ts
 * import { userName } from "./run_config.ts";
 * userName("abc", 7); // "perf-abc-7"
 * ```
 */
export function userName(seed: string, i: number): string {
  return `perf-${seed}-${i}`;
}

/**
 * Parses the perf command line (a leading `--` from `deno task` is skipped).
 * `env.cores` is the default worker count (CPU cores).
 *
 * @example
 * ```ts
 * import { parseRunArgs } from "./run_config.ts";
 * parseRunArgs(["--clients", "4", "--duration", "10s", "--delay", "exp:12ms"]).durationMs; // 10000
 * ```
 */
export function parseRunArgs(
  args: string[],
  env: { cores?: number } = {},
): RunConfig {
  const argv = args[0] === "--" ? args.slice(1) : args;
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        clients: { type: "string" },
        peers: { type: "string" },
        messages: { type: "string" },
        duration: { type: "string" },
        servers: { type: "string" },
        mode: { type: "string", default: "dm" },
        "group-size": { type: "string" },
        "group-senders": { type: "string" },
        "file-bytes": { type: "string" },
        payload: { type: "string", default: "100B" },
        window: { type: "string" },
        rate: { type: "string" },
        delay: { type: "string" },
        lb: { type: "string" },
        db: { type: "string" },
        out: { type: "string" },
        seed: { type: "string" },
        workers: { type: "string" },
        drain: { type: "string", default: "30s" },
        "scrypt-n": { type: "string" },
        "kdf-iterations": { type: "string" },
        idle: { type: "string" },
        "kill-one": { type: "boolean", default: false },
        "no-analyze": { type: "boolean", default: false },
        "no-warmup": { type: "boolean", default: false },
        "identity-pool": { type: "string" },
        "cpu-prof": { type: "boolean", default: false },
        "trace-gc": { type: "boolean", default: false },
        "heap-sample": { type: "boolean", default: false },
        "heap-survivors": { type: "boolean", default: false },
        "linux-perf": { type: "boolean", default: false },
        "host-check": { type: "string", default: "2s" },
        "wake-meter": { type: "boolean", default: false },
        fabric: { type: "string" },
        nats: { type: "string", multiple: true },
        driver: { type: "string", default: "client" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw invalid(e instanceof Error ? e.message : String(e));
  }
  const mode = values.mode;
  if (mode !== "dm" && mode !== "group" && mode !== "file") {
    throw invalid(`--mode must be dm, group or file; got ${JSON.stringify(mode)}`);
  }
  if (mode !== "dm" && values.idle !== undefined) {
    throw invalid(`--idle is its own mode; do not combine it with --mode ${mode}`);
  }
  if (mode === "file" && values.messages === undefined && values.duration === undefined) {
    values.messages = "1"; // a small number of files by default
  }

  const driver = values.driver;
  if (driver !== "client" && driver !== "wire") {
    throw invalid(`--driver must be client or wire; got ${JSON.stringify(driver)}`);
  }
  if (driver === "wire") {
    if (mode !== "dm") {
      throw invalid(`--driver wire sends direct messages only: drop --mode ${mode}`);
    }
    if (values.idle !== undefined) {
      throw invalid("--driver wire is for load; --idle uses real clients");
    }
    if (values["kill-one"]) {
      throw invalid("--driver wire does not reconnect: --kill-one needs the real client");
    }
  }

  const idle = values.idle !== undefined;
  let clients: number;
  if (idle) {
    for (const f of ["clients", "messages", "duration", "window", "rate", "delay"] as const) {
      if (values[f] !== undefined) {
        throw invalid(`--idle N is its own mode (N idle clients); do not combine it with --${f}`);
      }
    }
    if (values["kill-one"]) throw invalid("--idle and --kill-one do not go together");
    if (values.peers !== undefined) throw invalid("--idle clients send nothing: drop --peers");
    clients = integer("idle", values.idle!, 1);
  } else {
    if (values.clients === undefined) throw invalid("--clients N is required (or --idle N)");
    clients = integer("clients", values.clients, 2);
  }

  const peers = peersFlag(values.peers, mode, clients);

  let messages: number | null = null;
  let durationMs: number | null = null;
  if (!idle) {
    if (values.messages !== undefined && values.duration !== undefined) {
      throw invalid("give --messages M (per client) or --duration D, not both");
    }
    if (values.messages !== undefined) messages = integer("messages", values.messages, 1);
    else if (values.duration !== undefined) {
      durationMs = parseDuration(values.duration, "--duration");
      if (durationMs < 1) throw invalid("--duration must be at least 1ms");
    } else throw invalid("--messages M (per client) or --duration D is required");
  }

  const models = (["window", "rate", "delay"] as const).filter((f) => values[f] !== undefined);
  if (models.length > 1) {
    throw invalid(`choose one send model: --${models.join(" or --")}`);
  }
  let send: SendModel = { kind: "window", window: 16 };
  if (values.window !== undefined) {
    send = { kind: "window", window: integer("window", values.window, 1) };
  } else if (values.rate !== undefined) send = { kind: "rate", perSecond: parseRate(values.rate) };
  else if (values.delay !== undefined) send = { kind: "delay", delay: parseDelay(values.delay) };

  if (values.lb !== undefined) parseHostPort(values.lb); // validates
  const lb = values.lb ?? null;
  if (lb) {
    if (values.servers !== undefined) {
      throw invalid(
        "--servers only applies to the cluster perf starts; with --lb the running cluster decides",
      );
    }
    if (values.db !== undefined) {
      throw invalid("--db only applies to the cluster perf starts, not with --lb");
    }
    if (values["scrypt-n"] !== undefined) {
      throw invalid("--scrypt-n only applies to the cluster perf starts");
    }
    if (idle) {
      throw invalid(
        "--idle reads the servers' memory, so it needs the cluster perf starts (no --lb)",
      );
    }
    if (values["kill-one"]) {
      throw invalid("--kill-one kills a server perf started, so it cannot be used with --lb");
    }
    if (values.fabric !== undefined || values.nats !== undefined) {
      throw invalid("--fabric and --nats only apply to the cluster perf starts");
    }
  }
  const servers = lb
    ? null
    : values.servers === undefined
    ? 1
    : integer("servers", values.servers, 1);
  if (values["kill-one"] && (servers ?? 0) < 2) {
    throw invalid("--kill-one needs --servers 2 or more (its clients reconnect to another server)");
  }

  const seed = values.seed ?? randomSeed();
  if (!/^[a-z0-9_.]+$/.test(seed)) throw invalid("--seed may use a-z 0-9 _ . only");
  const longest = userName(seed, clients - 1);
  if (!USERNAME_RE.test(longest)) {
    throw invalid(`--seed is too long: user names like ${longest} must be at most 32 characters`);
  }

  // One NATS namespace per seed: runs sharing a NATS server stay apart.
  const parsed = parseFabricFlags({ fabric: values.fabric, nats: values.nats }, undefined);
  const fabric: FabricConfig = parsed.kind === "nats"
    ? { ...parsed, namespace: `perf-${seed.replaceAll(".", "_")}` }
    : parsed;

  const cores = Math.max(1, env.cores ?? 1);
  const workers = values.workers !== undefined
    ? Math.min(integer("workers", values.workers, 1), clients)
    : Math.min(cores, clients);

  const drainMs = parseDuration(values.drain, "--drain");
  const hostCheckMs = parseDuration(values["host-check"], "--host-check");
  if (hostCheckMs > 60_000) throw invalid("--host-check must be at most 60s");
  const scryptN = values["scrypt-n"] !== undefined
    ? integer("scrypt-n", values["scrypt-n"], 2)
    : idle
    ? IDLE_SCRYPT_N
    : PERF_SCRYPT_N;
  if ((scryptN & (scryptN - 1)) !== 0) throw invalid("--scrypt-n must be a power of two");
  const kdfIterations = values["kdf-iterations"] !== undefined
    ? integer("kdf-iterations", values["kdf-iterations"], IDLE_KDF_ITERATIONS)
    : idle
    ? IDLE_KDF_ITERATIONS
    : PERF_KDF_ITERATIONS;
  const identityPool = values["identity-pool"] !== undefined
    ? integer("identity-pool", values["identity-pool"], 0)
    : idle
    ? IDLE_IDENTITY_POOL
    : 0;

  return {
    mode,
    ...modeOptions(mode, values, clients),
    clients,
    peers,
    messages,
    durationMs,
    servers,
    payload: values.payload,
    payloadBytes: parseSize(values.payload),
    send,
    lb,
    db: values.db ?? null,
    out: values.out ?? null,
    seed,
    workers,
    drainMs,
    idle,
    killOne: values["kill-one"],
    scryptN,
    kdfIterations,
    analyze: !values["no-analyze"],
    warmup: !values["no-warmup"],
    identityPool,
    driver,
    cpuProf: values["cpu-prof"],
    traceGc: values["trace-gc"],
    heapSample: values["heap-sample"] || values["heap-survivors"],
    heapSurvivors: values["heap-survivors"],
    linuxPerf: values["linux-perf"],
    hostCheckMs,
    wakeMeter: values["wake-meter"],
    fabric,
    args: argv,
  };
}

/** `--peers K`: 1 ≤ K ≤ clients − 1, dm mode only; null when not given. */
function peersFlag(
  value: string | undefined,
  mode: RunConfig["mode"],
  clients: number,
): number | null {
  if (value === undefined) return null;
  if (mode !== "dm") throw invalid(`--peers bounds direct messages: it needs --mode dm`);
  const k = integer("peers", value, 1);
  if (k > clients - 1) {
    throw invalid(
      `--peers ${k} is more than the ${clients - 1} other clients of --clients ${clients}`,
    );
  }
  return k;
}

/** `--group-size`, `--group-senders` and `--file-bytes`, checked against `mode`. */
function modeOptions(
  mode: RunConfig["mode"],
  values: {
    "group-size"?: string;
    "group-senders"?: string;
    "file-bytes"?: string;
    duration?: string;
    "kill-one"?: boolean;
  },
  clients: number,
): Pick<RunConfig, "groupSize" | "groupSenders" | "fileBytes"> {
  const given = (f: "group-size" | "group-senders" | "file-bytes") => values[f] !== undefined;
  if (mode !== "group" && (given("group-size") || given("group-senders"))) {
    throw invalid("--group-size and --group-senders need --mode group");
  }
  if (mode !== "file" && given("file-bytes")) throw invalid("--file-bytes needs --mode file");
  if (mode !== "dm" && values["kill-one"]) throw invalid("--kill-one measures --mode dm only");
  if (mode === "group") {
    if (!given("group-size")) throw invalid("--mode group needs --group-size N");
    const size = integer("group-size", values["group-size"]!, 2);
    if (size > clients) throw invalid(`--group-size ${size} is more than --clients ${clients}`);
    if (clients % size !== 0) {
      throw invalid(`--clients ${clients} must be a multiple of --group-size ${size}`);
    }
    const senders = given("group-senders")
      ? integer("group-senders", values["group-senders"]!, 1)
      : size;
    if (senders > size) throw invalid(`--group-senders ${senders} is more than --group-size`);
    return { groupSize: size, groupSenders: senders, fileBytes: null };
  }
  if (mode === "file") {
    if (values.duration !== undefined) {
      throw invalid("--mode file counts files: use --messages M (files per client)");
    }
    const bytes = parseFileSize(values["file-bytes"] ?? "1MiB");
    return { groupSize: null, groupSenders: null, fileBytes: bytes };
  }
  return { groupSize: null, groupSenders: null, fileBytes: null };
}

/**
 * The default run directory name: `<timestamp>-c<N>-s<S>` (`-idle<N>` in
 * idle mode; `s-lb` against a running cluster).
 *
 * @example
 * ```ts
 * import { parseRunArgs, runDirName } from "./run_config.ts";
 * const cfg = parseRunArgs(["--clients", "10", "--messages", "5", "--servers", "2"]);
 * runDirName(cfg, new Date("2025-01-02T03:04:05Z")); // "20250102T030405Z-c10-s2"
 * ```
 */
export function runDirName(cfg: RunConfig, at: Date): string {
  const ts = runStamp(at);
  const who = cfg.idle
    ? `idle${cfg.clients}`
    : `c${cfg.clients}${
      cfg.mode === "group" ? `-g${cfg.groupSize}` : cfg.mode === "file" ? "-file" : ""
    }`;
  return `${ts}-${who}-s${cfg.servers ?? "lb"}`;
}

/**
 * Command line of the load generator (`deno task perf -- …`): parsing and
 * validation into a {@link RunConfig}. Every error is a
 * `FastChatError("INVALID_CONFIG")` whose message names the flag and what
 * it accepts.
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
import { FastChatError } from "@fastchat/lib/errors";
import { USERNAME_RE } from "@fastchat/lib/protocol";

/** Chat servers' scrypt cost for perf runs (see HELP for why). */
export const PERF_SCRYPT_N = 16384;
/** scrypt cost in `--idle` mode: 10,000 logins must stay feasible. */
export const IDLE_SCRYPT_N = 1024;
/** PBKDF2 iterations of perf users (the client library's default). */
export const PERF_KDF_ITERATIONS = 600_000;
/** PBKDF2 iterations of `--idle` users: the smallest the client accepts. */
export const IDLE_KDF_ITERATIONS = 100_000;
/** Largest `--payload`: leaves room for the ciphertext framing under the 960 KiB body limit. */
export const MAX_PAYLOAD_BYTES = 900 * 1024;

/** Delay between a client's messages. */
export type DelaySpec =
  | { dist: "const"; ms: number }
  | { dist: "exp"; meanMs: number }
  | { dist: "normal"; meanMs: number; sdMs: number };

/** How clients pace their messages. */
export type SendModel =
  /** Closed loop: at most `window` messages per client without a `sent` ack. */
  | { kind: "window"; window: number }
  /** Open loop: `perSecond` messages per second in total, split evenly over clients. */
  | { kind: "rate"; perSecond: number }
  /** Open loop: a random delay between each client's messages. */
  | { kind: "delay"; delay: DelaySpec };

/** Everything a run needs, defaults applied. */
export interface RunConfig {
  /** Conversation kind; only `dm` exists yet. */
  mode: "dm";
  /** Messaging clients, or the idle connections with `idle`. */
  clients: number;
  /** Messages per client (total = clients × messages); null with `durationMs`. */
  messages: number | null;
  /** Send until this much time after "go"; null with `messages`. */
  durationMs: number | null;
  /** Chat servers of the cluster perf starts (null with `lb`). */
  servers: number | null;
  /** The `--payload` text, e.g. `1KiB`. */
  payload: string;
  payloadBytes: number;
  send: SendModel;
  /** A running cluster's load balancer; null: start one. */
  lb: { host: string; port: number } | null;
  /** PostgreSQL URL for the cluster perf starts; null: embedded in-memory database. */
  db: string | null;
  /** Run directory; null: `perf/out/<timestamp>-c<N>-s<S>`. */
  out: string | null;
  /** Names users `perf-<seed>-<i>` and seeds every random choice. */
  seed: string;
  /** Worker processes. */
  workers: number;
  /** How long to wait for missing messages after the last send. */
  drainMs: number;
  /** Idle mode: log `clients` in, then measure server RSS per connection. */
  idle: boolean;
  /** SIGKILL one server under load and measure recovery. */
  killOne: boolean;
  /** Servers' `--scrypt-n`. */
  scryptN: number;
  /** PBKDF2 iterations of newly registered users. */
  kdfIterations: number;
  /** Run `perf/analyze.ts` on the run directory at the end. */
  analyze: boolean;
  /**
   * Before timing, each client sends one unrecorded message to every peer it
   * will write to, so session keys exist (no RSA in the timed phase).
   */
  warmup: boolean;
  /** Identities per worker reused across new users (0: each user generates its own). */
  identityPool: number;
  /** Write V8 CPU profiles of all processes to `<run>/profiles/`. */
  cpuProf: boolean;
}

export const HELP = `Usage: deno task perf -- --clients N (--messages M | --duration D) [options]
       deno task perf -- --idle N [--servers S]

Drives a FastChat cluster with N real clients (end-to-end encrypted, spread
over worker processes) and records every event per client as CSV.

  --clients N         messaging clients (at least 2)
  --messages M        messages PER CLIENT: the run sends N*M in total
  --duration D        instead of --messages: send until D after "go" (e.g. 30s, 2m)
  --servers S         chat servers of the cluster perf starts (default 1)
  --mode dm           conversation kind (default dm; group and file come with the groups issue)
  --payload SIZE      message text size: 100B, 1KiB, 64KiB, 1000 (bytes) (default 100B)
send model (one of; default --window 16):
  --window W          closed loop: at most W messages per client not yet acked by the server
  --rate R/s          open loop: R messages per second in total, split evenly over the
                      clients, paced on timers (late timers catch up)
  --delay SPEC        open loop: delay between a client's messages, seeded:
                      const:10ms | exp:12ms (exponential, mean) | normal:10ms,5ms (mean, sd)
target:
  --lb HOST:PORT      drive a running cluster through this load balancer
                      (default: start db + S servers + LB as processes, stop them afterwards)
  --db URL            with the cluster perf starts: use this PostgreSQL
                      (default: embedded database in memory)
other:
  --out DIR           run directory (default perf/out/<timestamp>-c<N>-s<S>)
  --seed X            users are perf-<X>-<i>; seeds recipients, payloads and delays
                      (default: random; reuse a seed with --lb/--db to log existing users in)
  --workers W         worker processes (default: CPU cores, at most N)
  --drain D           wait this long after the last send for missing messages (default 30s)
  --scrypt-n N        servers' password-hash cost (default ${PERF_SCRYPT_N}; ${IDLE_SCRYPT_N} with --idle)
  --kdf-iterations N  clients' PBKDF2 iterations for new users
                      (default ${PERF_KDF_ITERATIONS}; ${IDLE_KDF_ITERATIONS} with --idle)
  --idle N            log N clients in and keep them idle; report server RSS per connection
                      (writes idle.json)
  --kill-one          SIGKILL one server once a quarter of the load is sent; measure how long
                      its clients take to reconnect and count lost/duplicated messages
                      (writes reconnect.json; needs --servers 2 or more)
  --no-warmup         skip the key warm-up: by default, before timing, every client sends one
                      unrecorded message to each peer it will write to, so the timed phase
                      measures chat between users who already share session keys; without it
                      the first message of each pair pays for RSA key wrapping
  --identity-pool N   each worker generates N identities (RSA + Ed25519 key pairs) and new
                      users reuse them round-robin; 0: every user generates its own
                      (default 0; 16 with --idle). Messages stay end-to-end encrypted;
                      it only spares RSA key generation (~0.2 s per user) when
                      registering thousands of users
  --no-analyze        do not run perf/analyze.ts on the run directory at the end
  --cpu-prof          write V8 CPU profiles of every process (servers, LB, database, workers)
                      to DIR/profiles/*.cpuprofile (open in Chrome DevTools)

Cost choices: the servers hash passwords with scrypt N=${PERF_SCRYPT_N} (16 MiB, ~40 ms) rather
than the production 32768 so registering hundreds of users takes seconds, while staying a
real memory-hard hash; with --idle, N=${IDLE_SCRYPT_N} and ${IDLE_KDF_ITERATIONS} PBKDF2 iterations
make 10,000 logins feasible. The servers perf starts allow 2,000 register/login requests per
second per address (production default 5): every perf client comes from 127.0.0.1. All of
this only affects the register/login phases, which are timed separately from messaging
(phases in run.json).`;

/** Identities per worker in idle mode (see `--identity-pool`). */
const IDLE_IDENTITY_POOL = 16;

function invalid(message: string): FastChatError {
  return new FastChatError("INVALID_CONFIG", `${message}; see --help`);
}

function integer(name: string, v: string, min: number): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isSafeInteger(n) || n < min) {
    throw invalid(`--${name} must be an integer >= ${min}, not ${JSON.stringify(v)}`);
  }
  return n;
}

const DURATION_UNITS: Record<string, number> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a duration with a unit (`500us`, `10ms`, `1.5s`, `2m`, `1h`) into milliseconds.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./run_config.ts";
 * parseDuration("1.5s", "--duration"); // 1500
 * ```
 */
export function parseDuration(v: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(us|ms|s|m|h)$/.exec(v.trim());
  if (!m) {
    throw invalid(
      `${flag} needs a number with a unit (us, ms, s, m, h), e.g. 10ms; got ${JSON.stringify(v)}`,
    );
  }
  return Number(m[1]) * DURATION_UNITS[m[2]];
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1_000_000,
  mib: 1024 * 1024,
};

/**
 * Parses a payload size (`100B`, `1KiB`, `64KiB`, `2KB`, or plain bytes) into bytes.
 *
 * @example
 * ```ts
 * import { parseSize } from "./run_config.ts";
 * parseSize("64KiB"); // 65536
 * ```
 */
export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib)?$/i.exec(v.trim());
  if (!m) {
    throw invalid(`--payload must be a size like 100B, 1KiB or 64KiB; got ${JSON.stringify(v)}`);
  }
  const bytes = Number(m[1]) * SIZE_UNITS[(m[2] ?? "b").toLowerCase()];
  if (!Number.isInteger(bytes) || bytes < 1) {
    throw invalid(`--payload must be a whole number of bytes >= 1; got ${JSON.stringify(v)}`);
  }
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw invalid(`--payload may be at most ${MAX_PAYLOAD_BYTES} bytes (900KiB); got ${v}`);
  }
  return bytes;
}

/**
 * Parses `const:10ms`, `exp:12ms` or `normal:10ms,5ms`.
 *
 * @example
 * ```ts
 * import { parseDelay } from "./run_config.ts";
 * parseDelay("normal:10ms,5ms"); // { dist: "normal", meanMs: 10, sdMs: 5 }
 * ```
 */
export function parseDelay(v: string): DelaySpec {
  const [dist, args = "", ...rest] = v.trim().split(":");
  const parts = args.split(",");
  const bad = () =>
    invalid(
      `--delay must be const:<d>, exp:<mean> or normal:<mean>,<sd> (e.g. exp:12ms); got ${
        JSON.stringify(v)
      }`,
    );
  if (rest.length > 0 || args === "") throw bad();
  switch (dist) {
    case "const":
      if (parts.length !== 1) throw bad();
      return { dist, ms: parseDuration(parts[0], "--delay") };
    case "exp": {
      if (parts.length !== 1) throw bad();
      const meanMs = parseDuration(parts[0], "--delay");
      if (meanMs <= 0) throw invalid("--delay exp: the mean must be > 0");
      return { dist, meanMs };
    }
    case "normal":
      if (parts.length !== 2) throw bad();
      return {
        dist,
        meanMs: parseDuration(parts[0], "--delay"),
        sdMs: parseDuration(parts[1], "--delay"),
      };
    default:
      throw bad();
  }
}

/**
 * Parses `--rate` (`500/s` or `500`) into messages per second.
 *
 * @example
 * ```ts
 * import { parseRate } from "./run_config.ts";
 * parseRate("2000/s"); // 2000
 * ```
 */
export function parseRate(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(v.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!(n > 0)) {
    throw invalid(`--rate must be a positive rate like 500/s; got ${JSON.stringify(v)}`);
  }
  return n;
}

/**
 * Parses `host:port` (IPv6 as `[::1]:7700`).
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./run_config.ts";
 * parseHostPort("127.0.0.1:7700"); // { host: "127.0.0.1", port: 7700 }
 * ```
 */
export function parseHostPort(v: string): { host: string; port: number } {
  const i = v.lastIndexOf(":");
  const host = i > 0 ? v.slice(0, i).replace(/^\[(.*)\]$/, "$1") : "";
  const port = Number(v.slice(i + 1));
  if (i <= 0 || host === "" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(`--lb must be host:port, e.g. 127.0.0.1:7700; got ${JSON.stringify(v)}`);
  }
  return { host, port };
}

/** A random seed usable in user names (8 base-36 characters). */
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
  let values;
  try {
    ({ values } = parseArgs({
      args: args[0] === "--" ? args.slice(1) : args,
      options: {
        clients: { type: "string" },
        messages: { type: "string" },
        duration: { type: "string" },
        servers: { type: "string" },
        mode: { type: "string", default: "dm" },
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
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw invalid(e instanceof Error ? e.message : String(e));
  }
  if (values.mode === "group" || values.mode === "file") {
    throw new FastChatError(
      "INVALID_CONFIG",
      `--mode ${values.mode} comes with the groups issue (group conversations and file ` +
        `transfer are not in FastChat yet); use --mode dm`,
    );
  }
  if (values.mode !== "dm") throw invalid(`--mode must be dm (group and file come later)`);

  const idle = values.idle !== undefined;
  let clients: number;
  if (idle) {
    for (const f of ["clients", "messages", "duration", "window", "rate", "delay"] as const) {
      if (values[f] !== undefined) {
        throw invalid(`--idle N is its own mode (N idle clients); do not combine it with --${f}`);
      }
    }
    if (values["kill-one"]) throw invalid("--idle and --kill-one do not go together");
    clients = integer("idle", values.idle!, 1);
  } else {
    if (values.clients === undefined) throw invalid("--clients N is required (or --idle N)");
    clients = integer("clients", values.clients, 2);
  }

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

  const lb = values.lb !== undefined ? parseHostPort(values.lb) : null;
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

  const cores = Math.max(1, env.cores ?? 1);
  const workers = values.workers !== undefined
    ? Math.min(integer("workers", values.workers, 1), clients)
    : Math.min(cores, clients);

  const drainMs = parseDuration(values.drain, "--drain");
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
    mode: "dm",
    clients,
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
    cpuProf: values["cpu-prof"],
  };
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
  const ts = at.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const who = cfg.idle ? `idle${cfg.clients}` : `c${cfg.clients}`;
  return `${ts}-${who}-s${cfg.servers ?? "lb"}`;
}

/**
 * The run schema: {@link RunConfig} (what a load run was asked to do, as
 * `parseRunArgs` builds it) and {@link RunRecord} (`run.json`: that
 * configuration plus versions, machine, phases and results). `perf/main.ts`
 * writes `run.json` once at the end of a run; `perf/analyze.ts` reads it
 * back with {@link readRunRecord}, which checks the parts the analysis
 * uses and names the first field that does not match.
 *
 * @example
 * ```ts
 * import { readRunRecord, sendLabel } from "./run_schema.ts";
 * const run = await readRunRecord("perf/testdata/clean");
 * console.log(run.config.clients, sendLabel(run.config.send));
 * ```
 * @module
 */
import type { FabricConfig } from "@fastchat/server/fabric_config";
import { FastChatError } from "@fastchat/lib/errors";
import { type HostStalls, parseHostStalls } from "./host_stalls.ts";
import type { IdleReport } from "./idle_mode.ts";
import type { ReconnectRecord } from "./kill_one.ts";
import type { MessagingStats, PhaseStats } from "./phase_stats.ts";
import type { GroupMembership } from "./group_plan.ts";
import type { FileModeRecord } from "./file_mode.ts";

/**
 * Delay between a client's messages.
 *
 * @example
 * ```ts
 * import type { DelaySpec } from "./run_schema.ts";
 * const d: DelaySpec = { dist: "exp", meanMs: 12 }; // --delay exp:12ms
 * ```
 */
export type DelaySpec =
  | { dist: "const"; ms: number }
  | { dist: "exp"; meanMs: number }
  | { dist: "normal"; meanMs: number; sdMs: number };

/**
 * How clients pace their messages.
 *
 * @example
 * ```ts
 * import type { SendModel } from "./run_schema.ts";
 * const s: SendModel = { kind: "rate", perSecond: 500 }; // --rate 500/s
 * ```
 */
export type SendModel =
  /** Closed loop: at most `window` messages per client without a `sent` ack. */
  | { kind: "window"; window: number }
  /** Open loop: `perSecond` messages per second in total, split evenly over clients. */
  | { kind: "rate"; perSecond: number }
  /** Open loop: a random delay between each client's messages. */
  | { kind: "delay"; delay: DelaySpec };

/**
 * Everything a run needs, defaults applied; `run.json` holds it as `config`.
 *
 * @example
 * ```ts
 * import { parseRunArgs } from "./run_config.ts";
 * import type { RunConfig } from "./run_schema.ts";
 * const cfg: RunConfig = parseRunArgs(["--clients", "10", "--messages", "5"]);
 * cfg.servers; // 1
 * ```
 */
export interface RunConfig {
  /**
   * Conversation kind: `dm` (direct messages to random peers), `group`
   * (clients in groups of `groupSize`, each sender posting to its group) or
   * `file` (each message is a file of `fileBytes` to a random peer).
   */
  mode: "dm" | "group" | "file";
  /** `--group-size`: members per group (group mode; null otherwise). */
  groupSize?: number | null;
  /** `--group-senders`: members of each group that send, the first ones (group mode). */
  groupSenders?: number | null;
  /** `--file-bytes`: size of every file (file mode; null otherwise). */
  fileBytes?: number | null;
  /** Messaging clients, or the idle connections with `idle`. */
  clients: number;
  /**
   * `--peers`: each client writes only to its K peers of a seeded ring
   * (`peer_graph.ts`, dm mode); null (or absent, in older runs): to any other client.
   */
  peers?: number | null;
  /** Messages per client (total = clients × messages); null with `durationMs`. */
  messages: number | null;
  /** Send until this much time after "go"; null with `messages`. */
  durationMs: number | null;
  /** Chat servers of the cluster perf starts (null with `lb`). */
  servers: number | null;
  /** The `--payload` text, e.g. `1KiB`. */
  payload: string;
  /** The payload size in bytes. */
  payloadBytes: number;
  /** How clients pace their messages. */
  send: SendModel;
  /** A running cluster's load balancer as `host:port`; null: start one. */
  lb: string | null;
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
  /**
   * `--driver`: `client` (the real ChatClient, end-to-end encryption and all)
   * or `wire` (perf/wire_chat_client.ts: protocol frames with a replayed
   * sealed body, to load the servers to saturation). Absent in older runs: client.
   */
  driver?: "client" | "wire";
  /** Write V8 CPU profiles of all processes to `<run>/profiles/`. */
  cpuProf: boolean;
  /** Run the cluster's processes with V8's `--trace-gc` (absent in older runs: false). */
  traceGc?: boolean;
  /**
   * Sample the load workers' heap allocations while they send (from "go" to
   * the end of the drain) into `<run>/profiles/worker-<k>.heapprofile`
   * (absent in older runs: false).
   */
  heapSample?: boolean;
  /** With `heapSample`: count only what survived a scavenge (absent in older runs: false). */
  heapSurvivors?: boolean;
  /**
   * Record Linux perf's on-CPU samples of the servers and load workers in
   * the messaging phase into `<run>/profiles/` (absent in older runs: false).
   */
  linuxPerf?: boolean;
  /**
   * How long the host check spun one thread per core before the run, ms
   * (0: skipped; absent in older runs, which had none).
   */
  hostCheckMs?: number;
  /**
   * Measure wake-up delays in the messaging phase into `<run>/wake_delays.json`
   * (absent in older runs: false).
   */
  wakeMeter?: boolean;
  /** How the servers perf starts reach each other (`--fabric`, `--nats`). */
  fabric: FabricConfig;
  /** The command line it was parsed from (after `--`). */
  args: string[];
}

/**
 * Software versions of the run.
 *
 * @example
 * ```ts
 * import { readRunRecord } from "./run_schema.ts";
 * (await readRunRecord("perf/testdata/clean")).versions.deno; // "2.9.6"
 * ```
 */
export interface RunVersions {
  deno: string;
  v8: string;
  typescript: string;
  fastchat: string;
}

/**
 * The machine the run ran on.
 *
 * @example
 * ```ts
 * import { readRunRecord } from "./run_schema.ts";
 * (await readRunRecord("perf/testdata/clean")).machine.cores; // 2
 * ```
 */
export interface RunMachine {
  cores: number;
  memoryBytes: number;
  os: string;
  arch: string;
  hostname: string;
}

/**
 * The phases of `run.json`: null for a phase that did not run (or not to its end).
 *
 * @example
 * ```ts
 * import { readRunRecord } from "./run_schema.ts";
 * (await readRunRecord("perf/testdata/clean")).phases.register?.perSecond; // 50
 * ```
 */
export interface RunPhases {
  register: PhaseStats | null;
  login: PhaseStats | null;
  warmup: PhaseStats | null;
  messaging: MessagingStats | null;
  /** `--mode group`/`file`: the prepare phase (groups created, test files written). */
  prepare?: PhaseStats | null;
}

/**
 * The workers' summed counters at the end of the run.
 *
 * @example
 * ```ts
 * import { readRunRecord } from "./run_schema.ts";
 * (await readRunRecord("perf/testdata/clean")).results?.missing; // 0
 * ```
 */
export interface RunResults {
  sent: number;
  acked: number;
  received: number;
  delivered: number;
  /** Sent, not received and not failed. */
  missing: number;
  failed: number;
  errors: number;
  msgsPerSec: number;
  disconnects: number;
  /** Disconnects per `<phase>:<close code>`. */
  disconnectCodes: Record<string, number>;
  reconnects: number;
}

/**
 * The content of `run.json`, fields in the order written.
 *
 * @example
 * ```ts
 * import { readRunRecord, type RunRecord } from "./run_schema.ts";
 * const run: RunRecord = await readRunRecord("perf/testdata/clean");
 * run.config.clients; // 2
 * ```
 */
export interface RunRecord {
  config: RunConfig;
  versions: RunVersions;
  machine: RunMachine;
  /** The host check before the run (`--host-check`): how long the host stalled spinning threads. */
  hostStalls?: HostStalls;
  /** ISO date. */
  startedAt: string;
  /** ISO date. */
  endedAt: string;
  interrupted: boolean;
  /** Why the run failed; absent if it did not. */
  error?: string;
  phases: RunPhases;
  /** Null if no worker ran. */
  results: RunResults | null;
  workers: { index: number; pid: number }[];
  clientsPerServer: Record<string, number>;
  /** The load balancer: the one perf started (`rate` 0), or `--lb` (`pid` null). */
  lb: { address: string; pid: number; rate: number } | { address: string | null; pid: null };
  /** The database: the one perf started, or `external` with `--lb`. */
  db: { kind: "postgres" | "embedded-memory"; pid: number | null } | { kind: "external" };
  /** Chat servers (`pid` null with `--lb`: known from the clients' connections). */
  servers: { id: string; address: string; pid: number | null; killed: boolean }[];
  /** `--idle`: the idle memory report. */
  idle?: IdleReport;
  /** `--kill-one`: reconnect timing and the delivery check. */
  reconnect?: ReconnectRecord;
  /** `--mode group`: every group and its members (the first member created it). */
  groups?: GroupMembership[];
  /** `--mode file`: the servers' memory while files were transferred. */
  file?: FileModeRecord;
}

/**
 * The send model as text: `window 16`, `rate 500/s`, `delay exp:12ms`,
 * `delay const:10ms` or `delay normal:10ms,5ms` (the `--delay` syntax).
 *
 * @example
 * ```ts
 * import { sendLabel } from "./run_schema.ts";
 * sendLabel({ kind: "delay", delay: { dist: "exp", meanMs: 12 } }); // "delay exp:12ms"
 * ```
 */
export function sendLabel(send: SendModel): string {
  switch (send.kind) {
    case "window":
      return `window ${send.window}`;
    case "rate":
      return `rate ${send.perSecond}/s`;
    case "delay": {
      const d = send.delay;
      if (d.dist === "const") return `delay const:${d.ms}ms`;
      if (d.dist === "exp") return `delay exp:${d.meanMs}ms`;
      return `delay normal:${d.meanMs}ms,${d.sdMs}ms`;
    }
  }
}

type Kind = "string" | "number" | "boolean" | "object" | "array" | "date";

function kindOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** Checks `o[key]` against `kinds` (`null`, or absent for `undefined`, when listed); returns it. */
function field(
  o: Record<string, unknown>,
  key: string,
  path: string,
  where: string,
  ...kinds: (Kind | "null" | "undefined")[]
): unknown {
  const v = o[key];
  const ok = kinds.some((k) =>
    k === "null"
      ? v === null
      : k === "undefined"
      ? v === undefined
      : k === "date"
      ? typeof v === "string" && !Number.isNaN(Date.parse(v))
      : k === "number"
      ? typeof v === "number" && Number.isFinite(v)
      : kindOf(v) === k
  );
  if (!ok) {
    throw new FastChatError(
      "INVALID_CONFIG",
      `${where}: ${path}${key} must be ${
        kinds.map((k) => k === "undefined" ? "absent" : k).join(" or ")
      }, got ${JSON.stringify(v) ?? "nothing"}`,
    );
  }
  return v;
}

const CONFIG_FIELDS: [string, ...(Kind | "null" | "undefined")[]][] = [
  ["mode", "string"],
  ["clients", "number"],
  ["peers", "number", "null", "undefined"],
  ["messages", "number", "null"],
  ["durationMs", "number", "null"],
  ["servers", "number", "null"],
  ["payload", "string"],
  ["payloadBytes", "number"],
  ["send", "object"],
  ["lb", "string", "null"],
  ["db", "string", "null"],
  ["seed", "string"],
  ["args", "array"],
];

/**
 * Checks parsed `run.json` contents against {@link RunRecord}: the
 * configuration, versions, machine, start and end, and the phases (what
 * the analysis reads). `where` names the file in error messages, which are
 * `FastChatError("INVALID_CONFIG")` naming the first wrong field.
 *
 * @example
 * ```ts
 * import { parseRunRecord } from "./run_schema.ts";
 * try {
 *   parseRunRecord({ config: {} }, "run.json");
 * } catch (e) {
 *   console.log((e as Error).message); // run.json: config.mode must be string, got nothing
 * }
 * ```
 */
export function parseRunRecord(raw: unknown, where: string): RunRecord {
  if (kindOf(raw) !== "object") {
    throw new FastChatError(
      "INVALID_CONFIG",
      `${where}: expected a JSON object, got ${kindOf(raw)}`,
    );
  }
  const r = raw as Record<string, unknown>;
  const c = field(r, "config", "", where, "object") as Record<string, unknown>;
  for (const [key, ...kinds] of CONFIG_FIELDS) field(c, key, "config.", where, ...kinds);
  if (!Number.isSafeInteger(c.clients) || (c.clients as number) < 0) {
    throw new FastChatError(
      "INVALID_CONFIG",
      `${where}: config.clients must be a non-negative integer, got ${c.clients}`,
    );
  }
  const send = c.send as Record<string, unknown>;
  field(send, "kind", "config.send.", where, "string");
  if (!["window", "rate", "delay"].includes(send.kind as string)) {
    throw new FastChatError(
      "INVALID_CONFIG",
      `${where}: config.send.kind must be window, rate or delay, got ${JSON.stringify(send.kind)}`,
    );
  }
  const v = field(r, "versions", "", where, "object") as Record<string, unknown>;
  for (const k of ["deno", "v8", "typescript", "fastchat"]) {
    field(v, k, "versions.", where, "string");
  }
  const m = field(r, "machine", "", where, "object") as Record<string, unknown>;
  for (const k of ["cores", "memoryBytes"]) field(m, k, "machine.", where, "number");
  for (const k of ["os", "arch", "hostname"]) field(m, k, "machine.", where, "string");
  field(r, "startedAt", "", where, "date");
  field(r, "endedAt", "", where, "date");
  field(r, "interrupted", "", where, "boolean");
  const p = field(r, "phases", "", where, "object") as Record<string, unknown>;
  for (const k of ["register", "login", "warmup"]) {
    const ph = field(p, k, "phases.", where, "object", "null") as Record<string, unknown> | null;
    if (ph) { for (const n of ["count", "ms"]) field(ph, n, `phases.${k}.`, where, "number"); }
  }
  parseHostStalls(r.hostStalls, where);
  const msg = field(p, "messaging", "phases.", where, "object", "null");
  if (msg) {
    for (const n of ["startMs", "endMs"]) {
      field(msg as Record<string, unknown>, n, "phases.messaging.", where, "number");
    }
  }
  return raw as RunRecord;
}

/**
 * Reads and checks `DIR/run.json` (see {@link parseRunRecord}). A missing
 * directory or file is `BAD_REQUEST`; invalid JSON or contents are
 * `INVALID_CONFIG`.
 *
 * @example
 * ```ts
 * import { readRunRecord } from "./run_schema.ts";
 * console.log((await readRunRecord("perf/testdata/clean")).config.clients); // 2
 * ```
 */
export async function readRunRecord(dir: string): Promise<RunRecord> {
  const path = dir.endsWith("/") ? `${dir}run.json` : `${dir}/run.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      let st: Deno.FileInfo | null = null;
      try {
        st = await Deno.stat(dir);
      } catch (e2) {
        if (!(e2 instanceof Deno.errors.NotFound)) throw e2;
      }
      if (!st) throw new FastChatError("BAD_REQUEST", `${dir}: no such run directory`);
      if (!st.isDirectory) throw new FastChatError("BAD_REQUEST", `${dir}: not a directory`);
      throw new FastChatError("BAD_REQUEST", `${path}: missing (not a run directory?)`);
    }
    if (e instanceof Deno.errors.NotADirectory) {
      throw new FastChatError("BAD_REQUEST", `${dir}: not a directory`);
    }
    throw new FastChatError("BAD_REQUEST", `${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FastChatError("INVALID_CONFIG", `${path}: invalid JSON: ${(e as Error).message}`);
  }
  return parseRunRecord(raw, path);
}

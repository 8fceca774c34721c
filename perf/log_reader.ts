/**
 * Reads a load-generator run directory: `run.json` (configuration, versions,
 * machine, phase timings) and `clients/<user>.csv` (one event log per
 * simulated client), validating as it goes. CSV files are streamed through
 * `csv-parse` and every row is handed to a callback as plain arguments, so
 * millions of rows cost no per-row objects beyond the parser's own.
 *
 * Bad input raises a {@link FastChatError} whose message names the file and
 * line, e.g. `run1/clients/u17.csv line 42: time_ms "abc" is not a number`
 * (`BAD_REQUEST` for missing or corrupt files, `INVALID_CONFIG` for an
 * unusable `run.json`).
 *
 * @example
 * ```ts
 * import { readRun } from "@fastchat/perf/log_reader";
 * const { info, rows } = await readRun("perf/testdata/clean", (_u, id, ev, t) => {
 *   console.log(id, ev, t);
 * });
 * console.log(info.config.clients, rows);
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { parse } from "csv-parse";
import { FastChatError } from "@fastchat/lib/errors";

/** The exact header line of a client log. */
export const CSV_HEADER = "message_id,event,time_ms,bytes,peer,kind";

/** Event names of a client log, in the order of their numeric codes. */
export const EVENTS = ["sent", "acked", "received", "delivered", "error"] as const;
/** One of {@link EVENTS}. */
export type LogEvent = typeof EVENTS[number];

/** Numeric event codes passed to a {@link RowSink}. */
export const EV_SENT = 0;
/** `acked`: the server accepted the message. */
export const EV_ACKED = 1;
/** `received`: the recipient decrypted it. */
export const EV_RECEIVED = 2;
/** `delivered`: the sender got the delivery receipt. */
export const EV_DELIVERED = 3;
/** `error`: any failure; the code is in `kind`. */
export const EV_ERROR = 4;

const EVENT_CODE: ReadonlyMap<string, number> = new Map(EVENTS.map((e, i) => [e, i]));

/** Configuration the load generator ran with; only `clients` is required. */
export interface RunConfig {
  clients: number;
  messages?: number;
  servers?: number;
  mode?: string;
  /** `"100B"`, `"1KiB"`, `"64KiB"` or a byte count. */
  payload?: string | number;
  payloadBytes?: number;
  delay?: number;
  rate?: number;
  window?: number;
  duration?: number;
  /**
   * How clients paced their messages, for display (`window 16`, `rate 500/s`,
   * `delay exp:12ms`): from a `send` object (`{kind, window | perSecond |
   * delay}`) or the flat `window` / `rate` / `delay` fields.
   */
  send?: string;
  seed?: number | string;
  db?: string;
  lb?: string | boolean | number;
}

/** Timings of the phases before and during messaging. */
export interface RunPhases {
  register?: { count?: number; ms?: number };
  login?: { count?: number; ms?: number };
  messaging?: { startMs?: number; endMs?: number };
}

/** The contents of `run.json`, normalized: wrongly typed optional fields are dropped. */
export interface RunInfo {
  config: RunConfig;
  versions?: { deno?: string; v8?: string; typescript?: string; fastchat?: string };
  machine?: {
    cores?: number;
    memoryBytes?: number;
    os?: string;
    arch?: string;
    hostname?: string;
  };
  startedAt: string;
  endedAt?: string;
  phases?: RunPhases;
}

/**
 * Receives one validated log row. `event` is one of the `EV_*` codes;
 * `bytes` is 0 when an error row leaves it empty; `file` is the index of
 * the client log in {@link RunLogs.files}.
 */
export type RowSink = (
  file: number,
  messageId: string,
  event: number,
  timeMs: number,
  bytes: number,
  peer: string,
  kind: string,
) => void;

/** What {@link readRun} found. */
export interface RunLogs {
  info: RunInfo;
  /** Client log paths relative to the run directory, e.g. `clients/u1.csv`. */
  files: string[];
  /** Data rows read (headers excluded). */
  rows: number;
}

const PAYLOAD_UNITS: Record<string, number> = {
  b: 1,
  kb: 1_000,
  kib: 1_024,
  mb: 1_000_000,
  mib: 1_048_576,
};

/**
 * Payload size in bytes from a run config (`payloadBytes`, else `payload`
 * as a number or `"100B"` / `"1KiB"` / `"64KiB"`); undefined when unknown.
 *
 * @example
 * ```ts
 * import { payloadBytesOf } from "@fastchat/perf/log_reader";
 * payloadBytesOf({ clients: 2, payload: "64KiB" }); // 65536
 * ```
 */
export function payloadBytesOf(c: RunConfig): number | undefined {
  if (c.payloadBytes !== undefined) return c.payloadBytes;
  if (typeof c.payload === "number") return c.payload;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]i?[bB]|[bB])?\s*$/.exec(c.payload ?? "");
  if (!m) return undefined;
  return Number(m[1]) * (PAYLOAD_UNITS[(m[2] ?? "b").toLowerCase()] ?? 1);
}

/**
 * Human payload label: the config's own string, else `64KiB`-style.
 *
 * @example
 * ```ts
 * import { payloadLabel } from "@fastchat/perf/log_reader";
 * payloadLabel({ clients: 2, payloadBytes: 1024 }); // "1KiB"
 * ```
 */
export function payloadLabel(c: RunConfig): string | undefined {
  if (typeof c.payload === "string" && c.payload !== "") return c.payload;
  const b = payloadBytesOf(c);
  if (b === undefined) return undefined;
  if (b >= 1_048_576 && b % 1_048_576 === 0) return `${b / 1_048_576}MiB`;
  if (b >= 1_024 && b % 1_024 === 0) return `${b / 1_024}KiB`;
  return `${b}B`;
}

function bad(message: string): FastChatError {
  return new FastChatError("BAD_REQUEST", message);
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw bad(`${path}: ${(e as Error).message}`);
  }
}

const num = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v) ? v : undefined;
const str = (v: unknown): string | undefined => typeof v === "string" ? v : undefined;
const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;

function stripUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function describeSend(
  kind: string | undefined,
  c: RunConfig,
  delaySpec: Record<string, unknown> | undefined,
): string | undefined {
  const k = kind ??
    (c.window !== undefined
      ? "window"
      : c.rate !== undefined
      ? "rate"
      : c.delay !== undefined || delaySpec
      ? "delay"
      : undefined);
  if (k === "window" && c.window !== undefined) return `window ${c.window}`;
  if (k === "rate" && c.rate !== undefined) return `rate ${c.rate}/s`;
  if (k === "delay") {
    const dist = str(delaySpec?.dist);
    const mean = num(delaySpec?.meanMs), sd = num(delaySpec?.sdMs);
    if (dist === "exp" && mean !== undefined) return `delay exp:${mean}ms`;
    if (dist === "normal" && mean !== undefined) return `delay normal:${mean}±${sd ?? "?"}ms`;
    if (c.delay !== undefined) return `delay ${c.delay}ms`;
  }
  return kind;
}

/**
 * Validates and normalizes parsed `run.json` contents; `where` names the
 * file in error messages.
 *
 * @example
 * ```ts
 * import { normalizeRunInfo } from "@fastchat/perf/log_reader";
 * normalizeRunInfo({ config: { clients: 2 }, startedAt: "2026-01-01T00:00:00Z" }, "run.json");
 * ```
 */
export function normalizeRunInfo(raw: unknown, where: string): RunInfo {
  const top = obj(raw);
  if (!top) throw new FastChatError("INVALID_CONFIG", `${where}: expected a JSON object`);
  const c = obj(top.config);
  if (!c) throw new FastChatError("INVALID_CONFIG", `${where}: "config" is missing`);
  const clients = c.clients;
  if (typeof clients !== "number" || !Number.isSafeInteger(clients) || clients < 0) {
    throw new FastChatError(
      "INVALID_CONFIG",
      `${where}: config.clients must be a non-negative integer, got ${JSON.stringify(clients)}`,
    );
  }
  const startedAt = top.startedAt;
  if (typeof startedAt !== "string" || Number.isNaN(Date.parse(startedAt))) {
    throw new FastChatError(
      "INVALID_CONFIG",
      `${where}: startedAt must be an ISO date string, got ${JSON.stringify(startedAt)}`,
    );
  }
  const payload = typeof c.payload === "number" ? num(c.payload) : str(c.payload);
  const lb = typeof c.lb === "boolean" ? c.lb : num(c.lb) ?? str(c.lb);
  const send = obj(c.send);
  const delaySpec = obj(send?.delay);
  const config: RunConfig = stripUndefined({
    clients,
    messages: num(c.messages),
    servers: num(c.servers),
    mode: str(c.mode),
    payload,
    payloadBytes: num(c.payloadBytes),
    delay: num(c.delay) ?? num(send?.delay) ?? num(delaySpec?.ms),
    rate: num(c.rate) ?? num(send?.perSecond) ?? num(send?.rate),
    window: num(c.window) ?? num(send?.window),
    duration: num(c.duration) ?? num(c.durationMs),
    seed: num(c.seed) ?? str(c.seed),
    db: str(c.db),
    lb,
  });
  const sendText = describeSend(str(send?.kind), config, delaySpec);
  if (sendText) config.send = sendText;
  const info: RunInfo = { config, startedAt };
  const v = obj(top.versions);
  if (v) {
    info.versions = stripUndefined({
      deno: str(v.deno),
      v8: str(v.v8),
      typescript: str(v.typescript),
      fastchat: str(v.fastchat),
    });
  }
  const m = obj(top.machine);
  if (m) {
    info.machine = stripUndefined({
      cores: num(m.cores),
      memoryBytes: num(m.memoryBytes),
      os: str(m.os),
      arch: str(m.arch),
      hostname: str(m.hostname),
    });
  }
  const endedAt = str(top.endedAt);
  if (endedAt !== undefined && !Number.isNaN(Date.parse(endedAt))) info.endedAt = endedAt;
  const p = obj(top.phases);
  if (p) {
    const phases: RunPhases = {};
    const count = (k: string) => {
      const ph = obj(p[k]);
      return ph ? stripUndefined({ count: num(ph.count), ms: num(ph.ms) }) : undefined;
    };
    const reg = count("register");
    if (reg) phases.register = reg;
    const login = count("login");
    if (login) phases.login = login;
    const msg = obj(p.messaging);
    if (msg) {
      phases.messaging = stripUndefined({ startMs: num(msg.startMs), endMs: num(msg.endMs) });
    }
    info.phases = phases;
  }
  return info;
}

/**
 * Reads and validates `DIR/run.json`.
 *
 * @example
 * ```ts
 * import { readRunInfo } from "@fastchat/perf/log_reader";
 * console.log((await readRunInfo("perf/testdata/clean")).config.clients);
 * ```
 */
export async function readRunInfo(dir: string): Promise<RunInfo> {
  const st = await statOrNull(dir);
  if (!st) throw bad(`${dir}: no such run directory`);
  if (!st.isDirectory) throw bad(`${dir}: not a directory`);
  const path = joinPath(dir, "run.json");
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw bad(`${path}: missing (not a run directory?)`);
    throw bad(`${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FastChatError("INVALID_CONFIG", `${path}: invalid JSON: ${(e as Error).message}`);
  }
  return normalizeRunInfo(raw, path);
}

/**
 * The client logs of a run, as paths relative to `dir`, sorted by name.
 *
 * @example
 * ```ts
 * import { listClientLogs } from "@fastchat/perf/log_reader";
 * console.log(await listClientLogs("perf/testdata/clean")); // ["clients/alice.csv", ...]
 * ```
 */
export async function listClientLogs(dir: string): Promise<string[]> {
  const clients = joinPath(dir, "clients");
  const st = await statOrNull(clients);
  if (!st || !st.isDirectory) throw bad(`${clients}: missing client log directory`);
  const names: string[] = [];
  for await (const e of Deno.readDir(clients)) {
    if (e.isFile && e.name.endsWith(".csv")) names.push(`clients/${e.name}`);
  }
  return names.sort();
}

interface CsvContext {
  lines: number;
}

/**
 * Streams one client log into `sink`, validating the header and every row.
 * `label` names the file in error messages; `fileIndex` is passed through.
 * Returns the number of data rows.
 *
 * @example
 * ```ts
 * import { readClientLog } from "@fastchat/perf/log_reader";
 * const n = await readClientLog("perf/testdata/clean/clients/alice.csv", "alice.csv", 0, () => {});
 * ```
 */
export async function readClientLog(
  path: string,
  label: string,
  fileIndex: number,
  sink: RowSink,
): Promise<number> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw bad(`${label}: ${(e as Error).message}`);
  }
  let rows = 0;
  let sawHeader = false;
  let failure: unknown;
  const fail = (line: number, msg: string): never => {
    // Recorded synchronously so the read loop stops at the next chunk.
    failure ??= bad(`${label} line ${line}: ${msg}`);
    throw failure;
  };
  const onRecord = (r: string[], ctx: CsvContext): null => {
    const line = ctx.lines;
    if (!sawHeader) {
      const header = r.join(",");
      if (header !== CSV_HEADER) {
        fail(line, `header ${JSON.stringify(header)} is not ${JSON.stringify(CSV_HEADER)}`);
      }
      sawHeader = true;
      return null;
    }
    if (r.length !== 6) fail(line, `expected 6 fields, got ${r.length}`);
    const ev = EVENT_CODE.get(r[1]);
    if (ev === undefined) {
      fail(line, `event ${JSON.stringify(r[1])} is not one of ${EVENTS.join(", ")}`);
    }
    const ts = r[2];
    const t = ts === "" ? NaN : Number(ts);
    if (!Number.isFinite(t)) fail(line, `time_ms ${JSON.stringify(ts)} is not a number`);
    const bs = r[3];
    let b = 0;
    if (bs !== "" || ev !== EV_ERROR) {
      b = bs === "" ? NaN : Number(bs);
      if (!Number.isFinite(b)) fail(line, `bytes ${JSON.stringify(bs)} is not a number`);
      if (b < 0) fail(line, `bytes ${JSON.stringify(bs)} is negative`);
    }
    if (r[0] === "" && ev !== EV_ERROR) fail(line, `message_id is empty`);
    rows++;
    sink(fileIndex, r[0], ev!, t, b, r[4], r[5]);
    return null;
  };
  const parser = parse({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    on_record: onRecord,
  });
  const done = new Promise<void>((resolve) => {
    parser.on("error", (e: unknown) => {
      failure ??= e;
      resolve();
    });
    parser.on("end", () => resolve());
  });
  parser.resume(); // records are consumed in on_record; nothing is pushed
  try {
    for await (const chunk of file.readable) {
      if (failure) break;
      // Bytes go in as they are (csv-parse decodes fields itself; no copy).
      parser.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    if (!failure) parser.end();
  } catch (e) {
    failure ??= e;
    parser.destroy();
  }
  if (!failure) await done;
  if (failure) {
    if (failure instanceof FastChatError) throw failure;
    const e = failure as Error & { lines?: number };
    throw bad(`${label}${e.lines ? ` line ${e.lines}` : ""}: ${e.message}`);
  }
  if (!sawHeader) throw bad(`${label}: empty file (expected header ${CSV_HEADER})`);
  return rows;
}

/**
 * Reads `DIR/run.json` and streams every `DIR/clients/*.csv` into `sink`.
 *
 * @example
 * ```ts
 * import { EV_RECEIVED, readRun } from "@fastchat/perf/log_reader";
 * let received = 0;
 * await readRun("perf/testdata/clean", (_f, _id, ev) => {
 *   if (ev === EV_RECEIVED) received++;
 * });
 * ```
 */
export async function readRun(dir: string, sink: RowSink): Promise<RunLogs> {
  const info = await readRunInfo(dir);
  const files = await listClientLogs(dir);
  let rows = 0;
  for (let i = 0; i < files.length; i++) {
    rows += await readClientLog(joinPath(dir, files[i]), joinPath(dir, files[i]), i, sink);
  }
  return { info, files, rows };
}

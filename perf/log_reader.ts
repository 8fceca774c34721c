/**
 * Reads a load-generator run directory: `run.json` (the run schema,
 * `run_schema.ts`) and `clients/<user>.csv` (one event log per simulated
 * client, `client_log.ts`), validating as it goes. CSV files are streamed through
 * `csv-parse` and every row is handed to a callback as plain arguments, so
 * millions of rows cost no per-row objects beyond the parser's own.
 *
 * Bad input raises a {@link FastChatError} whose message names the file and
 * line, e.g. `run1/clients/u17.csv line 42: time_ms "abc" is not a number`
 * (`BAD_REQUEST` for missing or corrupt files, `INVALID_CONFIG` for a
 * `run.json` that does not match the run schema).
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
import { CSV_HEADER, EV_ERROR, LOG_EVENTS } from "./client_log.ts";
import { readRunRecord, type RunRecord } from "./run_schema.ts";

const HEADER_LINE = CSV_HEADER.join(",");
const EVENT_CODE: ReadonlyMap<string, number> = new Map(LOG_EVENTS.map((e, i) => [e, i]));

/**
 * Receives one validated log row. `event` is one of the `EV_*` codes;
 * `bytes` is 0 when an error row leaves it empty; `file` is the index of
 * the client log in {@link RunLogs.files}.
 *
 * @example
 * ```ts
 * import { EV_SENT } from "./client_log.ts";
 * import type { RowSink } from "./log_reader.ts";
 * let sent = 0;
 * const sink: RowSink = (_file, _id, event) => {
 *   if (event === EV_SENT) sent++;
 * };
 * ```
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

/**
 * What {@link readRun} found.
 *
 * @example
 * ```ts
 * import { readRun } from "./log_reader.ts";
 * const { info, files, rows } = await readRun("perf/testdata/clean", () => {});
 * console.log(info.config.clients, files.length, rows); // 2 2 40
 * ```
 */
export interface RunLogs {
  /** `run.json`. */
  info: RunRecord;
  /** Client log paths relative to the run directory, e.g. `clients/u1.csv`. */
  files: string[];
  /** Data rows read (headers excluded). */
  rows: number;
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
      if (header !== HEADER_LINE) {
        fail(line, `header ${JSON.stringify(header)} is not ${JSON.stringify(HEADER_LINE)}`);
      }
      sawHeader = true;
      return null;
    }
    if (r.length !== 6) fail(line, `expected 6 fields, got ${r.length}`);
    const ev = EVENT_CODE.get(r[1]);
    if (ev === undefined) {
      fail(line, `event ${JSON.stringify(r[1])} is not one of ${LOG_EVENTS.join(", ")}`);
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
  if (!sawHeader) throw bad(`${label}: empty file (expected header ${HEADER_LINE})`);
  return rows;
}

/**
 * Reads `DIR/run.json` and streams every `DIR/clients/*.csv` into `sink`.
 *
 * @example
 * ```ts
 * import { EV_RECEIVED } from "@fastchat/perf/client_log";
 * import { readRun } from "@fastchat/perf/log_reader";
 * let received = 0;
 * await readRun("perf/testdata/clean", (_f, _id, ev) => {
 *   if (ev === EV_RECEIVED) received++;
 * });
 * ```
 */
export async function readRun(dir: string, sink: RowSink): Promise<RunLogs> {
  const info = await readRunRecord(dir);
  const files = await listClientLogs(dir);
  let rows = 0;
  for (let i = 0; i < files.length; i++) {
    rows += await readClientLog(joinPath(dir, files[i]), joinPath(dir, files[i]), i, sink);
  }
  return { info, files, rows };
}

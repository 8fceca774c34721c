/**
 * The two forms of a log line: `json`, one JSON object per line (for log
 * collectors and for FastChat's own launchers, which read their children's
 * events), and `text`, one line a person reads in a terminal:
 *
 * ```text
 * 13:17:09.098 INFO  server peer_link_up peer=fc-45861
 * ```
 *
 * time of day (local), level, component, event, then `key=value` fields; a
 * value that is not a plain word of printable ASCII (spaces, quotes, `=`,
 * objects, other characters) is written as a JSON string with every control
 * character escaped, so no escape sequence reaches the operator's terminal,
 * and an undefined one is left out (as JSON leaves it).
 * {@link parseLogLine} reads either form back.
 *
 * `$FASTCHAT_LOG_FORMAT` picks the form; unset, a process writes `text`
 * when its stderr is a terminal and `json` otherwise.
 *
 * @example
 * ```ts
 * import { formatLogLine, parseLogLine } from "@fastchat/lib/log_format";
 * const r = { ts: "2026-12-07T13:17:09.098Z", level: "info", component: "server",
 *   event: "peer_link_up", peer: "fc-45861" };
 * const line = formatLogLine("text", r); // "13:17:09.098 INFO  server peer_link_up peer=fc-45861" (local time)
 * parseLogLine(line)?.peer; // "fc-45861"
 * ```
 * @module
 */
import { FastChatError } from "./errors.ts";

/** How log lines are written. */
export type LogFormat = "json" | "text";

/** The environment variable that picks the {@link LogFormat}. */
export const LOG_FORMAT_ENV = "FASTCHAT_LOG_FORMAT";

/** A log record: `ts`, `level`, `component`, `event` and its fields. */
export type LogRecord = Record<string, unknown>;

/**
 * The format named by `$FASTCHAT_LOG_FORMAT`, else `text` on a terminal
 * and `json` otherwise; `INVALID_CONFIG` for an unknown name.
 *
 * @example
 * ```ts
 * import { logFormatFromEnv } from "@fastchat/lib/log_format";
 * logFormatFromEnv("json", false); // "json"
 * logFormatFromEnv(undefined, true); // "text"
 * ```
 */
export function logFormatFromEnv(
  value: string | undefined = Deno.env.get(LOG_FORMAT_ENV),
  terminal: boolean = Deno.stderr.isTerminal(),
): LogFormat {
  if (value === undefined || value === "") return terminal ? "text" : "json";
  if (value === "json" || value === "text") return value;
  throw new FastChatError("INVALID_CONFIG", `${LOG_FORMAT_ENV} must be json or text, not ${value}`);
}

/** Printable ASCII but space, `"` and `=`: written as it is. */
const PLAIN = /^[!#-<>-~]+$/;
/** What JSON leaves as it is but a terminal may act on: DEL, C1 controls, line and bidi marks. */
const UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `s` as a JSON string a terminal shows as it is (no escape sequence gets through). */
function quote(s: string): string {
  return JSON.stringify(s).replace(
    UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** `v` as one token: plain words as they are, anything else as JSON. */
function token(v: unknown): string {
  if (typeof v === "string") return PLAIN.test(v) ? v : quote(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  const json = JSON.stringify(v) ?? String(v);
  return PLAIN.test(json) ? json : quote(json); // one token, quoted if it needs it
}

function timeOfDay(ts: unknown): string {
  const d = typeof ts === "string" ? new Date(ts) : new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${
    p(d.getMilliseconds(), 3)
  }`;
}

/**
 * One log line (without its newline) of `record` in `format`.
 *
 * @example
 * ```ts
 * import { formatLogLine } from "@fastchat/lib/log_format";
 * formatLogLine("json", { level: "warn", event: "slow" }); // '{"level":"warn","event":"slow"}'
 * formatLogLine("text", { level: "warn", component: "db", event: "slow", ms: 120, why: "a b" });
 * // "…:…:….… WARN  db slow ms=120 why=\"a b\""
 * ```
 */
export function formatLogLine(format: LogFormat, record: LogRecord): string {
  if (format === "json") return JSON.stringify(record);
  const { ts, level, component, event, ...fields } = record;
  let line = `${timeOfDay(ts)} ${String(level ?? "").toUpperCase().padEnd(5)} ${
    token(component ?? "-")
  } ${token(event ?? "-")}`;
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) line += ` ${k}=${token(v)}`; // as JSON leaves it out
  }
  return line;
}

const TEXT_LINE = /^(\d\d:\d\d:\d\d\.\d{3}) (DEBUG|INFO|WARN|ERROR) +(\S+) (\S+)(.*)$/;
const FIELD = /\s+([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/y;

/**
 * The record of a `json` or `text` log line, or null for any other line.
 * Fields of a text line come back as written: plain words as strings,
 * JSON tokens parsed (`ts` is the time of day only).
 *
 * @example
 * ```ts
 * import { parseLogLine } from "@fastchat/lib/log_format";
 * parseLogLine('{"event":"peer_link_up","peer":"b"}')?.peer; // "b"
 * parseLogLine('13:17:09.098 INFO  server resync reason="link up"')?.reason; // "link up"
 * parseLogLine("FastChat server s1 listening"); // null
 * ```
 */
export function parseLogLine(line: string): LogRecord | null {
  if (line.startsWith("{")) {
    try {
      const o = JSON.parse(line);
      return o !== null && typeof o === "object" && !Array.isArray(o) ? o : null;
    } catch {
      return null;
    }
  }
  const m = line.match(TEXT_LINE);
  if (!m) return null;
  const r: LogRecord = { ts: m[1], level: m[2].toLowerCase(), component: m[3], event: m[4] };
  const rest = m[5];
  FIELD.lastIndex = 0;
  let f: RegExpExecArray | null;
  while (FIELD.lastIndex < rest.length && (f = FIELD.exec(rest)) !== null) {
    const raw = f[2];
    let value: unknown = raw;
    if (raw.startsWith('"') || raw.startsWith("{") || raw.startsWith("[")) {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
    }
    r[f[1]] = value;
  }
  return r;
}

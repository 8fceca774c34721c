/**
 * Structured logging: one line per event on stderr with level, component,
 * event and fields, as a JSON object (so that logs of many processes can be
 * merged and filtered) or as a line for a person at a terminal (see
 * `@fastchat/lib/log_format`: `$FASTCHAT_LOG_FORMAT`, else text on a
 * terminal and JSON otherwise).
 *
 * @example
 * ```ts
 * import { JsonLogger } from "@fastchat/lib/logger";
 * const log = new JsonLogger("server", { server: "s1" });
 * log.info("listening", { port: 7701 });
 * ```
 * @module
 */
import { formatLogLine, type LogFormat, logFormatFromEnv } from "./log_format.ts";

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A structured logger. */
export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const encoder = new TextEncoder();

/**
 * Writes log lines to stderr: JSON objects, or text lines with `format`
 * `"text"` (default: {@link logFormatFromEnv}).
 *
 * @example
 * ```ts
 * import { JsonLogger } from "@fastchat/lib/logger";
 * new JsonLogger("db").warn("slow_query", { ms: 120 });
 * ```
 */
export class JsonLogger implements Logger {
  readonly #min: number;
  readonly #format: LogFormat;
  constructor(
    readonly component: string,
    readonly base: Record<string, unknown> = {},
    level: LogLevel = (Deno.env.get("FASTCHAT_LOG_LEVEL") as LogLevel) ?? "info",
    format?: LogFormat,
  ) {
    this.#min = ORDER[level] ?? 1;
    this.#format = format ?? defaultFormat();
  }

  #write(level: LogLevel, event: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < this.#min) return;
    const line = formatLogLine(this.#format, {
      ts: new Date().toISOString(),
      level,
      component: this.component,
      event,
      ...this.base,
      ...fields,
    });
    try {
      Deno.stderr.writeSync(encoder.encode(line + "\n"));
    } catch {
      // stderr is closed (BrokenPipe) or gone: a logger has nowhere else to
      // report that, and logging must never take the process down.
    }
  }

  debug(event: string, fields?: Record<string, unknown>): void {
    this.#write("debug", event, fields);
  }
  info(event: string, fields?: Record<string, unknown>): void {
    this.#write("info", event, fields);
  }
  warn(event: string, fields?: Record<string, unknown>): void {
    this.#write("warn", event, fields);
  }
  error(event: string, fields?: Record<string, unknown>): void {
    this.#write("error", event, fields);
  }
}

let processFormat: LogFormat | undefined;

/** The process's format, read once; an unknown `$FASTCHAT_LOG_FORMAT` falls back to JSON. */
function defaultFormat(): LogFormat {
  if (processFormat === undefined) {
    try {
      processFormat = logFormatFromEnv();
    } catch {
      processFormat = "json"; // `runMain` refuses a bad one at start-up
    }
  }
  return processFormat;
}

/** A logger that drops everything. */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

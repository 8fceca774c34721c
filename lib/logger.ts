/**
 * Structured logging: one JSON object per line on stderr with level,
 * component and event, so that logs of many processes can be merged and
 * filtered.
 *
 * @example
 * ```ts
 * import { JsonLogger } from "@fastchat/lib/logger";
 * const log = new JsonLogger("server", { server: "s1" });
 * log.info("listening", { port: 7701 });
 * ```
 * @module
 */

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
 * Writes JSON lines to stderr.
 *
 * @example
 * ```ts
 * import { JsonLogger } from "@fastchat/lib/logger";
 * new JsonLogger("db").warn("slow_query", { ms: 120 });
 * ```
 */
export class JsonLogger implements Logger {
  readonly #min: number;
  constructor(
    readonly component: string,
    readonly base: Record<string, unknown> = {},
    level: LogLevel = (Deno.env.get("FASTCHAT_LOG_LEVEL") as LogLevel) ?? "info",
  ) {
    this.#min = ORDER[level] ?? 1;
  }

  #write(level: LogLevel, event: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < this.#min) return;
    const line = JSON.stringify({
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

/** A logger that drops everything. */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

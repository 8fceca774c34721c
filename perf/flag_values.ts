/**
 * Values of the perf command-line flags: durations (`10ms`, `1.5s`), sizes
 * (`1KiB`), `--delay` specs, `--rate`, `--lb host:port` and integers. Every
 * error is a `FastChatError("INVALID_CONFIG")` naming the flag and what it
 * accepts.
 *
 * @example
 * ```ts
 * import { parseDuration, parseSize } from "./flag_values.ts";
 * parseDuration("1.5s", "--drain"); // 1500
 * parseSize("64KiB"); // 65536
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import type { DelaySpec } from "./run_schema.ts";

/**
 * Largest `--payload`: leaves room for the ciphertext framing under the 960 KiB body limit.
 *
 * @example
 * ```ts
 * import { MAX_PAYLOAD_BYTES, parseSize } from "./flag_values.ts";
 * parseSize("900KiB") === MAX_PAYLOAD_BYTES; // true
 * ```
 */
export const MAX_PAYLOAD_BYTES = 900 * 1024;

/**
 * The error of a bad flag: `INVALID_CONFIG` with `; see --help` appended.
 *
 * @example
 * ```ts
 * import { invalidFlag } from "./flag_values.ts";
 * invalidFlag("--clients N is required").message; // "--clients N is required; see --help"
 * ```
 */
export function invalidFlag(message: string): FastChatError {
  return new FastChatError("INVALID_CONFIG", `${message}; see --help`);
}

/**
 * Takes a wrapper's own flags (`--flag value`) out of `args` (a leading
 * `--` dropped); what is left is passed on to `deno task perf`.
 *
 * @example
 * ```ts
 * import { wrapperFlags } from "./flag_values.ts";
 * const f = wrapperFlags(["--", "--pairs", "3", "--clients", "10"]);
 * f.take("--pairs"); // "3"
 * f.rest; // ["--clients", "10"]
 * ```
 */
export function wrapperFlags(args: string[]): {
  take(flag: string): string | undefined;
  readonly rest: string[];
} {
  const rest = [...(args[0] === "--" ? args.slice(1) : args)];
  return {
    take(flag: string): string | undefined {
      const i = rest.indexOf(flag);
      if (i < 0) return undefined;
      if (i + 1 >= rest.length) throw invalidFlag(`${flag} needs a value`);
      return rest.splice(i, 2)[1];
    },
    rest,
  };
}

/**
 * Parses the integer value `v` of flag `--name`, at least `min`.
 *
 * @example
 * ```ts
 * import { parseInteger } from "./flag_values.ts";
 * parseInteger("clients", "10", 2); // 10
 * ```
 */
export function parseInteger(name: string, v: string, min: number): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isSafeInteger(n) || n < min) {
    throw invalidFlag(`--${name} must be an integer >= ${min}, not ${JSON.stringify(v)}`);
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
 * import { parseDuration } from "./flag_values.ts";
 * parseDuration("1.5s", "--duration"); // 1500
 * ```
 */
export function parseDuration(v: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(us|ms|s|m|h)$/.exec(v.trim());
  if (!m) {
    throw invalidFlag(
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
 * import { parseSize } from "./flag_values.ts";
 * parseSize("64KiB"); // 65536
 * ```
 */
export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib)?$/i.exec(v.trim());
  if (!m) {
    throw invalidFlag(
      `--payload must be a size like 100B, 1KiB or 64KiB; got ${JSON.stringify(v)}`,
    );
  }
  const bytes = Number(m[1]) * SIZE_UNITS[(m[2] ?? "b").toLowerCase()];
  if (!Number.isInteger(bytes) || bytes < 1) {
    throw invalidFlag(`--payload must be a whole number of bytes >= 1; got ${JSON.stringify(v)}`);
  }
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw invalidFlag(`--payload may be at most ${MAX_PAYLOAD_BYTES} bytes (900KiB); got ${v}`);
  }
  return bytes;
}

/**
 * Parses `const:10ms`, `exp:12ms` or `normal:10ms,5ms`.
 *
 * @example
 * ```ts
 * import { parseDelay } from "./flag_values.ts";
 * parseDelay("normal:10ms,5ms"); // { dist: "normal", meanMs: 10, sdMs: 5 }
 * ```
 */
export function parseDelay(v: string): DelaySpec {
  const [dist, args = "", ...rest] = v.trim().split(":");
  const parts = args.split(",");
  const bad = () =>
    invalidFlag(
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
      if (meanMs <= 0) throw invalidFlag("--delay exp: the mean must be > 0");
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
 * import { parseRate } from "./flag_values.ts";
 * parseRate("2000/s"); // 2000
 * ```
 */
export function parseRate(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(v.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!(n > 0)) {
    throw invalidFlag(`--rate must be a positive rate like 500/s; got ${JSON.stringify(v)}`);
  }
  return n;
}

/**
 * Parses `host:port` (IPv6 as `[::1]:7700`).
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./flag_values.ts";
 * parseHostPort("127.0.0.1:7700"); // { host: "127.0.0.1", port: 7700 }
 * ```
 */
export function parseHostPort(v: string): { host: string; port: number } {
  const i = v.lastIndexOf(":");
  const host = i > 0 ? v.slice(0, i).replace(/^\[(.*)\]$/, "$1") : "";
  const port = Number(v.slice(i + 1));
  if (i <= 0 || host === "" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalidFlag(`--lb must be host:port, e.g. 127.0.0.1:7700; got ${JSON.stringify(v)}`);
  }
  return { host, port };
}

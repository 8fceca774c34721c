/**
 * `host:port` flag values (`--lb`, `--server`, `--advertise`): IPv4, a host
 * name, or IPv6 in brackets (`[::1]:7701`), and back.
 *
 * @example
 * ```ts
 * import { formatHostPort, parseHostPort } from "@fastchat/lib/host_port";
 * const a = parseHostPort("[::1]:7701"); // { host: "::1", port: 7701 }
 * formatHostPort(a); // "[::1]:7701"
 * ```
 * @module
 */
import { FastChatError } from "./errors.ts";

/**
 * Parses `host:port` (IPv6 as `[::1]:7701`); port 1–65535. Throws
 * `INVALID_CONFIG` naming `flag` (when given) otherwise.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "@fastchat/lib/host_port";
 * parseHostPort("10.0.0.7:7701", "--advertise"); // { host: "10.0.0.7", port: 7701 }
 * ```
 */
export function parseHostPort(s: string, flag?: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new FastChatError(
      "INVALID_CONFIG",
      `${flag ? `${flag}: ` : ""}expected host:port, got ${JSON.stringify(s)}`,
    );
  }
  return { host: m[1] ?? m[2], port };
}

/**
 * `host:port`, with an IPv6 host in brackets.
 *
 * @example
 * ```ts
 * import { formatHostPort } from "@fastchat/lib/host_port";
 * formatHostPort({ host: "10.0.0.7", port: 7701 }); // "10.0.0.7:7701"
 * ```
 */
export function formatHostPort(a: { host: string; port: number }): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

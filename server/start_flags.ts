/**
 * The flags `fastchat start` passes on to the processes it runs: TLS
 * (`--tls-cert`/`--tls-key`, to every server and the load balancer, so
 * clients use TLS end to end), Prometheus metrics (`--metrics-port P`:
 * the load balancer on P, server n on P+n; 0 lets each pick a free port,
 * which it prints) and the peer links' ping interval (`--peer-ping-ms`, to
 * every server; {@link parsePeerPingMs} checks it for `start` and `server`).
 *
 * @example
 * ```ts
 * import { componentArgs } from "@fastchat/server/start_flags";
 * const a = componentArgs({ servers: 2, metricsPort: 9100 });
 * a.lbArgs; // ["--metrics-port", "9100"]
 * a.serverArgsFor(2); // ["--metrics-port", "9102"]
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { checkPeerPingMs } from "./peer_link.ts";

/**
 * The component flags of `fastchat start`, parsed.
 *
 * @example
 * ```ts
 * import type { StartComponentFlags } from "@fastchat/server/start_flags";
 * const f: StartComponentFlags = { servers: 3, tlsCert: "cert.pem", tlsKey: "key.pem" };
 * ```
 */
export interface StartComponentFlags {
  /** Chat servers started (server n is 1..servers; a restarted one keeps its n). */
  servers: number;
  /** PEM certificate file for servers and load balancer. */
  tlsCert?: string;
  /** PEM private key file for `tlsCert`. */
  tlsKey?: string;
  /** Metrics port of the load balancer; server n uses this + n (0: every one picks). */
  metricsPort?: number;
  /** Ping interval of quiet peer links, for every server (see {@link parsePeerPingMs}). */
  peerPingMs?: number;
}

/**
 * Arguments for the cluster launcher's `serverArgs`, `serverArgsFor` and
 * `lbArgs`.
 *
 * @example
 * ```ts
 * import type { ComponentArgs } from "@fastchat/server/start_flags";
 * const none: ComponentArgs = { serverArgs: [], serverArgsFor: () => [], lbArgs: [] };
 * ```
 */
export interface ComponentArgs {
  /** For every server. */
  serverArgs: string[];
  /** For server n (1-based). */
  serverArgsFor: (n: number) => string[];
  /** For the load balancer. */
  lbArgs: string[];
}

/**
 * The arguments each process gets for `flags`. Throws `INVALID_CONFIG`
 * when only one of certificate and key is given, or when a server's
 * metrics port would pass 65535.
 *
 * @example
 * ```ts
 * import { componentArgs } from "@fastchat/server/start_flags";
 * const a = componentArgs({ servers: 1, tlsCert: "c.pem", tlsKey: "k.pem" });
 * a.lbArgs; // ["--tls-cert", "c.pem", "--tls-key", "k.pem"]
 * ```
 */
export function componentArgs(flags: StartComponentFlags): ComponentArgs {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new FastChatError("INVALID_CONFIG", "--tls-cert and --tls-key go together");
  }
  const tls = flags.tlsCert === undefined
    ? []
    : ["--tls-cert", flags.tlsCert, "--tls-key", flags.tlsKey!];
  const base = flags.metricsPort;
  if (base !== undefined && base !== 0 && base + flags.servers > 65535) {
    throw new FastChatError(
      "INVALID_CONFIG",
      `--metrics-port ${base}: the servers' ports ${base + 1}..${base + flags.servers} ` +
        "pass 65535",
    );
  }
  const ping = flags.peerPingMs === undefined ? [] : ["--peer-ping-ms", String(flags.peerPingMs)];
  return {
    serverArgs: [...tls, ...ping],
    serverArgsFor: (n) =>
      base === undefined ? [] : ["--metrics-port", String(base === 0 ? 0 : base + n)],
    lbArgs: [...tls, ...(base === undefined ? [] : ["--metrics-port", String(base)])],
  };
}

/**
 * Checks that the TLS files can be read, before any process starts.
 * Throws `INVALID_CONFIG` naming the flag and file otherwise.
 *
 * @example
 * ```ts
 * import { checkReadable } from "@fastchat/server/start_flags";
 * await checkReadable({ "tls-cert": "server/testdata/tls/server.pem" });
 * ```
 */
export async function checkReadable(files: Record<string, string | undefined>): Promise<void> {
  for (const [flag, path] of Object.entries(files)) {
    if (path === undefined) continue;
    try {
      const file = await Deno.open(path, { read: true });
      file.close();
    } catch (e) {
      throw new FastChatError(
        "INVALID_CONFIG",
        `--${flag} ${path}: cannot read it (${e instanceof Error ? e.message : e})`,
      );
    }
  }
}

/**
 * The `--peer-ping-ms` flag of `server` and `start`: absent gives
 * `undefined` (the default interval); otherwise an integer of milliseconds
 * within the bounds of `checkPeerPingMs` (server/peer_link.ts). Peer links
 * exist only with `--fabric direct`, so with `nats` the flag is refused.
 * Throws `INVALID_CONFIG`.
 *
 * @example
 * ```ts
 * import { parsePeerPingMs } from "@fastchat/server/start_flags";
 * parsePeerPingMs("500", "direct"); // 500: a frozen peer is dropped after 1.5 s
 * parsePeerPingMs(undefined, "nats"); // undefined
 * ```
 */
export function parsePeerPingMs(
  value: string | undefined,
  fabric: "direct" | "nats",
): number | undefined {
  if (value === undefined) return undefined;
  if (fabric !== "direct") {
    throw new FastChatError("INVALID_CONFIG", "--peer-ping-ms only applies with --fabric direct");
  }
  if (!/^\d{1,9}$/.test(value.trim())) {
    throw new FastChatError(
      "INVALID_CONFIG",
      `--peer-ping-ms must be a whole number of milliseconds, not ${
        JSON.stringify(value.slice(0, 32))
      }`,
    );
  }
  return checkPeerPingMs(Number(value));
}

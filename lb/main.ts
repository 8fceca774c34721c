/**
 * `deno task lb -- [--port P] [--host H] [--algorithm A] [--db URL] [--key FILE] [--ticket-ttl MS]`
 * starts a load balancer against the store at `--db` / `DATABASE_URL` (the
 * embedded database of `deno task db` by default): applies migrations,
 * loads or creates its ticket key (0600 file), publishes the public key,
 * prints `FastChat load balancer <id> listening on <host>:<port>` and serves
 * until SIGINT/SIGTERM.
 *
 * `deno task lb -- status [--db URL]` prints the registered chat servers
 * (id, address, clients, heartbeat age, draining, live) and exits; it only
 * reads (no migrations).
 *
 * @example
 * ```ts
 * import { main } from "@fastchat/lb/main";
 * await main(["status", "--db", "postgres://postgres@127.0.0.1:7432/postgres"]);
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { connectStore, migrate, resolveDatabaseUrl, waitForDatabase } from "@fastchat/db";
import { FastChatError } from "@fastchat/lib/errors";
import { checkPortFree } from "@fastchat/lib/listener";
import { MetricsRegistry, serveMetrics } from "@fastchat/lib/metrics";
import { onShutdown, runMain } from "@fastchat/lib/process_main";
import { JsonLogger, type LogLevel } from "@fastchat/lib/logger";
import { loadOrCreateSigner } from "./key_file.ts";
import { DEFAULT_LB_PORT, DEFAULT_LB_RATE, LoadBalancer } from "./lb_server.ts";
import { DEFAULT_LB_LIMITS } from "./lb_session.ts";
import { allServers, checkForgetAfterMs } from "@fastchat/lib/cluster/server_directory";
import { DEFAULT_FORGET_AFTER_MS } from "@fastchat/lib/cluster/timing";
import { parsePickAlgorithm, PICK_ALGORITHMS } from "./server_picker.ts";
import { formatServerTable } from "./status_table.ts";
import { DEFAULT_TICKET_TTL_MS } from "@fastchat/lib/cluster/ticket_format";
import { lbReadyLine } from "@fastchat/lib/cluster/ready_lines";

/** Default path of the LB key file (relative to the working directory). */
export const DEFAULT_LB_KEY_FILE = "./data/lb-key.json";

const HELP = `Usage: deno task lb -- [options]
       deno task lb -- status [--db URL]
  --port P            listen port (default ${DEFAULT_LB_PORT}; 0 = any free port)
  --host H            bind address (default 127.0.0.1)
  --id ID             load balancer id (default lb-<port>)
  --algorithm A       ${PICK_ALGORITHMS.join(" | ")} (default round-robin)
  --db URL            PostgreSQL URL (default $DATABASE_URL, else the embedded database)
  --key FILE          ticket-signing key file, created 0600 if missing (default ${DEFAULT_LB_KEY_FILE})
  --ticket-ttl MS     ticket lifetime (default ${DEFAULT_TICKET_TTL_MS})
  --rate N            ticket requests per address per second, 0 = unlimited (default ${DEFAULT_LB_RATE})
  --max-connections N open connections at most; more are refused at once (default ${DEFAULT_LB_LIMITS.maxConnections})
  --max-per-address N open connections at most from one address (default ${DEFAULT_LB_LIMITS.maxPerAddress})
  --tls-cert FILE     PEM certificate: serve TLS
  --tls-key FILE      PEM private key for --tls-cert
  --forget-after MS   delete registry rows of servers dead this long (default ${DEFAULT_FORGET_AFTER_MS})
  --log-level L       debug|info|warn|error (default info)
  --metrics-port P    serve Prometheus metrics on http://<host>:P/metrics
status prints the registered chat servers (live, draining, dead until forgotten) and exits.`;

function nonNegInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === "" || !Number.isSafeInteger(n) || n < 0) {
    throw new FastChatError("INVALID_CONFIG", `--${name} must be a non-negative integer`);
  }
  return n;
}

/** Prints the server table; read-only (no migrations), so it is safe on any database. */
async function status(db: string | undefined): Promise<void> {
  const url = resolveDatabaseUrl(db);
  await waitForDatabase(url, 5_000);
  const sql = connectStore(url, { max: 1 });
  try {
    console.log(formatServerTable(await allServers(sql)));
  } catch (e) {
    // 42P01 undefined_table: nothing has ever run against this database.
    if ((e as { cause?: { code?: string } }).cause?.code !== "42P01") throw e;
    console.log(formatServerTable([]) + "; the database has no FastChat tables yet");
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function parseFlags(args: string[]) {
  // `deno task lb -- --port P` passes the `--` through to the script.
  if (args[0] === "--") args = args.slice(1);
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: {
        port: { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        id: { type: "string" },
        algorithm: { type: "string", default: "round-robin" },
        db: { type: "string" },
        key: { type: "string", default: DEFAULT_LB_KEY_FILE },
        "ticket-ttl": { type: "string" },
        rate: { type: "string" },
        "max-connections": { type: "string" },
        "max-per-address": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "log-level": { type: "string", default: "info" },
        "metrics-port": { type: "string" },
        "forget-after": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new FastChatError("INVALID_CONFIG", `${(e as Error).message}; see --help`);
  }
}

/**
 * Runs the `lb` command line (without the program name). Serving returns
 * once the LB listens; the process then runs until a signal stops it.
 *
 * @example
 * ```ts
 * import { main } from "@fastchat/lb/main";
 * await main(["--port", "0", "--algorithm", "least-connections"]);
 * ```
 */
export async function main(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args);
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (positionals[0] === "status" && positionals.length === 1) return await status(values.db);
  if (positionals.length > 0) {
    throw new FastChatError("INVALID_CONFIG", `unknown command: ${positionals.join(" ")}`);
  }
  const port = nonNegInt("port", values.port, DEFAULT_LB_PORT);
  if (port > 65535) throw new FastChatError("INVALID_CONFIG", "--port must be at most 65535");
  const algorithm = parsePickAlgorithm(values.algorithm);
  const ticketTtlMs = nonNegInt("ticket-ttl", values["ticket-ttl"], DEFAULT_TICKET_TTL_MS);
  const rate = nonNegInt("rate", values.rate, DEFAULT_LB_RATE);
  const forgetAfterMs = checkForgetAfterMs(
    nonNegInt("forget-after", values["forget-after"], DEFAULT_FORGET_AFTER_MS),
  );
  const limits = {
    maxConnections: nonNegInt(
      "max-connections",
      values["max-connections"],
      DEFAULT_LB_LIMITS.maxConnections,
    ),
    maxPerAddress: nonNegInt(
      "max-per-address",
      values["max-per-address"],
      DEFAULT_LB_LIMITS.maxPerAddress,
    ),
  };
  if (limits.maxConnections < 1 || limits.maxPerAddress < 1) {
    throw new FastChatError(
      "INVALID_CONFIG",
      "--max-connections and --max-per-address must be at least 1",
    );
  }
  if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined)) {
    throw new FastChatError("INVALID_CONFIG", "--tls-cert and --tls-key go together");
  }
  // A taken port fails now, in one line, rather than after waiting for the database.
  checkPortFree(values.host, port, "--port");
  const level = values["log-level"] as LogLevel;
  const logger = new JsonLogger("lb", {}, level);
  const signer = await loadOrCreateSigner(values.key, { logger });
  const url = resolveDatabaseUrl(values.db);
  await waitForDatabase(url, 30_000);
  const sql = connectStore(url, { max: 4 });
  await migrate(sql);
  const lb = await LoadBalancer.start({
    sql,
    signer,
    host: values.host,
    port,
    id: values.id,
    algorithm,
    ticketTtlMs,
    rate,
    limits,
    forgetAfterMs,
    tls: values["tls-cert"]
      ? {
        cert: await Deno.readTextFile(values["tls-cert"]),
        key: await Deno.readTextFile(values["tls-key"]!),
      }
      : undefined,
    logger: new JsonLogger("lb", { lb: values.id }, level),
  });
  logger.info("listening", {
    id: lb.id,
    address: lb.address,
    algorithm,
    keyId: lb.keyId,
    tls: !!values["tls-cert"],
  });
  let metricsHttp: Deno.HttpServer<Deno.NetAddr> | null = null;
  if (values["metrics-port"] !== undefined) {
    const m = new MetricsRegistry({ lb: lb.id });
    m.gauge("fastchat_lb_connections", "Open client connections", () => lb.connections);
    m.counter("fastchat_lb_tickets_total", "Tickets issued", () => lb.ticketsIssued);
    m.counter(
      "fastchat_lb_connections_refused_total",
      "Connections refused at the connection caps",
      () => lb.connectionsRefused,
    );
    m.gauge(
      "fastchat_lb_live_servers",
      "Live servers in the last snapshot",
      () => lb.picker.servers.length,
    );
    metricsHttp = serveMetrics(m, {
      port: nonNegInt("metrics-port", values["metrics-port"], 0),
      host: values.host,
    });
    console.log(
      `FastChat load balancer ${lb.id} metrics on http://${values.host}:${metricsHttp.addr.port}/metrics`,
    );
  }
  onShutdown(async () => {
    logger.info("shutting_down", { id: lb.id, tickets: lb.ticketsIssued });
    await lb.close();
    await metricsHttp?.shutdown();
    await sql.end({ timeout: 5 });
  });
  // Ready only once a stop signal is handled: a SIGTERM right after the line must not kill.
  console.log(lbReadyLine(lb.id, lb.address));
}

if (import.meta.main) runMain("lb", () => main(Deno.args));

/**
 * `deno task server -- --port P [--host H] [--id ID] [--db URL] [--tls-cert F --tls-key F] [--fabric nats --nats URL]`
 *
 * Starts one chat server against the store at `--db` / `DATABASE_URL` (the
 * embedded database of `deno task db` by default), applies migrations, and
 * serves until SIGINT/SIGTERM, then shuts down gracefully.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { connectStore, migrate, resolveDatabaseUrl, waitForDatabase } from "@fastchat/db";
import { DEFAULT_PREAUTH_CAPS } from "@fastchat/lib/connection_caps";
import { FastChatError } from "@fastchat/lib/errors";
import { checkPortFree } from "@fastchat/lib/listener";
import { onShutdown, runMain } from "@fastchat/lib/process_main";
import { JsonLogger, type LogLevel } from "@fastchat/lib/logger";
import { serveMetrics } from "@fastchat/lib/metrics";
import { advertisedAddresses } from "./advertise.ts";
import { ChatServer } from "./chat_server.ts";
import { DEFAULT_CLIENT_IDLE_MS } from "./idle_timeout.ts";
import { parseFabricFlags } from "./fabric_config.ts";
import { DEFAULT_PEER_PING_MS, MAX_PEER_PING_MS, MIN_PEER_PING_MS } from "./peer_link.ts";
import { parsePeerPingMs } from "./start_flags.ts";
import { serverReadyLine } from "@fastchat/lib/cluster/ready_lines";
import { checkForgetAfterMs } from "@fastchat/lib/cluster/server_directory";
import { DEFAULT_FORGET_AFTER_MS } from "@fastchat/lib/cluster/timing";

/** Default client port of a chat server. */
export const DEFAULT_SERVER_PORT = 7701;

const HELP = `Usage: deno task server -- [options]
  --port P            listen port (default ${DEFAULT_SERVER_PORT}; 0 = any free port)
  --host H            bind address (default 127.0.0.1)
  --advertise H:P     address published to load balancers (clients dial it) and peers, when it
                      is not the bind address: a bind-all --host, NAT or a port mapping
  --advertise-host H  like --advertise, with the bound port
  --peer-host H       bind address for server-to-server links (default: --host)
  --advertise-peer H:P  peer address published to other servers (default: --peer-host when
                      given, else the --advertise host; the bound peer port)
  --peer-port P       port for server-to-server links (default 0: any free port, published in the registry)
  --peer-ping-ms MS   ping a quiet peer link every MS and drop it after 3 silent intervals (a
                      frozen or cut-off peer), then dial again (default ${DEFAULT_PEER_PING_MS};
                      ${MIN_PEER_PING_MS}..${MAX_PEER_PING_MS}; --fabric direct only)
  --fabric F          how servers reach each other: direct (peer links, default) | nats
  --nats URL[,URL]    NATS server(s) of --fabric nats (default $NATS_URL; repeatable)
  --nats-namespace NS subject namespace on NATS: one per cluster sharing a NATS (default: the
                      database's cluster id, so servers sharing a database share it)
  --metrics-port P    serve Prometheus metrics on http://<host>:P/metrics
  --require-ticket    admit new sessions only with a load-balancer ticket (resume never needs one)
  --id ID             server id (default fc-<port>)
  --db URL            PostgreSQL URL (default $DATABASE_URL, else the embedded database)
  --tls-cert FILE     PEM certificate: serve TLS
  --tls-key FILE      PEM private key for --tls-cert
  --send-rate N       messages per second per user (default 5000)
  --auth-rate N       register/login/resume requests per second per address (default 5, burst 4x)
  --max-frame BYTES   frame limit after login (default 1048576)
  --idle-timeout-ms MS  close a client connection that sent nothing (not even a ping) for MS
                      (checked every MS/4; default ${DEFAULT_CLIENT_IDLE_MS}; 0 = never)
  --max-preauth N     connections not logged in, at most (default 1000; more are refused at once)
  --max-preauth-per-address N
                      connections not logged in from one address, at most (default 32)
  --scrypt-n N        scrypt cost for password hashes (default 32768)
  --linger-ms MS      how long a message delivered live waits for the recipient's acknowledgement
                      before it is written to the database (default 2000; 0 = write every message)
  --max-file-bytes N  largest file a user may send (default 104857600 = 100 MiB)
  --max-group-members N  largest group (default 1000)
  --file-retention-hours H  how long a sent file waits for recipients who have not fetched it (default 168)
  --retain            keep delivered messages (marked delivered) instead of deleting them
  --forget-after MS   delete registry rows of servers dead this long (default ${DEFAULT_FORGET_AFTER_MS})
  --log-level L       debug|info|warn|error (default info)`;

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    throw new FastChatError("INVALID_CONFIG", `--${name} must be a non-negative integer`);
  }
  return n;
}

/**
 * Runs the `server` command line (without the program name). Resolves once
 * the server listens; the process then serves until SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { main } from "@fastchat/server/main";
 * await main(["--port", "0", "--db", "postgres://postgres@127.0.0.1:5432/test"]);
 * ```
 */
export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    // `deno task x -- --flag` passes the `--` through.
    args: args[0] === "--" ? args.slice(1) : args,
    options: {
      port: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      advertise: { type: "string" },
      "advertise-host": { type: "string" },
      "advertise-peer": { type: "string" },
      "require-ticket": { type: "boolean", default: false },
      "peer-host": { type: "string" },
      "peer-port": { type: "string" },
      "peer-ping-ms": { type: "string" },
      "metrics-port": { type: "string" },
      fabric: { type: "string" },
      nats: { type: "string", multiple: true },
      "nats-namespace": { type: "string" },
      id: { type: "string" },
      db: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "send-rate": { type: "string" },
      "auth-rate": { type: "string" },
      "max-frame": { type: "string" },
      "idle-timeout-ms": { type: "string" },
      "max-preauth": { type: "string" },
      "max-preauth-per-address": { type: "string" },
      "scrypt-n": { type: "string" },
      "linger-ms": { type: "string" },
      retain: { type: "boolean", default: false },
      "forget-after": { type: "string" },
      "max-file-bytes": { type: "string" },
      "max-group-members": { type: "string" },
      "file-retention-hours": { type: "string" },
      "log-level": { type: "string", default: "info" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const port = positiveInt("port", values.port, DEFAULT_SERVER_PORT);
  if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined)) {
    throw new FastChatError("INVALID_CONFIG", "--tls-cert and --tls-key go together");
  }
  const forgetAfterMs = checkForgetAfterMs(
    positiveInt("forget-after", values["forget-after"], DEFAULT_FORGET_AFTER_MS),
  );
  const advertised = advertisedAddresses({
    host: values.host,
    advertise: values.advertise,
    advertiseHost: values["advertise-host"],
    peerHost: values["peer-host"],
    advertisePeer: values["advertise-peer"],
  });
  const fabric = parseFabricFlags(
    { fabric: values.fabric, nats: values.nats, namespace: values["nats-namespace"] },
    Deno.env.get("NATS_URL"),
  );
  const peerPingMs = parsePeerPingMs(values["peer-ping-ms"], fabric.kind);
  const peerPort = positiveInt("peer-port", values["peer-port"], 0);
  const metricsPort = values["metrics-port"] === undefined
    ? undefined
    : positiveInt("metrics-port", values["metrics-port"], 0);
  // A taken port fails now, in one line, rather than after waiting for the database.
  checkPortFree(values.host, port, "--port");
  if (fabric.kind === "direct") {
    checkPortFree(values["peer-host"] ?? values.host, peerPort, "--peer-port");
  }
  if (metricsPort !== undefined) checkPortFree(values.host, metricsPort, "--metrics-port");
  const logger = new JsonLogger("server", {}, values["log-level"] as LogLevel);
  const url = resolveDatabaseUrl(values.db);
  await waitForDatabase(url, 30_000);
  const sql = connectStore(url, { max: 4 });
  await migrate(sql);
  const server = await ChatServer.start({
    sql,
    host: values.host,
    port,
    id: values.id,
    tls: values["tls-cert"]
      ? {
        cert: await Deno.readTextFile(values["tls-cert"]),
        key: await Deno.readTextFile(values["tls-key"]!),
      }
      : undefined,
    sendRate: positiveInt("send-rate", values["send-rate"], 5000),
    anonRate: positiveInt("auth-rate", values["auth-rate"], 5),
    limits: {
      maxFrame: positiveInt("max-frame", values["max-frame"], 1024 * 1024),
      idleTimeoutMs: positiveInt(
        "idle-timeout-ms",
        values["idle-timeout-ms"],
        DEFAULT_CLIENT_IDLE_MS,
      ),
      maxPreAuthConnections: positiveInt(
        "max-preauth",
        values["max-preauth"],
        DEFAULT_PREAUTH_CAPS.maxTotal,
      ),
      maxPreAuthPerAddress: positiveInt(
        "max-preauth-per-address",
        values["max-preauth-per-address"],
        DEFAULT_PREAUTH_CAPS.maxPerAddress,
      ),
    },
    scrypt: values["scrypt-n"]
      ? { N: positiveInt("scrypt-n", values["scrypt-n"], 32768), r: 8, p: 1 }
      : undefined,
    retain: values.retain,
    maxFileBytes: positiveInt("max-file-bytes", values["max-file-bytes"], 100 * 1024 * 1024),
    maxGroupMembers: positiveInt("max-group-members", values["max-group-members"], 1000),
    fileRetentionMs: positiveInt("file-retention-hours", values["file-retention-hours"], 168) *
      3600_000,
    lingerMs: values["linger-ms"] === undefined
      ? undefined
      : positiveInt("linger-ms", values["linger-ms"], 1000),
    cluster: {
      ...advertised,
      peerHost: values["peer-host"] ?? values.host,
      peerPort,
      forgetAfterMs,
      peerPingMs,
      nats: fabric.kind === "nats"
        ? { servers: fabric.servers, namespace: fabric.namespace }
        : undefined,
    },
    requireTicket: values["require-ticket"],
    logger: new JsonLogger("server", { server: values.id }, values["log-level"] as LogLevel),
  });
  logger.info("listening", {
    id: server.id,
    address: server.address,
    tls: !!values["tls-cert"],
    fabric: fabric.kind,
    ...server.natsNamespace === null ? {} : { natsNamespace: server.natsNamespace },
  });
  const metricsHttp = metricsPort !== undefined
    ? serveMetrics(server.metrics(), { port: metricsPort, host: values.host })
    : null;
  if (metricsHttp) {
    console.log(
      `FastChat server ${server.id} metrics on http://${values.host}:${metricsHttp.addr.port}/metrics`,
    );
  }
  onShutdown(async () => {
    logger.info("shutting_down", { id: server.id, ...server.stats() });
    await server.close();
    await metricsHttp?.shutdown();
    await sql.end({ timeout: 5 });
  });
  // Ready only once a stop signal is handled: a SIGTERM right after the line must not kill.
  console.log(serverReadyLine(server.id, server.address));
}

if (import.meta.main) runMain("server", () => main(Deno.args));

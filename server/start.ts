/**
 * `fastchat start [--servers N] [--algorithm A] [--fabric nats --nats URL]` (from a checkout:
 * `deno task start -- …`) — the whole system on
 * one machine with one command: the embedded database (unless
 * `--db`/`DATABASE_URL` names a PostgreSQL), N chat servers and the load
 * balancer, as separate processes with prefixed logs. Waits until all are
 * healthy and prints the address clients connect to. A process that exits
 * on its own is restarted with backoff; the others keep serving. Ctrl-C
 * stops everything: load balancer, servers, database. The processes are
 * run by {@link ClusterLauncher}, as in the tests and perf, as
 * `fastchat db|server|lb` children of the same program (compiled or not).
 * TLS and metrics flags go to the servers and the load balancer
 * (`./start_flags.ts`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { FastChatError } from "@fastchat/lib/errors";
import { STOP_SIGNALS, watchLifeline } from "@fastchat/lib/lifeline";
import { checkPortFree } from "@fastchat/lib/listener";
import { logFormatFromEnv } from "@fastchat/lib/log_format";
import { currentInvocation } from "@fastchat/lib/self_command";
import { type Algorithm, ClusterLauncher } from "./cluster_launcher.ts";
import { checkReadable, componentArgs, parsePeerPingMs } from "./start_flags.ts";
import { DEFAULT_PEER_PING_MS, MAX_PEER_PING_MS, MIN_PEER_PING_MS } from "./peer_link.ts";
import { parseFabricFlags, redactNatsUrl } from "./fabric_config.ts";
import { probeNats } from "./nats_link.ts";

const HELP = `Usage: fastchat start [options]   (from a checkout: deno task start -- [options])
  --servers N         chat servers to run (default 3)
  --algorithm A       load balancing: round-robin | random | least-connections (default round-robin)
  --port P            load balancer port, where clients connect (default 7700)
  --host H            bind address of the load balancer and servers (default 127.0.0.1)
  --db URL            use this PostgreSQL instead of the embedded database
  --db-port P         embedded database port (default 7432)
  --data DIR          data directory: embedded database and LB key (default ./data)
  --max-file-bytes N  largest file a user may send (default 100 MiB)
  --max-group-members N  largest group (default 1000)
  --tls-cert FILE     PEM certificate: servers and load balancer serve TLS (clients: --ca or --tls)
  --tls-key FILE      PEM private key for --tls-cert
  --metrics-port P    Prometheus metrics: the load balancer on http://<host>:P/metrics,
                      server n on port P+n (0: each picks a free port and prints it)
  --peer-ping-ms MS   servers ping a quiet peer link every MS and drop it after 3 silent
                      intervals (a frozen or cut-off peer), then dial again (default ${DEFAULT_PEER_PING_MS};
                      ${MIN_PEER_PING_MS}..${MAX_PEER_PING_MS}; --fabric direct only)
  --fabric F          how servers reach each other: direct (peer links, default) | nats
  --nats URL[,URL]    NATS server(s) of --fabric nats (default $NATS_URL; repeatable)
  --nats-namespace NS subject namespace on NATS: one per cluster sharing a NATS (default: the
                      database's cluster id, so servers sharing a database share it)`;

function count(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new FastChatError("INVALID_CONFIG", `--${name} must be an integer >= ${min}`);
  }
  return n;
}

/**
 * Runs the `start` command line (without the program name). Resolves once
 * every process is ready; they run until SIGINT/SIGTERM stops them all.
 *
 * @example
 * ```ts
 * import { main } from "@fastchat/server/start";
 * await main(["--servers", "2", "--data", "/tmp/fastchat-data"]);
 * ```
 */
export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args: args[0] === "--" ? args.slice(1) : args,
    options: {
      servers: { type: "string", default: "3" },
      algorithm: { type: "string", default: "round-robin" },
      port: { type: "string", default: "7700" },
      host: { type: "string", default: "127.0.0.1" },
      db: { type: "string" },
      "db-port": { type: "string", default: "7432" },
      data: { type: "string", default: "./data" },
      "max-file-bytes": { type: "string" },
      "max-group-members": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "metrics-port": { type: "string" },
      "peer-ping-ms": { type: "string" },
      fabric: { type: "string" },
      nats: { type: "string", multiple: true },
      "nats-namespace": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  // Configuration is checked before the machine is probed: a typo in the
  // variable is INVALID_CONFIG even when a port is also taken.
  const logFormat = logFormatFromEnv();
  const servers = count("servers", values.servers, 1);
  const fabric = parseFabricFlags(
    { fabric: values.fabric, nats: values.nats, namespace: values["nats-namespace"] },
    Deno.env.get("NATS_URL"),
  );
  const components = componentArgs({
    peerPingMs: parsePeerPingMs(values["peer-ping-ms"], fabric.kind),
    servers,
    tlsCert: values["tls-cert"],
    tlsKey: values["tls-key"],
    metricsPort: values["metrics-port"] === undefined
      ? undefined
      : count("metrics-port", values["metrics-port"], 0),
  });
  await checkReadable({ "tls-cert": values["tls-cert"], "tls-key": values["tls-key"] });
  const lbPort = count("port", values.port, 0), dbPort = count("db-port", values["db-port"], 0);
  const dbUrl = values.db ?? Deno.env.get("DATABASE_URL");
  // Before anything starts: a second `deno task start` says so in one line.
  checkPortFree(values.host, lbPort, "--port");
  if (dbUrl === undefined) checkPortFree("127.0.0.1", dbPort, "--db-port");
  if (fabric.kind === "nats") await probeNats(fabric.servers);
  const cluster = new ClusterLauncher({
    // Children read the database URL (which may hold a password) from their
    // environment: a command line is visible to every user of the machine.
    dbUrl,
    dbDataDir: `${values.data}/pglite`,
    dbPort,
    servers,
    fabric,
    idPrefix: null, // fc-<port>: a restarted server registers anew at its new port
    host: values.host,
    algorithm: values.algorithm as Algorithm, // the load balancer refuses an unknown one
    lbPort,
    lbKeyFile: `${values.data}/lb-key.json`,
    lbArgs: components.lbArgs,
    serverArgsFor: components.serverArgsFor,
    supervise: true,
    log: (line) => console.log(`supervisor | ${line}`),
    echo: true,
    // Children's log lines as the operator reads them: text on a terminal,
    // JSON when piped (or as $FASTCHAT_LOG_FORMAT says).
    logFormat,
    waitForMesh: false,
    serverArgs: [
      ...components.serverArgs,
      ...(values["max-file-bytes"] === undefined
        ? []
        : ["--max-file-bytes", String(count("max-file-bytes", values["max-file-bytes"], 1))]),
      ...(values["max-group-members"] === undefined ? [] : [
        "--max-group-members",
        String(count("max-group-members", values["max-group-members"], 2)),
      ]),
    ],
  });
  let stopping: Promise<void> | null = null;
  const stopAll = (code: number) => {
    stopping ??= (async () => {
      console.log("stopping FastChat…");
      // Load balancer first (no new clients), then servers (they drain), then the database.
      await cluster.stop();
      Deno.exit(code);
    })();
    return stopping;
  };
  // Ctrl-C, kill, and the terminal closing (SIGHUP) stop every process in order.
  for (const s of STOP_SIGNALS) Deno.addSignalListener(s, () => stopAll(0));
  watchLifeline(() => stopAll(0)); // run by another FastChat process (a test, say)

  try {
    await cluster.launch();
  } catch (e) {
    // Ctrl-C during startup: the signal handler stops everything and exits.
    if (cluster.stopping) return void await stopping;
    // A child that never became ready: stop the ones that did.
    await cluster.stop();
    throw e;
  }
  console.log(
    `\nFastChat is running: ${servers} server(s) behind the load balancer at ${cluster.lbAddress}` +
      (fabric.kind === "nats"
        ? `, linked through NATS at ${fabric.servers.map(redactNatsUrl).join(", ")}`
        : ""),
  );
  for (const c of [...cluster.db ? [cluster.db] : [], ...cluster.lbs]) {
    console.log(`  ${c.name} (pid ${c.pid})`);
  }
  for (const s of cluster.servers) console.log(`  server ${s.id} at ${s.address} (pid ${s.pid})`);
  const client = currentInvocation().kind === "binary" ? "fastchat client" : "deno task client --";
  const tls = values["tls-cert"] ? " --tls   (and --ca FILE unless the system trusts its CA)" : "";
  console.log(`Connect with: ${client} --lb ${cluster.lbAddress}${tls}`);
  console.log(`A process that exits is restarted. Press Ctrl-C to stop.\n`);
}

if (import.meta.main) {
  main(Deno.args).catch((e) => {
    const err = FastChatError.from(e);
    console.error(`fastchat start: ${err.code}: ${err.message}`);
    Deno.exit(1);
  });
}

/**
 * `deno task start -- [--servers N] [--algorithm A]` — the whole system on
 * one machine with one command: the embedded database (unless
 * `--db`/`DATABASE_URL` names a PostgreSQL), N chat servers and the load
 * balancer, as separate processes with prefixed logs. Waits until all are
 * healthy, prints the address clients connect to, and stops everything on
 * Ctrl-C.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { FastChatError } from "@fastchat/lib/errors";
import { ManagedProcess } from "@fastchat/lib/managed_process";
import { SERVER_V8_FLAGS } from "@fastchat/lib/runtime_flags";

const path = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));

const HELP = `Usage: deno task start -- [options]
  --servers N         chat servers to run (default 3)
  --algorithm A       load balancing: round-robin | random | least-connections (default round-robin)
  --port P            load balancer port, where clients connect (default 7700)
  --host H            bind address of the load balancer and servers (default 127.0.0.1)
  --db URL            use this PostgreSQL instead of the embedded database
  --db-port P         embedded database port (default 7432)
  --data DIR          data directory: embedded database and LB key (default ./data)`;

function count(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new FastChatError("INVALID_CONFIG", `--${name} must be an integer >= ${min}`);
  }
  return n;
}

async function main(args: string[]): Promise<void> {
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
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const servers = count("servers", values.servers, 1);
  const procs: ManagedProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("stopping FastChat…");
    // Load balancer first (no new clients), then servers (they drain), then the database.
    for (const p of [...procs].reverse()) await p.stop();
    Deno.exit(code);
  };
  Deno.addSignalListener("SIGINT", () => stopAll(0));
  Deno.addSignalListener("SIGTERM", () => stopAll(0));
  const watch = (p: ManagedProcess) => {
    procs.push(p);
    p.exited.then((s) => {
      if (!stopping) {
        console.error(`${p.name} exited unexpectedly (code ${s.code}); stopping`);
        stopAll(1);
      }
    });
  };

  let url = values.db ?? Deno.env.get("DATABASE_URL");
  if (!url) {
    const db = await ManagedProcess.spawn({
      name: "db",
      args: [
        "run",
        "-A",
        path("../db/main.ts"),
        "--port",
        values["db-port"],
        "--data",
        `${values.data}/pglite`,
      ],
      ready: /listening on (postgres:\/\/\S+)/,
      echo: true,
    });
    watch(db);
    url = db.match[1];
  }
  const started = await Promise.all(
    Array.from({ length: servers }, (_, i) =>
      ManagedProcess.spawn({
        name: `server-${i + 1}`,
        args: [
          "run",
          "-A",
          SERVER_V8_FLAGS,
          path("./main.ts"),
          "--port",
          "0",
          "--host",
          values.host,
          "--db",
          url!,
          "--require-ticket",
        ],
        ready: /FastChat server (\S+) listening on (\S+:\d+)/,
        echo: true,
      })),
  );
  for (const s of started) watch(s);
  const lb = await ManagedProcess.spawn({
    name: "lb",
    args: [
      "run",
      "-A",
      path("../lb/main.ts"),
      "--port",
      values.port,
      "--host",
      values.host,
      "--db",
      url,
      "--algorithm",
      values.algorithm,
      "--key",
      `${values.data}/lb-key.json`,
    ],
    ready: /listening on (\S+:\d+)/,
    echo: true,
  });
  watch(lb);
  const address = lb.match[1];
  console.log(`\nFastChat is running: ${servers} server(s) behind the load balancer at ${address}`);
  for (const s of started) console.log(`  server ${s.match[1]} at ${s.match[2]}`);
  console.log(`Connect with: deno task client   (or: deno task client -- --lb ${address})`);
  console.log(`Press Ctrl-C to stop.\n`);
}

if (import.meta.main) {
  main(Deno.args).catch((e) => {
    const err = FastChatError.from(e);
    console.error(`fastchat start: ${err.code}: ${err.message}`);
    Deno.exit(1);
  });
}

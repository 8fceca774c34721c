/**
 * `deno task start -- [--servers N] [--algorithm A]` — the whole system on
 * one machine with one command: the embedded database (unless
 * `--db`/`DATABASE_URL` names a PostgreSQL), N chat servers and the load
 * balancer, as separate processes with prefixed logs. Waits until all are
 * healthy and prints the address clients connect to. A process that exits
 * on its own is restarted with backoff ({@link Supervisor}); the others keep
 * serving. Ctrl-C stops everything: load balancer, servers, database.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { embeddedDatabaseUrl } from "@fastchat/db/credentials";
import { FastChatError } from "@fastchat/lib/errors";
import { Supervisor } from "@fastchat/lib/supervisor";
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
  const sup = new Supervisor({ log: (line) => console.log(`supervisor | ${line}`) });
  let stopping: Promise<void> | null = null;
  const stopAll = (code: number) => {
    stopping ??= (async () => {
      console.log("stopping FastChat…");
      // Load balancer first (no new clients), then servers (they drain), then the database.
      await sup.stopAll();
      Deno.exit(code);
    })();
    return stopping;
  };
  Deno.addSignalListener("SIGINT", () => stopAll(0));
  Deno.addSignalListener("SIGTERM", () => stopAll(0));

  try {
    // Children read the database URL (which may hold a password) from their
    // environment: a command line is visible to every user of the machine.
    let url = values.db ?? Deno.env.get("DATABASE_URL");
    if (!url) {
      const db = await sup.start({
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
      // The printed URL has no password; the database keeps it in its data directory.
      url = await embeddedDatabaseUrl(db.process.match[1], `${values.data}/pglite`);
    }
    const env = { DATABASE_URL: url };
    const started = await Promise.all(
      Array.from({ length: servers }, (_, i) =>
        sup.start({
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
            "--require-ticket",
          ],
          env,
          ready: /FastChat server (\S+) listening on (\S+:\d+)/,
          echo: true,
        })),
    );
    const lb = await sup.start({
      name: "lb",
      args: [
        "run",
        "-A",
        path("../lb/main.ts"),
        "--port",
        values.port,
        "--host",
        values.host,
        "--algorithm",
        values.algorithm,
        "--key",
        `${values.data}/lb-key.json`,
      ],
      env,
      ready: /listening on (\S+:\d+)/,
      echo: true,
    });
    const address = lb.process.match[1];
    console.log(
      `\nFastChat is running: ${servers} server(s) behind the load balancer at ${address}`,
    );
    for (const c of sup.children.filter((c) => !c.name.startsWith("server-"))) {
      console.log(`  ${c.name} (pid ${c.process.pid})`);
    }
    for (const s of started) {
      console.log(`  server ${s.process.match[1]} at ${s.process.match[2]} (pid ${s.process.pid})`);
    }
    console.log(`Connect with: deno task client   (or: deno task client -- --lb ${address})`);
    console.log(`A process that exits is restarted. Press Ctrl-C to stop.\n`);
  } catch (e) {
    // Ctrl-C during startup: the signal handler stops everything and exits.
    if (sup.stopping) return void await stopping;
    // A child that never became ready: stop the ones that did.
    await sup.stopAll();
    throw e;
  }
}

if (import.meta.main) {
  main(Deno.args).catch((e) => {
    const err = FastChatError.from(e);
    console.error(`fastchat start: ${err.code}: ${err.message}`);
    Deno.exit(1);
  });
}

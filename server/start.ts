/**
 * `deno task start` — the whole system on one machine with one command:
 * the embedded database (unless `--db`/`DATABASE_URL` names a PostgreSQL)
 * and a chat server, as separate processes with prefixed logs. Prints the
 * address clients connect to and stops everything on Ctrl-C.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { FastChatError } from "@fastchat/lib/errors";
import { ManagedProcess } from "@fastchat/lib/managed_process";

const path = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));

const HELP = `Usage: deno task start -- [options]
  --port P        chat server port (default 7701)
  --host H        chat server bind address (default 127.0.0.1)
  --db URL        use this PostgreSQL instead of the embedded database
  --db-port P     embedded database port (default 7432)
  --data DIR      embedded database directory (default ./data/pglite)`;

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: "7701" },
      host: { type: "string", default: "127.0.0.1" },
      db: { type: "string" },
      "db-port": { type: "string", default: "7432" },
      data: { type: "string", default: "./data/pglite" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const procs: ManagedProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("stopping FastChat…");
    for (const p of [...procs].reverse()) await p.stop();
    Deno.exit(code);
  };
  Deno.addSignalListener("SIGINT", () => stopAll(0));
  Deno.addSignalListener("SIGTERM", () => stopAll(0));

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
        values.data,
      ],
      ready: /listening on (postgres:\/\/\S+)/,
      echo: true,
    });
    procs.push(db);
    url = db.match[1];
  }
  const server = await ManagedProcess.spawn({
    name: "server",
    args: [
      "run",
      "-A",
      path("./main.ts"),
      "--port",
      values.port,
      "--host",
      values.host,
      "--db",
      url,
    ],
    ready: /listening on (\S+:\d+)/,
    echo: true,
  });
  procs.push(server);
  for (const p of procs) {
    p.exited.then((s) => {
      if (!stopping) {
        console.error(`a FastChat process exited unexpectedly (code ${s.code}); stopping`);
        stopAll(1);
      }
    });
  }
  console.log(`\nFastChat is running. Clients connect to ${server.match[1]}`);
  console.log(`  deno task client            (or: --server ${server.match[1]})`);
  console.log(`Press Ctrl-C to stop.\n`);
}

if (import.meta.main) {
  main(Deno.args).catch((e) => {
    const err = FastChatError.from(e);
    console.error(`fastchat start: ${err.code}: ${err.message}`);
    Deno.exit(1);
  });
}

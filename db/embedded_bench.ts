/**
 * Throughput benchmark of the embedded database server through postgres.js,
 * the way FastChat servers use it: the database runs in its own process
 * (`db/main.ts`) and the client talks to it over TCP.
 *
 * ```sh
 * deno run -A db/embedded_bench.ts                       # 20,000 rows, batches of 500, in-memory server
 * deno run -A db/embedded_bench.ts --data /tmp/fc-bench  # on-disk server
 * deno run -A db/embedded_bench.ts --url postgres://postgres@127.0.0.1:5432/test  # any server (in a throwaway schema)
 * ```
 *
 * Flags: `--rows` (20000), `--batch` (500), `--parallel` (in-flight batches,
 * 1), `--body` (bytes per message body, 256), `--selects` (point selects for
 * the second phase, 20000), `--inprocess` (run the server in this process).
 *
 * @example
 * ```ts
 * import { runBench } from "./embedded_bench.ts";
 * const report = await runBench({ rows: 2000, batch: 500, parallel: 1, body: 64, selects: 100 });
 * console.log(report.insertRowsPerSec);
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { connectStore } from "./connect.ts";
import { EmbeddedDatabase } from "./embedded_server.ts";
import { migrate } from "./migrate.ts";

/** Parameters of {@link runBench}. */
export interface BenchOptions {
  /** Rows to insert into `messages`. */
  rows: number;
  /** Rows per multi-row insert. */
  batch: number;
  /** Batches in flight at once. */
  parallel: number;
  /** Bytes per message body. */
  body: number;
  /** Point selects in the second phase (64 in flight). */
  selects: number;
  /** Database to use; default: start `db/main.ts --memory` (or `--data dataDir`). */
  url?: string;
  /** Data directory for the spawned server (default in memory). */
  dataDir?: string;
  /** Run the embedded server in this process instead of a child process. */
  inprocess?: boolean;
}

/** Measured results of {@link runBench}. */
export interface BenchReport {
  /** Where it ran. */
  target: string;
  /** Rows inserted. */
  rows: number;
  /** Wall time of the insert phase (ms). */
  insertMs: number;
  /** Inserted rows per second. */
  insertRowsPerSec: number;
  /** Point selects per second (64 in flight over 4 connections). */
  selectsPerSec: number;
}

async function spawnServer(dataDir?: string): Promise<{ url: string; stop(): Promise<void> }> {
  const main = fileURLToPath(new URL("./main.ts", import.meta.url));
  const args = [
    "run",
    "-A",
    main,
    "--port",
    "0",
    ...(dataDir ? ["--data", dataDir] : ["--memory"]),
  ];
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "inherit" })
    .spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`db/main.ts exited: ${out}`);
    out += value;
  }
  const url = /postgres:\/\/\S+/.exec(out)![0];
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      while (!(await reader.read()).done);
      await child.status;
    },
  };
}

/**
 * Runs the benchmark and returns its numbers.
 *
 * @example
 * ```ts
 * import { runBench } from "./embedded_bench.ts";
 * console.log(await runBench({ rows: 20_000, batch: 500, parallel: 1, body: 256, selects: 20_000 }));
 * ```
 */
export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  let url = opts.url;
  let stop = async () => {};
  let target = url ?? "";
  if (!url && opts.inprocess) {
    const db = await EmbeddedDatabase.start({ port: 0, dataDir: opts.dataDir });
    url = db.url;
    stop = () => db.close();
    target = `embedded in-process (${opts.dataDir ? "disk" : "memory"})`;
  } else if (!url) {
    const server = await spawnServer(opts.dataDir);
    url = server.url;
    stop = server.stop;
    target = `db/main.ts child process (${opts.dataDir ? "disk" : "memory"})`;
  }
  // On a given server, work in a throwaway schema so nothing shared is touched.
  const schema = opts.url ? `fc_bench_${crypto.randomUUID().slice(0, 8)}` : undefined;
  if (schema) {
    const admin = connectStore(url, { max: 1 });
    await admin.unsafe(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const dropSchema = async () => {
      const admin = connectStore(url!, { max: 1 });
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    };
    stop = dropSchema;
  }
  const sql = connectStore(url, { max: 4, searchPath: schema });
  try {
    await migrate(sql);
    const sender = `bench-${crypto.randomUUID().slice(0, 8)}`;
    const body = crypto.getRandomValues(new Uint8Array(opts.body));
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < opts.rows; i += opts.batch) {
      batches.push(Array.from({ length: Math.min(opts.batch, opts.rows - i) }, (_, j) => ({
        id: `m${i + j}`,
        sender,
        recipient: `user${(i + j) % 100}`,
        kind: 1,
        body,
        sent_at: Date.now(),
      })));
    }
    await sql`select 1`; // connect before timing
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: opts.parallel }, async () => {
      while (next < batches.length) {
        const rows = batches[next++];
        await sql`insert into messages ${
          sql(rows, "id", "sender", "recipient", "kind", "body", "sent_at")
        }`;
      }
    }));
    const insertMs = performance.now() - t0;
    const [{ n }] = await sql`select count(*) as n from messages where sender = ${sender}`;
    if (n !== opts.rows) throw new Error(`expected ${opts.rows} rows, found ${n}`);

    const t1 = performance.now();
    let done = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (done < opts.selects) {
        const i = done++;
        const [row] = await sql`select id from messages where sender = ${sender} and id = ${
          "m" +
          (i % opts.rows)
        }`;
        if (row.id !== "m" + (i % opts.rows)) throw new Error("wrong row");
      }
    }));
    const selectMs = performance.now() - t1;
    await sql`delete from messages where sender = ${sender}`;
    return {
      target,
      rows: opts.rows,
      insertMs: Math.round(insertMs),
      insertRowsPerSec: Math.round(opts.rows / (insertMs / 1000)),
      selectsPerSec: Math.round(opts.selects / (selectMs / 1000)),
    };
  } finally {
    await sql.end();
    await stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rows: { type: "string", default: "20000" },
      batch: { type: "string", default: "500" },
      parallel: { type: "string", default: "1" },
      body: { type: "string", default: "256" },
      selects: { type: "string", default: "20000" },
      url: { type: "string" },
      data: { type: "string" },
      inprocess: { type: "boolean", default: false },
    },
  });
  const report = await runBench({
    rows: Number(values.rows),
    batch: Number(values.batch),
    parallel: Number(values.parallel),
    body: Number(values.body),
    selects: Number(values.selects),
    url: values.url,
    dataDir: values.data,
    inprocess: values.inprocess,
  });
  console.log(JSON.stringify(report));
}

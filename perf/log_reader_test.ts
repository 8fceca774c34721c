import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { CSV_HEADER as COLUMNS, CsvLog, EV_ERROR, EV_RECEIVED, EV_SENT } from "./client_log.ts";
import { listClientLogs, readRun } from "./log_reader.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;
const RUN_JSON = await Deno.readTextFile(`${TESTDATA}clean/run.json`);
const CSV_HEADER = COLUMNS.join(",");

/** Makes a run directory in a temp dir; `clients` maps file name to contents. */
async function makeRun(
  clients: Record<string, string> | null,
  runJson: string | null = RUN_JSON,
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "fastchat-logreader-" });
  if (runJson !== null) await Deno.writeTextFile(`${dir}/run.json`, runJson);
  if (clients) {
    await Deno.mkdir(`${dir}/clients`);
    for (const [name, text] of Object.entries(clients)) {
      await Deno.writeTextFile(`${dir}/clients/${name}`, text);
    }
  }
  return dir;
}

async function failure(p: Promise<unknown>): Promise<FastChatError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FastChatError);
    return e as FastChatError;
  }
  throw new Error("expected a failure");
}

const noop = () => {};

Deno.test("readRun: streams every row of the clean test run", async () => {
  const rows: [number, string, number, number, number, string, string][] = [];
  const r = await readRun(`${TESTDATA}clean`, (...a) => rows.push(a));
  expect(r.files).toEqual(["clients/alice.csv", "clients/bob.csv"]);
  expect(r.rows).toBe(40);
  expect(rows.length).toBe(40);
  expect(rows[0]).toEqual([0, "m01", EV_SENT, 1767225600000, 100, "bob", "dm"]);
  expect(r.info.config.clients).toBe(2);
  expect(r.info.machine.hostname).toBe("perf-box");
  expect(r.info.phases.register).toEqual({ count: 2, ms: 40, perSecond: 50 });
});

Deno.test("readRun: corrupt row names the file and line", async () => {
  const e = await failure(readRun(`${TESTDATA}corrupt`, noop));
  expect(e.code).toBe("BAD_REQUEST");
  expect(e.message).toContain('clients/u17.csv line 4: time_ms "abc" is not a number');
});

Deno.test("readClientLog: row validation messages", async () => {
  const cases: [string, string][] = [
    ["message_id,event,time,bytes,peer,kind\n", 'line 1: header "message_id,event,time,bytes'],
    [`${CSV_HEADER}\nm1,sent,1,100,bob,dm\nm1,bounced,2,100,bob,dm\n`, 'line 3: event "bounced"'],
    [`${CSV_HEADER}\nm1,sent,1,100,bob\n`, "line 2: expected 6 fields, got 5"],
    [`${CSV_HEADER}\nm1,sent,1,x,bob,dm\n`, 'line 2: bytes "x" is not a number'],
    [`${CSV_HEADER}\nm1,sent,1,-5,bob,dm\n`, 'line 2: bytes "-5" is negative'],
    [`${CSV_HEADER}\nm1,sent,1,,bob,dm\n`, 'line 2: bytes "" is not a number'],
    [`${CSV_HEADER}\nm1,sent,,100,bob,dm\n`, 'line 2: time_ms "" is not a number'],
    [`${CSV_HEADER}\n,sent,1,100,bob,dm\n`, "line 2: message_id is empty"],
    [`${CSV_HEADER}\nm1,sent,1,100,bob,dm\n"m2,sent,2,100,bob,dm\n`, "line 3"],
    ["", "clients/u1.csv: empty file"],
  ];
  for (const [text, expected] of cases) {
    const dir = await makeRun({ "u1.csv": text });
    const e = await failure(readRun(dir, noop));
    expect(e.code).toBe("BAD_REQUEST");
    expect(e.message).toContain(`${dir}/clients/u1.csv`);
    expect(e.message).toContain(expected);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readClientLog: BOM, CRLF, quotes, error rows without bytes or id", async () => {
  const text = "\uFEFF" + CSV_HEADER + "\r\n" +
    'm1,sent,1.5,100,"bob",dm\r\n' +
    '"m,2",received,2.25,10,alice,dm\r\n' +
    ",error,3,,,CONNECTION_CLOSED\r\n" +
    "\r\n";
  const dir = await makeRun({ "u1.csv": text });
  const rows: unknown[][] = [];
  const r = await readRun(dir, (...a) => rows.push(a));
  expect(r.rows).toBe(3);
  expect(rows).toEqual([
    [0, "m1", EV_SENT, 1.5, 100, "bob", "dm"],
    [0, "m,2", EV_RECEIVED, 2.25, 10, "alice", "dm"],
    [0, "", EV_ERROR, 3, 0, "", "CONNECTION_CLOSED"],
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readRun: missing directory, run.json, clients/ and bad run.json", async () => {
  let e = await failure(readRun("/nonexistent/run-dir", noop));
  expect(e.code).toBe("BAD_REQUEST");
  expect(e.message).toBe("/nonexistent/run-dir: no such run directory");

  let dir = await makeRun({}, null);
  e = await failure(readRun(dir, noop));
  expect(e.code).toBe("BAD_REQUEST");
  expect(e.message).toBe(`${dir}/run.json: missing (not a run directory?)`);
  await Deno.remove(dir, { recursive: true });

  dir = await makeRun(null);
  e = await failure(readRun(dir, noop));
  expect(e.code).toBe("BAD_REQUEST");
  expect(e.message).toBe(`${dir}/clients: missing client log directory`);
  await Deno.remove(dir, { recursive: true });

  dir = await makeRun({}, "{ not json");
  e = await failure(readRun(dir, noop));
  expect(e.code).toBe("INVALID_CONFIG");
  expect(e.message).toContain(`${dir}/run.json: invalid JSON`);
  await Deno.remove(dir, { recursive: true });

  dir = await makeRun({}, JSON.stringify({ config: {}, startedAt: "2026-01-01T00:00:00Z" }));
  e = await failure(readRun(dir, noop));
  expect(e.code).toBe("INVALID_CONFIG");
  expect(e.message).toBe(`${dir}/run.json: config.mode must be string, got nothing`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readRun: reads back what CsvLog wrote", async () => {
  const dir = await makeRun({});
  const log = await CsvLog.create(`${dir}/clients/perf-x-0.csv`);
  log.add("m1", "sent", 1.5, 100, "perf-x-1", "dm");
  log.add("", "error", 2, "", "perf-x-1", "RATE,LIMITED");
  await log.flush();
  const rows: unknown[][] = [];
  expect((await readRun(dir, (...a) => rows.push(a))).rows).toBe(2);
  expect(rows).toEqual([
    [0, "m1", EV_SENT, 1.5, 100, "perf-x-1", "dm"],
    [0, "", EV_ERROR, 2, 0, "perf-x-1", "RATE,LIMITED"],
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("listClientLogs: only *.csv files, sorted", async () => {
  const dir = await makeRun({ "b.csv": CSV_HEADER, "a.csv": CSV_HEADER, "notes.txt": "x" });
  expect(await listClientLogs(dir)).toEqual(["clients/a.csv", "clients/b.csv"]);
  await Deno.remove(dir, { recursive: true });
});

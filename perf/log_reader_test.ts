import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import {
  CSV_HEADER,
  EV_ERROR,
  EV_RECEIVED,
  EV_SENT,
  listClientLogs,
  normalizeRunInfo,
  payloadBytesOf,
  payloadLabel,
  readRun,
  readRunInfo,
} from "./log_reader.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;
const RUN_JSON = JSON.stringify({ config: { clients: 2 }, startedAt: "2026-01-01T00:00:00Z" });

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
  expect(r.info.machine?.hostname).toBe("perf-box");
  expect(r.info.phases?.register).toEqual({ count: 2, ms: 40 });
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
  expect(e.message).toContain("config.clients must be a non-negative integer, got undefined");
  await Deno.remove(dir, { recursive: true });

  dir = await makeRun({}, JSON.stringify({ config: { clients: 1 }, startedAt: "yesterday" }));
  e = await failure(readRunInfo(dir));
  expect(e.code).toBe("INVALID_CONFIG");
  expect(e.message).toContain("startedAt must be an ISO date string");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("listClientLogs: only *.csv files, sorted", async () => {
  const dir = await makeRun({ "b.csv": CSV_HEADER, "a.csv": CSV_HEADER, "notes.txt": "x" });
  expect(await listClientLogs(dir)).toEqual(["clients/a.csv", "clients/b.csv"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("normalizeRunInfo: optional fields of the wrong type are dropped", () => {
  const info = normalizeRunInfo({
    config: { clients: 5, servers: "two", payload: "1KiB", db: "pglite", lb: true },
    machine: { cores: "many", hostname: "h" },
    startedAt: "2026-01-01T00:00:00Z",
    endedAt: 12,
    phases: { login: { count: 5, ms: "fast" } },
  }, "run.json");
  expect(info).toEqual({
    config: { clients: 5, payload: "1KiB", db: "pglite", lb: true },
    machine: { hostname: "h" },
    startedAt: "2026-01-01T00:00:00Z",
    phases: { login: { count: 5 } },
  });
});

Deno.test("payloadBytesOf / payloadLabel", () => {
  expect(payloadBytesOf({ clients: 1, payload: "100B" })).toBe(100);
  expect(payloadBytesOf({ clients: 1, payload: "1KiB" })).toBe(1024);
  expect(payloadBytesOf({ clients: 1, payload: "64KiB" })).toBe(65536);
  expect(payloadBytesOf({ clients: 1, payload: 300 })).toBe(300);
  expect(payloadBytesOf({ clients: 1, payload: "1KiB", payloadBytes: 1000 })).toBe(1000);
  expect(payloadBytesOf({ clients: 1, payload: "huge" })).toBeUndefined();
  expect(payloadBytesOf({ clients: 1 })).toBeUndefined();
  expect(payloadLabel({ clients: 1, payloadBytes: 65536 })).toBe("64KiB");
  expect(payloadLabel({ clients: 1, payload: 100 })).toBe("100B");
  expect(payloadLabel({ clients: 1, payload: "1KiB", payloadBytes: 1024 })).toBe("1KiB");
});

Deno.test("normalizeRunInfo: send model from a nested `send` object or flat fields", () => {
  const send = (config: Record<string, unknown>) =>
    normalizeRunInfo({ config: { clients: 1, ...config }, startedAt: "2026-01-01T00:00:00Z" }, "r")
      .config;
  expect(send({ send: { kind: "window", window: 16 }, durationMs: 5000 })).toEqual({
    clients: 1,
    window: 16,
    duration: 5000,
    send: "window 16",
  });
  expect(send({ send: { kind: "rate", perSecond: 500 } }).send).toBe("rate 500/s");
  expect(send({ send: { kind: "delay", delay: { dist: "exp", meanMs: 12 } } }).send).toBe(
    "delay exp:12ms",
  );
  expect(send({ send: { kind: "delay", delay: { dist: "const", ms: 5 } } })).toEqual({
    clients: 1,
    delay: 5,
    send: "delay 5ms",
  });
  expect(send({ rate: 100 }).send).toBe("rate 100/s");
  expect(send({}).send).toBeUndefined();
});

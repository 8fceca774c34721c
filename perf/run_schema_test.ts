import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { parseRunArgs } from "./run_config.ts";
import { parseRunRecord, readRunRecord, sendLabel } from "./run_schema.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;
const FIXTURES = ["clean", "lossy", "corrupt", "procs-s1", "procs-s2"];

function rejects(raw: unknown, message: string): void {
  let err: unknown;
  try {
    parseRunRecord(raw, "run.json");
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FastChatError);
  expect((err as FastChatError).code).toBe("INVALID_CONFIG");
  expect((err as FastChatError).message).toBe(`run.json: ${message}`);
}

Deno.test("testdata run.json files are in the current schema, with every field the writer writes", async () => {
  const configKeys = Object.keys(parseRunArgs(["--clients", "2", "--messages", "1"])).sort();
  for (const name of FIXTURES) {
    const run = await readRunRecord(`${TESTDATA}${name}`);
    expect(Object.keys(run.config).sort()).toEqual(configKeys);
    expect(Object.keys(run.phases)).toEqual(["register", "login", "warmup", "messaging"]);
  }
});

Deno.test("parseRunRecord: names the first field that does not match", async () => {
  const clean = JSON.parse(await Deno.readTextFile(`${TESTDATA}clean/run.json`));
  const edit = (f: (r: typeof clean) => void) => {
    const r = structuredClone(clean);
    f(r);
    return r;
  };
  expect(parseRunRecord(clean, "run.json")).toEqual(clean);
  rejects([], "expected a JSON object, got array");
  rejects({}, "config must be object, got nothing");
  rejects(
    edit((r) => r.config.clients = -1),
    "config.clients must be a non-negative integer, got -1",
  );
  rejects(edit((r) => r.config.clients = "2"), 'config.clients must be number, got "2"');
  rejects(
    edit((r) => delete r.config.durationMs),
    "config.durationMs must be number or null, got nothing",
  );
  rejects(edit((r) => r.config.payload = 100), "config.payload must be string, got 100");
  rejects(
    edit((r) => r.config.send = { kind: "burst" }),
    'config.send.kind must be window, rate or delay, got "burst"',
  );
  rejects(edit((r) => r.config.lb = true), "config.lb must be string or null, got true");
  // --peers: a number, null (not given) or absent (runs from before the flag).
  expect(parseRunRecord(edit((r) => r.config.peers = 8), "run.json").config.peers).toBe(8);
  expect(parseRunRecord(edit((r) => delete r.config.peers), "run.json").config.peers)
    .toBeUndefined();
  rejects(
    edit((r) => r.config.peers = "8"),
    'config.peers must be number or null or absent, got "8"',
  );
  rejects(edit((r) => delete r.versions.v8), "versions.v8 must be string, got nothing");
  rejects(edit((r) => r.machine.cores = null), "machine.cores must be number, got null");
  rejects(edit((r) => r.startedAt = "yesterday"), 'startedAt must be date, got "yesterday"');
  // The host check: absent in runs without it, else checked field by field.
  const hostStalls = {
    threads: 2,
    durationMs: 2000,
    over1Ms: 3,
    over2Ms: 1,
    over10Ms: 0,
    longestMs: 4.1,
    stalledPercent: 0.2,
  };
  expect(parseRunRecord(edit((r) => r.hostStalls = hostStalls), "run.json").hostStalls)
    .toEqual(hostStalls);
  rejects(edit((r) => r.hostStalls = "calm"), "hostStalls must be an object");
  rejects(
    edit((r) => r.hostStalls = { ...hostStalls, longestMs: -4 }),
    "hostStalls.longestMs must be a non-negative number, got -4",
  );
  rejects(edit((r) => delete r.interrupted), "interrupted must be boolean, got nothing");
  rejects(edit((r) => r.phases.login.ms = "fast"), 'phases.login.ms must be number, got "fast"');
  rejects(edit((r) => r.phases.messaging = 1), "phases.messaging must be object or null, got 1");
  rejects(
    edit((r) => delete r.phases.messaging.endMs),
    "phases.messaging.endMs must be number, got nothing",
  );
});

Deno.test("readRunRecord: missing directory, not a directory, missing file, invalid JSON", async () => {
  const fail = async (dir: string) => {
    try {
      await readRunRecord(dir);
    } catch (e) {
      return e as FastChatError;
    }
    throw new Error("expected a failure");
  };
  let e = await fail("/nonexistent/run-dir");
  expect([e.code, e.message]).toEqual([
    "BAD_REQUEST",
    "/nonexistent/run-dir: no such run directory",
  ]);
  const dir = await Deno.makeTempDir({ prefix: "fastchat-schema-" });
  try {
    await Deno.writeTextFile(`${dir}/file`, "");
    e = await fail(`${dir}/file`);
    expect([e.code, e.message]).toEqual(["BAD_REQUEST", `${dir}/file: not a directory`]);
    e = await fail(dir);
    expect([e.code, e.message]).toEqual([
      "BAD_REQUEST",
      `${dir}/run.json: missing (not a run directory?)`,
    ]);
    await Deno.writeTextFile(`${dir}/run.json`, "{ not json");
    e = await fail(`${dir}/`);
    expect(e.code).toBe("INVALID_CONFIG");
    expect(e.message).toContain(`${dir}/run.json: invalid JSON`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sendLabel: every send model in the flag's own syntax", () => {
  const label = (...args: string[]) =>
    sendLabel(parseRunArgs(["--clients", "2", "--messages", "1", ...args]).send);
  expect(label()).toBe("window 16");
  expect(label("--window", "4")).toBe("window 4");
  expect(label("--rate", "500/s")).toBe("rate 500/s");
  expect(label("--delay", "const:10ms")).toBe("delay const:10ms");
  expect(label("--delay", "exp:12ms")).toBe("delay exp:12ms");
  expect(label("--delay", "normal:10ms,5ms")).toBe("delay normal:10ms,5ms");
});

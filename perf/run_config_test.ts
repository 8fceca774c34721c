import { expect } from "expect";
import { assertCode } from "@fastchat/testing/assert_code";
import {
  IDLE_KDF_ITERATIONS,
  IDLE_SCRYPT_N,
  parseRunArgs,
  PERF_KDF_ITERATIONS,
  PERF_SCRYPT_N,
  runDirName,
} from "./run_config.ts";

/** Expects `fn` to throw INVALID_CONFIG with a message matching `re`. */
const rejects = (fn: () => unknown, re: RegExp) =>
  expect(assertCode(fn, "INVALID_CONFIG").message).toMatch(re);

const base = ["--clients", "10", "--messages", "5"];

Deno.test("parseRunArgs: defaults", () => {
  const c = parseRunArgs(base, { cores: 4 });
  expect(c).toMatchObject({
    mode: "dm",
    clients: 10,
    peers: null,
    messages: 5,
    durationMs: null,
    servers: 1,
    payload: "100B",
    payloadBytes: 100,
    send: { kind: "window", window: 16 },
    lb: null,
    db: null,
    out: null,
    workers: 4,
    drainMs: 30_000,
    idle: false,
    killOne: false,
    scryptN: PERF_SCRYPT_N,
    kdfIterations: PERF_KDF_ITERATIONS,
    analyze: true,
    cpuProf: false,
    traceGc: false,
    heapSample: false,
    heapSurvivors: false,
    hostCheckMs: 2000,
    wakeMeter: false,
    args: base,
  });
  expect(c.seed).toMatch(/^[a-z0-9]{8}$/);
});

Deno.test("parseRunArgs: --host-check D, 0s skips it, at most 60s", () => {
  const host = (v: string) => parseRunArgs([...base, "--host-check", v], { cores: 2 }).hostCheckMs;
  expect(host("500ms")).toBe(500);
  expect(host("0s")).toBe(0);
  expect(host("60s")).toBe(60_000);
  expect(() => host("61s")).toThrow("--host-check must be at most 60s");
  expect(() => host("2")).toThrow("--host-check needs a number with a unit");
  expect(() => host("soon")).toThrow("--host-check needs a number with a unit");
  expect(parseRunArgs([...base, "--wake-meter"], { cores: 2 }).wakeMeter).toBe(true);
});

Deno.test("parseRunArgs: the leading -- of deno task is skipped", () => {
  expect(parseRunArgs(["--", ...base])).toMatchObject({ clients: 10, args: base });
});

Deno.test("parseRunArgs: every flag", () => {
  const c = parseRunArgs([
    "--clients",
    "6",
    "--duration",
    "1.5s",
    "--servers",
    "3",
    "--payload",
    "64KiB",
    "--delay",
    "normal:10ms,5ms",
    "--db",
    "postgres://x@h/db",
    "--out",
    "/tmp/r",
    "--seed",
    "abc",
    "--workers",
    "9",
    "--drain",
    "2s",
    "--scrypt-n",
    "1024",
    "--kdf-iterations",
    "200000",
    "--kill-one",
    "--no-analyze",
    "--cpu-prof",
    "--trace-gc",
    "--heap-sample",
  ]);
  expect(c).toMatchObject({
    clients: 6,
    messages: null,
    durationMs: 1500,
    servers: 3,
    payloadBytes: 65536,
    send: { kind: "delay", delay: { dist: "normal", meanMs: 10, sdMs: 5 } },
    db: "postgres://x@h/db",
    out: "/tmp/r",
    seed: "abc",
    workers: 6, // capped by clients
    drainMs: 2000,
    scryptN: 1024,
    kdfIterations: 200_000,
    killOne: true,
    analyze: false,
    cpuProf: true,
    traceGc: true,
    heapSample: true,
    heapSurvivors: false,
  });
  // Only what survived a scavenge: sampling the heap, told to keep survivors only.
  expect(parseRunArgs(["--clients", "2", "--messages", "1", "--heap-survivors"])).toMatchObject({
    heapSample: true,
    heapSurvivors: true,
  });
});

Deno.test("parseRunArgs: workers default to the cores, capped by the clients", () => {
  expect(parseRunArgs(["--clients", "3", "--messages", "1"], { cores: 8 }).workers).toBe(3);
  expect(parseRunArgs(["--clients", "30", "--messages", "1"], { cores: 8 }).workers).toBe(8);
});

Deno.test("parseRunArgs: send models", () => {
  expect(parseRunArgs([...base, "--window", "4"]).send).toEqual({ kind: "window", window: 4 });
  expect(parseRunArgs([...base, "--rate", "500/s"]).send).toEqual({ kind: "rate", perSecond: 500 });
  expect(parseRunArgs([...base, "--delay", "exp:12ms"]).send).toEqual({
    kind: "delay",
    delay: { dist: "exp", meanMs: 12 },
  });
  rejects(() => parseRunArgs([...base, "--window", "4", "--rate", "10/s"]), /one send model/);
  rejects(() => parseRunArgs([...base, "--window", "0"]), /--window must be an integer >= 1/);
});

Deno.test("parseRunArgs: --mode group and its group size", () => {
  const c = parseRunArgs(["--mode", "group", "--group-size", "5", ...base]);
  expect(c).toMatchObject({ mode: "group", groupSize: 5, groupSenders: 5, fileBytes: null });
  expect(parseRunArgs([...base, "--mode", "group", "--group-size", "10", "--group-senders", "1"]))
    .toMatchObject({ groupSize: 10, groupSenders: 1 });
  rejects(() => parseRunArgs([...base, "--mode", "group"]), /needs --group-size/);
  rejects(() => parseRunArgs([...base, "--mode", "group", "--group-size", "20"]), /more than/);
  rejects(() => parseRunArgs([...base, "--mode", "group", "--group-size", "3"]), /multiple of/);
  rejects(() => parseRunArgs([...base, "--mode", "group", "--group-size", "1"]), /group-size/);
  rejects(
    () => parseRunArgs([...base, "--mode", "group", "--group-size", "5", "--group-senders", "6"]),
    /more than --group-size/,
  );
  rejects(() => parseRunArgs([...base, "--group-size", "5"]), /need --mode group/);
  rejects(() => parseRunArgs(["--idle", "4", "--mode", "group"]), /its own mode/);
});

Deno.test("parseRunArgs: --peers K, 1..clients-1, direct messages only", () => {
  expect(parseRunArgs([...base, "--peers", "4"]).peers).toBe(4);
  expect(parseRunArgs([...base, "--peers", "1"]).peers).toBe(1);
  expect(parseRunArgs([...base, "--peers", "9"]).peers).toBe(9);
  expect(parseRunArgs([...base, "--mode", "dm", "--peers", "2"]).peers).toBe(2);
  rejects(() => parseRunArgs([...base, "--peers", "0"]), /--peers must be an integer >= 1/);
  rejects(() => parseRunArgs([...base, "--peers", "2.5"]), /--peers must be an integer/);
  rejects(
    () => parseRunArgs([...base, "--peers", "10"]),
    /--peers 10 is more than the 9 other clients of --clients 10/,
  );
  rejects(
    () => parseRunArgs([...base, "--mode", "group", "--group-size", "5", "--peers", "2"]),
    /--peers .* needs --mode dm/,
  );
  rejects(() => parseRunArgs([...base, "--mode", "file", "--peers", "2"]), /needs --mode dm/);
  rejects(() => parseRunArgs(["--idle", "10", "--peers", "2"]), /--idle clients send nothing/);
  rejects(() => parseRunArgs([...base, "--peers"]), /--peers/);
});

Deno.test("parseRunArgs: --mode file: one 1 MiB file per client by default", () => {
  const c = parseRunArgs(["--clients", "2", "--mode", "file"]);
  expect(c).toMatchObject({ mode: "file", messages: 1, fileBytes: 1 << 20, groupSize: null });
  expect(parseRunArgs([...base, "--mode", "file", "--file-bytes", "100MiB"]).fileBytes)
    .toBe(100 << 20);
  rejects(() => parseRunArgs([...base, "--mode", "file", "--file-bytes", "101MiB"]), /at most/);
  rejects(() => parseRunArgs([...base, "--mode", "file", "--file-bytes", "1.5"]), /whole size/);
  rejects(
    () => parseRunArgs(["--clients", "2", "--duration", "5s", "--mode", "file"]),
    /counts files/,
  );
  rejects(() => parseRunArgs([...base, "--file-bytes", "1MiB"]), /needs --mode file/);
  rejects(() => parseRunArgs([...base, "--mode", "chat"]), /--mode must be dm, group or file/);
});

Deno.test("parseRunArgs: clients, messages and duration", () => {
  rejects(() => parseRunArgs(["--messages", "5"]), /--clients N is required/);
  rejects(
    () => parseRunArgs(["--clients", "1", "--messages", "5"]),
    /--clients must be an integer >= 2/,
  );
  rejects(
    () => parseRunArgs(["--clients", "x", "--messages", "5"]),
    /--clients must be an integer/,
  );
  rejects(() => parseRunArgs(["--clients", "5"]), /--messages M \(per client\) or --duration D/);
  rejects(
    () => parseRunArgs(["--clients", "5", "--messages", "1", "--duration", "1s"]),
    /not both/,
  );
  rejects(() => parseRunArgs(["--clients", "5", "--duration", "30"]), /needs a number with a unit/);
  rejects(() => parseRunArgs([...base, "--bogus"]), /Unknown option '--bogus'/);
  rejects(() => parseRunArgs([...base, "extra"]), /positional/);
});

Deno.test("parseRunArgs: --lb excludes what only applies to perf's own cluster", () => {
  const c = parseRunArgs([...base, "--lb", "10.0.0.5:7700"]);
  expect(c.lb).toBe("10.0.0.5:7700");
  rejects(() => parseRunArgs([...base, "--lb", "10.0.0.5"]), /--lb must be host:port/);
  expect(c.servers).toBeNull();
  rejects(() => parseRunArgs([...base, "--lb", "h:1", "--servers", "2"]), /--servers only applies/);
  rejects(
    () => parseRunArgs([...base, "--lb", "h:1", "--db", "postgres://x"]),
    /--db only applies/,
  );
  rejects(() => parseRunArgs([...base, "--lb", "h:1", "--kill-one"]), /--kill-one/);
  rejects(() => parseRunArgs(["--idle", "5", "--lb", "h:1"]), /--idle reads the servers' memory/);
});

Deno.test("parseRunArgs: --fabric direct|nats and --nats for the servers perf starts", () => {
  expect(parseRunArgs(base).fabric).toEqual({ kind: "direct" });
  const c = parseRunArgs([
    ...base,
    "--servers",
    "2",
    "--seed",
    "s.1",
    "--fabric",
    "nats",
    "--nats",
    "nats://127.0.0.1:4222",
  ]);
  // One namespace per seed, so runs sharing a NATS server stay apart.
  expect(c.fabric).toEqual({
    kind: "nats",
    servers: ["nats://127.0.0.1:4222"],
    namespace: "perf-s_1",
  });
  rejects(() => parseRunArgs([...base, "--fabric", "nats"]), /--fabric nats needs --nats/);
  rejects(() => parseRunArgs([...base, "--fabric", "udp"]), /--fabric must be direct or nats/);
  rejects(
    () => parseRunArgs([...base, "--lb", "h:1", "--fabric", "nats"]),
    /only apply to the cluster/,
  );
});

Deno.test("parseRunArgs: --kill-one needs two servers", () => {
  rejects(() => parseRunArgs([...base, "--kill-one"]), /--servers 2 or more/);
  expect(parseRunArgs([...base, "--kill-one", "--servers", "2"]).killOne).toBe(true);
});

Deno.test("parseRunArgs: --idle mode and its cheaper password costs", () => {
  const c = parseRunArgs(["--idle", "10000", "--servers", "2"], { cores: 2 });
  expect(c).toMatchObject({
    idle: true,
    clients: 10000,
    messages: null,
    durationMs: null,
    scryptN: IDLE_SCRYPT_N,
    kdfIterations: IDLE_KDF_ITERATIONS,
    workers: 2,
  });
  rejects(() => parseRunArgs(["--idle", "5", "--clients", "3"]), /its own mode/);
  rejects(() => parseRunArgs(["--idle", "5", "--rate", "3"]), /its own mode/);
  rejects(
    () => parseRunArgs(["--idle", "5", "--servers", "2", "--kill-one"]),
    /do not go together/,
  );
});

Deno.test("parseRunArgs: seed and password cost checks", () => {
  rejects(() => parseRunArgs([...base, "--seed", "Has-Caps"]), /--seed may use/);
  rejects(
    () => parseRunArgs(["--clients", "100000", "--messages", "1", "--seed", "a".repeat(22)]),
    /too long/,
  );
  rejects(() => parseRunArgs([...base, "--scrypt-n", "1000"]), /power of two/);
  rejects(() => parseRunArgs([...base, "--kdf-iterations", "1000"]), />= 100000/);
});

Deno.test("runDirName: timestamp, clients and servers", () => {
  const at = new Date("2025-01-02T03:04:05.678Z");
  expect(runDirName(parseRunArgs([...base, "--servers", "2"]), at)).toBe("20250102T030405Z-c10-s2");
  expect(runDirName(parseRunArgs(["--idle", "50"]), at)).toBe("20250102T030405Z-idle50-s1");
  expect(runDirName(parseRunArgs([...base, "--lb", "h:1"]), at)).toBe("20250102T030405Z-c10-slb");
});

Deno.test("parseRunArgs: --driver client|wire; wire is for direct messages without --kill-one", () => {
  expect(parseRunArgs(base).driver).toBe("client");
  expect(parseRunArgs([...base, "--driver", "wire"]).driver).toBe("wire");
  rejects(() => parseRunArgs([...base, "--driver", "raw"]), /--driver must be client or wire/);
  rejects(
    () => parseRunArgs([...base, "--driver", "wire", "--mode", "group", "--group-size", "5"]),
    /direct messages only/,
  );
  rejects(
    () => parseRunArgs([...base, "--driver", "wire", "--kill-one", "--servers", "2"]),
    /does not reconnect/,
  );
  rejects(() => parseRunArgs(["--idle", "10", "--driver", "wire"]), /--idle uses real clients/);
});

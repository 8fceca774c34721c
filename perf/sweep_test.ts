import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { parseSweepArgs, sweepMatrix } from "./sweep.ts";

Deno.test("parseSweepArgs: own lists vs forwarded flags", () => {
  const s = parseSweepArgs([
    "--",
    "--clients",
    "10,50, 100",
    "--servers=1,2",
    "--messages",
    "200",
    "--payload",
    "100B,1KiB",
    "--kill-one",
    "--out",
    "/tmp/sw",
    "--no-analyze",
  ]);
  expect(s).toEqual({
    clients: ["10", "50", "100"],
    servers: ["1", "2"],
    payloads: ["100B", "1KiB"],
    out: "/tmp/sw",
    analyze: false,
    forward: ["--messages", "200", "--kill-one"],
  });
});

Deno.test("sweepMatrix: every combination, validated, named", () => {
  const m = sweepMatrix(
    parseSweepArgs([
      "--clients",
      "10,20",
      "--servers",
      "1,2",
      "--payload",
      "1KiB",
      "--messages",
      "5",
    ]),
  );
  expect(m.map((p) => p.name)).toEqual([
    "c10-s1-p1KiB",
    "c10-s2-p1KiB",
    "c20-s1-p1KiB",
    "c20-s2-p1KiB",
  ]);
  expect(m[1].args).toEqual([
    "--messages",
    "5",
    "--clients",
    "10",
    "--servers",
    "2",
    "--payload",
    "1KiB",
  ]);
  expect(sweepMatrix(parseSweepArgs(["--clients", "4", "--duration", "5s", "--lb", "h:1"]))[0].name)
    .toBe("c4-slb");
});

Deno.test("sweep: errors before anything runs", () => {
  const bad = (args: string[], re: RegExp) => {
    let err: unknown;
    try {
      sweepMatrix(parseSweepArgs(args));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FastChatError);
    expect((err as Error).message).toMatch(re);
  };
  bad(["--messages", "5"], /--clients LIST is required/);
  bad(["--clients", "", "--messages", "5"], /comma-separated list/);
  bad(["--clients", "--messages", "5"], /--clients needs a value/);
  bad(["--clients", "10", "--clients", "20", "--messages", "5"], /given twice/);
  bad(["--clients", "10,1", "--messages", "5"], /--clients must be an integer >= 2/);
  bad(["--clients", "10", "--servers", "1,x", "--messages", "5"], /--servers must be an integer/);
  bad(["--clients", "10", "--payload", "2MiB", "--messages", "5"], /at most/);
  bad(["--clients", "10"], /--messages M/);
  bad(["--clients", "10,10", "--messages", "5"], /twice/);
  bad(
    ["--clients", "10", "--servers", "2", "--lb", "h:1", "--messages", "5"],
    /--servers only applies/,
  );
  bad(["--clients", "10", "--idle", "5"], /run --idle with deno task perf/);
});

import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { assertCode } from "@fastchat/testing/assert_code";
import {
  BINARY_DENO_FLAGS,
  currentInvocation,
  FASTCHAT_BINARY_ENV,
  selfCommand,
  type SelfInvocation,
} from "./self_command.ts";
import { SERVER_V8_FLAGS } from "./runtime_flags.ts";

const ENTRY = fileURLToPath(new URL("../fastchat/main.ts", import.meta.url));
const noEnv = { get: (_: string) => undefined };
const source: SelfInvocation = {
  kind: "source",
  deno: "/usr/bin/deno",
  entry: "/src/fastchat/main.ts",
};
const binary: SelfInvocation = { kind: "binary", binary: "/opt/bin/fastchat" };

Deno.test("currentInvocation: deno run of fastchat/main.ts; compiled: the binary; $FASTCHAT_BINARY wins", () => {
  expect(currentInvocation(noEnv, false)).toEqual({
    kind: "source",
    deno: Deno.execPath(),
    entry: ENTRY,
  });
  // Inside a `deno compile` binary, Deno.execPath() is the binary.
  expect(currentInvocation(noEnv, true)).toEqual({ kind: "binary", binary: Deno.execPath() });
  const env = { get: (k: string) => k === FASTCHAT_BINARY_ENV ? "/opt/bin/fastchat" : undefined };
  expect(currentInvocation(env, false)).toEqual(binary);
  expect(currentInvocation(env, true)).toEqual(binary);
  // Empty counts as unset.
  expect(currentInvocation({ get: () => "" }, false).kind).toBe("source");
  // This test runs under `deno test`, not compiled.
  expect(Deno.build.standalone).toBe(false);
});

Deno.test("selfCommand from source: deno run -A [deno flags] fastchat/main.ts <sub> [args]", () => {
  expect(selfCommand("lb", ["--port", "0"], { invocation: source })).toEqual({
    command: "/usr/bin/deno",
    args: ["run", "-A", "/src/fastchat/main.ts", "lb", "--port", "0"],
  });
  expect(
    selfCommand("server", ["--id", "s1"], {
      invocation: source,
      denoFlags: ["--cpu-prof", SERVER_V8_FLAGS],
    }).args,
  ).toEqual([
    "run",
    "-A",
    "--cpu-prof",
    SERVER_V8_FLAGS,
    "/src/fastchat/main.ts",
    "server",
    "--id",
    "s1",
  ]);
  // By default: this process's deno and this checkout's entry.
  expect(selfCommand("db")).toEqual({ command: Deno.execPath(), args: ["run", "-A", ENTRY, "db"] });
});

Deno.test("selfCommand compiled: the binary with the subcommand; only its baked-in Deno flags", () => {
  expect(selfCommand("db", ["--memory"], { invocation: binary })).toEqual({
    command: "/opt/bin/fastchat",
    args: ["db", "--memory"],
  });
  expect(
    selfCommand("server", ["--port", "0"], { invocation: binary, denoFlags: BINARY_DENO_FLAGS }),
  ).toEqual({ command: "/opt/bin/fastchat", args: ["server", "--port", "0"] });
  const err = assertCode(
    () => selfCommand("perf-worker", ["{}"], { invocation: binary, denoFlags: ["--cpu-prof"] }),
    "INVALID_CONFIG",
  );
  expect(err.message).toContain("--cpu-prof needs `deno run`");
});

/**
 * A child that fails before it is ready: when it said why in FastChat's
 * one-line form (`fastchat <name>: CODE: message`), the spawn fails with that
 * code and message; otherwise it is `INTERNAL` with the child's last output.
 */
import { expect } from "expect";
import { assertCode } from "@fastchat/testing/assert_code";
import { ManagedProcess, reportedFailure } from "./managed_process.ts";

const exitWith = (lines: string[]) => ({
  name: "child",
  args: [
    "eval",
    `${lines.map((l) => `console.error(${JSON.stringify(l)});`).join("")}Deno.exit(1)`,
  ],
  ready: /never printed/,
});

Deno.test("reportedFailure: the last one-line FastChat failure with a known code", () => {
  expect(reportedFailure([])).toBeNull();
  expect(reportedFailure(["fastchat lb: NOT_A_CODE: x", "panic: something"])).toBeNull();
  expect(reportedFailure([
    "fastchat db: STORE_UNAVAILABLE: first",
    "fastchat db: ADDRESS_IN_USE: 127.0.0.1:7432 is already in use (…)",
    "trailing noise",
  ])).toEqual({ code: "ADDRESS_IN_USE", message: "127.0.0.1:7432 is already in use (…)" });
});

Deno.test("spawn: a child's reported failure is the spawn's, code and message", async () => {
  const err = await assertCode(
    ManagedProcess.spawn(exitWith([
      "some log line",
      "fastchat lb: ADDRESS_IN_USE: 127.0.0.1:7700 is already in use (choose another with --port)",
    ])),
    "ADDRESS_IN_USE",
  );
  expect(err.message).toBe(
    "child: 127.0.0.1:7700 is already in use (choose another with --port)",
  );
});

Deno.test("spawn: a child that exits without saying why is INTERNAL with its output", async () => {
  const err = await assertCode(ManagedProcess.spawn(exitWith(["it broke"])), "INTERNAL");
  expect(err.message).toContain("child exited with code 1 before it was ready");
  expect(err.message).toContain("it broke");
});

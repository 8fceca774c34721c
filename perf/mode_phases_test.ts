import { expect } from "expect";
import { parseRunArgs } from "./run_config.ts";
import {
  describeMode,
  groupWarmupMessages,
  hasReceipts,
  modeRecordParts,
  receptionsPerMessage,
  sendingClients,
} from "./mode_phases.ts";
import { plannedWarmupMessages } from "./setup_phases.ts";

const group = (size: number, extra: string[] = []) =>
  parseRunArgs([
    "--clients",
    "12",
    "--messages",
    "3",
    "--mode",
    "group",
    "--group-size",
    `${size}`,
    ...extra,
  ]);

Deno.test("receptions and receipts per mode", () => {
  const dm = parseRunArgs(["--clients", "4", "--messages", "3"]);
  expect([receptionsPerMessage(dm), hasReceipts(dm)]).toEqual([1, true]);
  const file = parseRunArgs(["--clients", "4", "--mode", "file"]);
  expect([receptionsPerMessage(file), hasReceipts(file)]).toEqual([1, true]);
  expect([receptionsPerMessage(group(4)), hasReceipts(group(4))]).toEqual([3, false]);
});

Deno.test("group warm-up: one message per sender, reaching the other members", () => {
  expect(groupWarmupMessages(group(4))).toBe(12);
  expect(groupWarmupMessages(group(4, ["--group-senders", "1"]))).toBe(3);
  expect(plannedWarmupMessages(group(4, ["--group-senders", "1"]))).toBe(9);
});

Deno.test("modeRecordParts: groups for group runs, the RSS record for file runs", () => {
  const g = modeRecordParts(group(6), null);
  expect(g.groups?.map((x) => x.members.length)).toEqual([6, 6]);
  expect(modeRecordParts(parseRunArgs(["--clients", "2", "--messages", "1"]), null)).toEqual({});
  const file = parseRunArgs(["--clients", "2", "--mode", "file"]);
  const rec = { fileBytes: 1 << 20, rssKbBefore: { "srv-1": 1 }, rssKbPeak: { "srv-1": 2 } };
  expect(modeRecordParts(file, rec)).toEqual({ file: rec });
  expect(describeMode(file)).toBe("files of 1048576 B");
  expect(describeMode(group(6))).toContain("groups of 6");
});

Deno.test("sendingClients: every client, or the senders of each group", () => {
  expect(sendingClients(parseRunArgs(["--clients", "4", "--messages", "3"]))).toBe(4);
  expect(sendingClients(group(4))).toBe(12);
  expect(sendingClients(group(6, ["--group-senders", "2"]))).toBe(4);
});

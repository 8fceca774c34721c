import { expect } from "expect";
import { randomId } from "@fastchat/lib/crypto";
import { MESSAGE_ID_RE } from "@fastchat/lib/protocol";
import {
  batchMembers,
  batchSize,
  batchWireId,
  firstMember,
  MAX_BATCH_MESSAGES,
  memberId,
} from "./message_batch.ts";

const E = "AbCdEfGhIjKlMnOpQrSt-_";

Deno.test("a batch id names its size and its texts", () => {
  for (const n of [2, 9, 10, 42, MAX_BATCH_MESSAGES]) {
    const wire = batchWireId(E, n);
    expect(MESSAGE_ID_RE.test(wire)).toBe(true);
    expect(batchSize(wire)).toBe(n);
    expect(firstMember(wire)).toBe(E);
    const members = batchMembers(wire);
    expect(members.length).toBe(n);
    expect(members[0]).toBe(E);
    expect(members[n - 1]).toBe(memberId(E, n - 1));
    expect(new Set(members).size).toBe(n);
    for (const m of members) expect(MESSAGE_ID_RE.test(m)).toBe(true);
  }
});

Deno.test("anything but E-n (n 2..64) is one message", () => {
  for (
    const id of [
      E,
      randomId(16),
      `${E}-1`,
      `${E}-0`,
      `${E}-02`,
      `${E}-65`,
      `${E}-99`,
      `${E}-100`,
      `${E}_2`,
      `${E}-a`,
      `${E}x-2`,
      `${E.slice(1)}-2`,
      "short-2",
    ]
  ) {
    expect(batchSize(id)).toBe(1);
    expect(batchMembers(id)).toEqual([id]);
    expect(firstMember(id)).toBe(id);
  }
  // Random lone ids (22 characters, possibly ending in "-7") are never read as batches.
  for (let i = 0; i < 1000; i++) expect(batchSize(randomId(16))).toBe(1);
});

Deno.test("batchWireId refuses what no batch is", () => {
  expect(() => batchWireId(E, 1)).toThrow(RangeError);
  expect(() => batchWireId(E, 65)).toThrow(RangeError);
  expect(() => batchWireId("short", 2)).toThrow(RangeError);
});

import { expect } from "expect";
import { EV_ACKED, EV_DELIVERED, EV_ERROR, EV_RECEIVED, EV_SENT } from "./client_log.ts";
import { F_ACKED, F_DELIVERED, F_ERROR, F_SENT, MessageTable } from "./message_table.ts";

Deno.test("MessageTable: first send and first reception win; receptions counted", () => {
  const t = new MessageTable();
  t.add("m1", EV_RECEIVED, 30, 100, "a", "dm"); // logs are read file by file: reception first
  t.add("m1", EV_SENT, 20, 100, "b", "dm");
  t.add("m1", EV_SENT, 10, 100, "b", "dm"); // a resend: the earlier time counts
  t.add("m1", EV_RECEIVED, 25, 100, "a", "dm");
  t.add("m1", EV_ACKED, 11, 100, "b", "dm");
  t.add("m1", EV_DELIVERED, 31, 100, "b", "dm");
  expect(t.size).toBe(1);
  expect([t.sentT[0], t.recvT[0], t.recvCount[0], t.bytes[0]]).toEqual([10, 25, 2, 100]);
  expect(t.flags[0]).toBe(F_SENT | F_ACKED | F_DELIVERED);
});

Deno.test("MessageTable: error rows by code, crypto errors, the message flagged", () => {
  const t = new MessageTable();
  t.add("m1", EV_SENT, 1, 10, "b", "dm");
  t.add("m1", EV_ERROR, 2, 0, "b", "DECRYPT_FAILED");
  t.add("", EV_ERROR, 3, 0, "", "");
  t.add("", EV_ERROR, 4, 0, "", "CONNECTION_CLOSED");
  expect(t.size).toBe(1); // an error without an id names no message
  expect(t.flags[0]).toBe(F_SENT | F_ERROR);
  expect([t.errorRows, t.undecryptable]).toEqual([3, 1]);
  expect(Object.fromEntries(t.errorsByCode)).toEqual({
    DECRYPT_FAILED: 1,
    UNSPECIFIED: 1,
    CONNECTION_CLOSED: 1,
  });
});

Deno.test("MessageTable: grows past its capacity, keeping every value", () => {
  const t = new MessageTable(16);
  for (let i = 0; i < 1000; i++) t.add(`m${i}`, EV_SENT, i, i % 7, "b", "dm");
  for (let i = 0; i < 1000; i += 2) t.add(`m${i}`, EV_RECEIVED, i + 5, i % 7, "a", "dm");
  expect(t.size).toBe(1000);
  expect(t.sentT[999]).toBe(999);
  expect(t.bytes[999]).toBe(999 % 7);
  expect(t.recvT[998]).toBe(1003);
  expect(Number.isNaN(t.recvT[999])).toBe(true);
  expect(t.recvCount[1]).toBe(0);
});

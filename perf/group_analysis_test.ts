import { expect } from "expect";
import { EV_ACKED, EV_RECEIVED, EV_SENT } from "./client_log.ts";
import { GroupAccumulator } from "./group_analysis.ts";

const GROUPS = [
  { name: "g1", members: ["a", "b", "c"] },
  { name: "g2", members: ["d", "e"] },
];
const USERS = ["a", "b", "c", "d", "e"]; // client log i belongs to USERS[i]
const [A, B, C, D, E] = [0, 1, 2, 3, 4];

Deno.test("GroupAccumulator: messages, deliveries and latency per delivery", () => {
  const acc = new GroupAccumulator(GROUPS, USERS);
  // Receivers' logs may be read before the sender's.
  acc.sink(B, "m1", EV_RECEIVED, 1010, 100, "a", "group");
  acc.sink(C, "m1", EV_RECEIVED, 1030, 100, "a", "group");
  acc.sink(A, "m1", EV_SENT, 1000, 100, "#g1", "group");
  acc.sink(A, "m1", EV_ACKED, 1002, 100, "#g1", "group");
  acc.sink(D, "m2", EV_SENT, 1500, 100, "#g2", "group");
  acc.sink(E, "m2", EV_RECEIVED, 1520, 100, "d", "group");
  const s = acc.finish();
  expect(s).toMatchObject({
    groups: 2,
    groupSize: 3,
    messages: 2,
    expectedDeliveries: 3,
    deliveries: 3,
    lostDeliveries: 0,
    duplicateDeliveries: 0,
    unexpectedDeliveries: 0,
    windowMs: 520,
  });
  expect(s.deliveryLatencyMs).toMatchObject({ count: 3, min: 10, p50: 20, max: 30 });
  expect(s.messagesPerSec).toBeCloseTo(2 / 0.52, 6);
  expect(s.deliveriesPerSec).toBeCloseTo(3 / 0.52, 6);
});

Deno.test("GroupAccumulator: lost, duplicate and unexpected deliveries per (message, receiver)", () => {
  const acc = new GroupAccumulator(GROUPS, USERS);
  acc.sink(A, "m1", EV_SENT, 1000, 100, "#g1", "group");
  acc.sink(B, "m1", EV_RECEIVED, 1010, 100, "a", "group");
  acc.sink(B, "m1", EV_RECEIVED, 1011, 100, "a", "group"); // b twice: one duplicate
  // c never gets m1: one lost delivery, although m1 reached someone.
  acc.sink(D, "m1", EV_RECEIVED, 1012, 100, "a", "group"); // d is not in g1
  acc.sink(A, "m1", EV_RECEIVED, 1013, 100, "a", "group"); // the sender itself
  acc.sink(C, "ghost", EV_RECEIVED, 1014, 100, "a", "group"); // never sent
  acc.sink(B, "m2", EV_SENT, 1100, 100, "#g1", "group"); // nobody got it: two lost
  const s = acc.finish();
  expect(s).toMatchObject({
    messages: 2,
    expectedDeliveries: 4,
    deliveries: 1,
    lostDeliveries: 3,
    duplicateDeliveries: 1,
    duplicatedMessages: 1,
    unexpectedDeliveries: 3,
  });
});

Deno.test("GroupAccumulator: no rows, no figures", () => {
  const s = new GroupAccumulator(GROUPS, USERS).finish();
  expect(s.messages).toBe(0);
  expect(s.deliveries).toBe(0);
  expect(s.deliveriesPerSec).toBeNaN();
  expect(s.deliveryLatencyMs.p50).toBeNaN();
});

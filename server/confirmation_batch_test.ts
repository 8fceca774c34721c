import { expect } from "expect";
import type { ServerFrame } from "@fastchat/lib/protocol";
import { ConfirmationBatch } from "./confirmation_batch.ts";

Deno.test("ConfirmationBatch sends one frame per kind for everything confirmed in a task", async () => {
  const frames: ServerFrame[] = [];
  const batch = new ConfirmationBatch((f) => frames.push(f));
  batch.sent("m-1");
  batch.delivered("bob", "m-2", false);
  batch.sent("m-3");
  batch.delivered("carol", "m-4", true);
  batch.delivered("bob", "m-5", false);
  expect(frames).toEqual([]); // nothing before the task's microtasks
  await Promise.resolve();
  expect(frames).toEqual([
    { t: "sent", ids: ["m-1", "m-3"] },
    { t: "delivered", items: [["bob", "m-2"], ["bob", "m-5"]] },
    { t: "delivered", items: [["carol", "m-4"]], stored: true },
  ]);
});

Deno.test("ConfirmationBatch starts afresh after each flush and sends no empty frame", async () => {
  const frames: ServerFrame[] = [];
  const batch = new ConfirmationBatch((f) => frames.push(f));
  batch.sent("m-1");
  await Promise.resolve();
  batch.delivered("bob", "m-2", true);
  await Promise.resolve();
  await Promise.resolve();
  expect(frames).toEqual([
    { t: "sent", ids: ["m-1"] },
    { t: "delivered", items: [["bob", "m-2"]], stored: true },
  ]);
});

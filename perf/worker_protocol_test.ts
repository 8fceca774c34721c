import { expect } from "expect";
import { readLines, sumProgress, workerProgress } from "./worker_protocol.ts";

Deno.test("workerProgress: zeros, overridden by the given counts", () => {
  expect(workerProgress({ sent: 3, loggedIn: 2 })).toMatchObject({
    sent: 3,
    received: 0,
    loggedIn: 2,
    doneSending: false,
    warmSent: 0,
  });
});

Deno.test("sumProgress: counts add up; allDone once every worker reported and finished", () => {
  const a = workerProgress({ sent: 2, received: 1, registered: 4, warmSent: 6, doneSending: true });
  const b = workerProgress({ sent: 3, received: 5, existing: 1, lastSendMs: 9 });
  const s = sumProgress([a, b]);
  expect(s).toMatchObject({
    sent: 5,
    received: 6,
    registered: 4,
    existing: 1,
    warmSent: 6,
    lastSendMs: 9,
    allDone: false,
    doneSending: false,
  });
  expect(sumProgress([a, { ...b, doneSending: true }]).allDone).toBe(true);
  expect(sumProgress([a, null]).allDone).toBe(false); // a worker not heard from yet
  expect(sumProgress([]).allDone).toBe(false);
});

Deno.test("readLines: lines split across chunks, UTF-8 split across chunks, a last line without newline", async () => {
  const bytes = new TextEncoder().encode('{"t":"hello"}\n{"t":"fa\u00efled"}\nlast');
  const cut = bytes.indexOf(0xc3) + 1; // inside the two bytes of "ï"
  const input = ReadableStream.from([bytes.slice(0, 5), bytes.slice(5, cut), bytes.slice(cut)]);
  const lines: string[] = [];
  for await (const l of readLines(input)) lines.push(l);
  expect(lines).toEqual(['{"t":"hello"}', '{"t":"fa\u00efled"}', "last"]);
});

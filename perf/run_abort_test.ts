import { expect } from "expect";
import { Interrupted, RunAbort } from "./run_abort.ts";

Deno.test("RunAbort.guard: the promise's own outcome while not aborted", async () => {
  const abort = new RunAbort();
  expect(await abort.guard(Promise.resolve(42))).toBe(42);
  await expect(abort.guard(Promise.reject(new Error("own")))).rejects.toThrow("own");
});

Deno.test("RunAbort.fail: every guarded wait rejects with the first reason", async () => {
  const abort = new RunAbort();
  const pending = abort.guard(new Promise<never>(() => {}));
  abort.fail(new Error("worker 0 exited"));
  abort.fail(new Error("second failure"));
  abort.interrupt();
  await expect(pending).rejects.toThrow("worker 0 exited");
  // Later waits too, even on promises that are already settled.
  await expect(abort.guard(new Promise<never>(() => {}))).rejects.toThrow("worker 0 exited");
});

Deno.test("RunAbort.interrupt: rejects with Interrupted", async () => {
  const abort = new RunAbort();
  abort.interrupt();
  const e = await abort.guard(new Promise<never>(() => {})).catch((e) => e);
  expect(e).toBeInstanceOf(Interrupted);
  expect(e.message).toBe("interrupted");
});

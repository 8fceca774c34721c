import { expect } from "expect";
import { StateSaver } from "./state_saver.ts";

Deno.test("StateSaver: changes within the interval share one scheduled save", async () => {
  let saves = 0;
  const saved = Promise.withResolvers<void>();
  const saver = new StateSaver({
    write: () => {
      saves++;
      saved.resolve();
      return Promise.resolve();
    },
    onError: (e) => saved.reject(e),
    intervalMs: 1,
  });
  saver.schedule();
  saver.schedule();
  saver.schedule();
  expect(saver.scheduled).toBe(true);
  expect(saves).toBe(0); // not at once
  await saved.promise;
  expect(saves).toBe(1);
  expect(saver.scheduled).toBe(false);
});

Deno.test("StateSaver: saveNow writes at once and cancels the scheduled save", async () => {
  let saves = 0;
  const saver = new StateSaver({
    write: () => Promise.resolve(void saves++),
    onError: (e) => {
      throw e;
    },
    intervalMs: 60_000,
  });
  saver.schedule();
  await saver.saveNow();
  expect(saves).toBe(1);
  expect(saver.scheduled).toBe(false);
  // The op sanitizer fails this test if the 60 s timer were still armed.
});

Deno.test("StateSaver: a failed scheduled save goes to onError; saveNow's failure to its caller", async () => {
  const failed = Promise.withResolvers<unknown>();
  const saver = new StateSaver({
    write: () => Promise.reject(new Error("disk full")),
    onError: failed.resolve,
    intervalMs: 1,
  });
  saver.schedule();
  expect(await failed.promise).toMatchObject({ message: "disk full" });
  await expect(saver.saveNow()).rejects.toThrow("disk full");
});

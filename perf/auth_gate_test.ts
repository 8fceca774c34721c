import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { AuthGate, retryAuth } from "./auth_gate.ts";
import { nowMs } from "./clock.ts";

Deno.test("AuthGate: at most `limit` in flight; a waiter gets the freed slot", async () => {
  const gate = new AuthGate(2);
  await gate.acquire();
  await gate.acquire();
  let third = false;
  const waiting = gate.acquire().then(() => third = true);
  await Promise.resolve();
  expect(third).toBe(false);
  gate.release("ok");
  await waiting;
  expect(gate.active).toBe(2);
  gate.release("ok");
  gate.release("ok");
  expect(gate.active).toBe(0);
});

Deno.test("AuthGate: a refusal halves the limit and pauses; successes raise it back to max", async () => {
  const gate = new AuthGate(8);
  await gate.acquire();
  gate.release("limited", 20);
  expect(gate.limit).toBe(4);
  expect(gate.limitedCount).toBe(1);
  const t0 = nowMs();
  await gate.acquire(); // waits out the pause: 2 × 20 ms plus up to 20 ms of jitter
  expect(nowMs() - t0).toBeGreaterThanOrEqual(39);
  gate.release("ok");
  expect(gate.limit).toBe(5);
  for (let i = 0; i < 10; i++) {
    await gate.acquire();
    gate.release("ok");
  }
  expect(gate.limit).toBe(8);
  for (let i = 0; i < 5; i++) {
    await gate.acquire();
    gate.release("limited", 0);
  }
  expect(gate.limit).toBe(1);
});

Deno.test("retryAuth: RATE_LIMITED is retried without limit, other errors `attempts` times", async () => {
  const gate = new AuthGate(4);
  let calls = 0;
  const limitedFiveTimes = () => {
    calls++;
    if (calls <= 5) {
      return Promise.reject(new FastChatError("RATE_LIMITED", "slow down", { retryMs: 1 }));
    }
    return Promise.resolve("ok");
  };
  expect(await retryAuth("registering a", limitedFiveTimes, gate, () => false, 1)).toBe("ok");
  expect(calls).toBe(6);
  expect(gate.limitedCount).toBe(5);

  calls = 0;
  const broken = () => {
    calls++;
    return Promise.reject(new FastChatError("BAD_REQUEST", "no"));
  };
  await expect(retryAuth("logging in b", broken, gate, () => false, 2)).rejects.toThrow(
    "logging in b: BAD_REQUEST: no",
  );
  expect(calls).toBe(2);
  expect(gate.active).toBe(0);
});

Deno.test("retryAuth: a stopped worker does not try", async () => {
  const gate = new AuthGate(4);
  let calls = 0;
  const fn = () => Promise.resolve(++calls);
  await expect(retryAuth("registering c", fn, gate, () => true)).rejects.toThrow(
    "registering c: stopped",
  );
  expect(calls).toBe(0);
  expect(gate.active).toBe(0);
});

/**
 * The accept loop survives accept errors (EMFILE and the like): it retries
 * with backoff (5 ms doubling to 1 s, reset on success) and keeps serving
 * real TCP; it ends only when the listener is closed. A port that is taken
 * is `ADDRESS_IN_USE`, naming the address and the flag that picks another.
 */
import { expect } from "expect";
import { assertCode } from "@fastchat/testing/assert_code";
import {
  ACCEPT_BACKOFF_MAX_MS,
  ACCEPT_BACKOFF_MIN_MS,
  acceptLoop,
  checkPortFree,
  isAddressInUse,
  listen,
} from "./listener.ts";

/**
 * A real TCP listener whose `accept()` fails as `plan` says: each entry is
 * the number of errors thrown before the next real accept.
 */
function flakyListener(real: Deno.Listener, plan: number[]): Deno.Listener {
  let step = 0;
  let failuresLeft = plan[0] ?? 0;
  const accept = (): Promise<Deno.Conn> => {
    if (failuresLeft > 0) {
      failuresLeft--;
      return Promise.reject(new Error("Too many open files (os error 24)"));
    }
    step++;
    failuresLeft = plan[step] ?? 0;
    return real.accept();
  };
  return {
    get addr() {
      return real.addr;
    },
    accept,
    close: () => real.close(),
    ref: () => real.ref(),
    unref: () => real.unref(),
    // Like Deno's: iteration is accept() until it throws.
    [Symbol.asyncIterator]: async function* () {
      while (true) yield await accept();
    },
    [Symbol.dispose]: () => real.close(),
  } as unknown as Deno.Listener;
}

/** Connects, writes `text`, and resolves with what the echo server sent back. */
async function echoOnce(port: number, text: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(text));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0));
  } finally {
    conn.close();
  }
}

async function echo(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(64);
  const n = await conn.read(buf);
  if (n) await conn.write(buf.subarray(0, n));
  conn.close();
}

Deno.test("acceptLoop: accept errors are retried with doubling backoff, reset by a success", async () => {
  const real = listen({ host: "127.0.0.1", port: 0 });
  const port = (real.addr as Deno.NetAddr).port;
  // 4 errors, a connection, 2 errors, a connection, then normal.
  const listener = flakyListener(real, [4, 2, 0]);
  const waits: number[] = [];
  let closing = false;
  let ended = false;
  const loop = acceptLoop(listener, {
    closing: () => closing,
    serve: echo,
    onAcceptError: (_e, ms) => waits.push(ms),
  }).then(() => ended = true);
  // On the old loop the first error ended it and these would never be answered.
  const first = await Promise.race([echoOnce(port, "one"), loop.then(() => "loop ended")]);
  expect(first).toBe("one");
  expect(await echoOnce(port, "two")).toBe("two");
  expect(await echoOnce(port, "three")).toBe("three");
  expect(waits).toEqual([5, 10, 20, 40, 5, 10]);
  expect(ended).toBe(false);
  closing = true;
  listener.close();
  await loop;
  expect(ended).toBe(true);
});

Deno.test("acceptLoop: the backoff is capped at 1 s", async () => {
  const real = listen({ host: "127.0.0.1", port: 0 });
  const port = (real.addr as Deno.NetAddr).port;
  const listener = flakyListener(real, [9]);
  const waits: number[] = [];
  let closing = false;
  const loop = acceptLoop(listener, {
    closing: () => closing,
    serve: echo,
    onAcceptError: (_e, ms) => waits.push(ms),
  });
  expect(await echoOnce(port, "after nine errors")).toBe("after nine errors");
  expect(waits[0]).toBe(ACCEPT_BACKOFF_MIN_MS);
  expect(Math.max(...waits)).toBe(ACCEPT_BACKOFF_MAX_MS);
  expect(waits).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1000]);
  closing = true;
  listener.close();
  await loop;
});

Deno.test("acceptLoop: ends when the listener is closed, even without closing()", async () => {
  const listener = listen({ host: "127.0.0.1", port: 0 });
  const errors: unknown[] = [];
  const loop = acceptLoop(listener, {
    closing: () => false,
    serve: echo,
    onAcceptError: (e) => errors.push(e),
  });
  listener.close();
  await loop;
  expect(errors).toEqual([]);
});

Deno.test("acceptLoop: a connection arriving while closing is closed unserved", async () => {
  const listener = listen({ host: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  let served = 0;
  const loop = acceptLoop(listener, {
    closing: () => true,
    serve: (c) => {
      served++;
      return echo(c);
    },
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const n = await conn.read(new Uint8Array(8)).catch(() => null);
  conn.close();
  expect(n).toBe(null);
  expect(served).toBe(0);
  listener.close();
  await loop;
});

Deno.test("listen: a taken port is ADDRESS_IN_USE with the address and the flag to change", () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = taken.addr.port;
  try {
    const err = assertCode(() => listen({ host: "127.0.0.1", port }), "ADDRESS_IN_USE");
    expect(err.message).toBe(
      `127.0.0.1:${port} is already in use (is another FastChat running? choose another port with --port)`,
    );
    expect(err.details).toEqual({ host: "127.0.0.1", port, flag: "--port" });
    expect(isAddressInUse(err.cause)).toBe(true);
    const peer = assertCode(
      () => listen({ host: "127.0.0.1", port, flag: "--peer-port" }),
      "ADDRESS_IN_USE",
    );
    expect(peer.message).toContain("choose another port with --peer-port");
    assertCode(() => checkPortFree("127.0.0.1", port, "--db-port"), "ADDRESS_IN_USE");
  } finally {
    taken.close();
  }
  // Free again: the check binds and lets go, and port 0 is never checked.
  checkPortFree("127.0.0.1", port);
  listen({ host: "127.0.0.1", port }).close();
  checkPortFree("127.0.0.1", 0);
});

Deno.test("listen: other bind failures are thrown as they are", () => {
  let err: unknown;
  try {
    listen({ host: "203.0.113.77", port: 0 }); // not an address of this machine
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(Deno.errors.AddrNotAvailable);
  expect(isAddressInUse(err)).toBe(false);
  expect(isAddressInUse({ code: "EADDRINUSE" })).toBe(true);
});

/** FramedConnection over real loopback TCP: reassembly, buffer growth and shrink, batching, bounds. */
import { expect } from "expect";
import type { FastChatError } from "./errors.ts";
import { FramedConnection, ioStats } from "./framed_conn.ts";

/** A connected pair of FramedConnections; `received` collects what `b` gets. */
async function pair(opts: { readSize?: number; maxQueueBytes?: number } = {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const rawA = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const rawB = await accepted;
  listener.close();
  const received: Uint8Array[] = [];
  let waiter: { n: number; resolve: () => void } | null = null;
  const closed = Promise.withResolvers<FastChatError | undefined>();
  const a = new FramedConnection(rawA, { onFrame: () => {}, maxQueueBytes: opts.maxQueueBytes });
  const b = new FramedConnection(rawB, {
    readSize: opts.readSize,
    onFrame: (p) => {
      received.push(p);
      if (waiter && received.length >= waiter.n) waiter.resolve();
    },
    onClose: (err) => closed.resolve(err),
  });
  a.start();
  const bDone = b.start();
  const frames = (n: number) =>
    received.length >= n ? Promise.resolve() : new Promise<void>((resolve) => {
      waiter = { n, resolve };
    });
  return { a, b, received, frames, closed: closed.promise, bDone };
}

function payload(n: number, seed: number): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i * 31 + seed) & 0xff;
  return p;
}

Deno.test("FramedConnection: frames of every size arrive intact and in order", async () => {
  const { a, b, received, frames, bDone } = await pair({ readSize: 1024 });
  // Small, exactly-buffer-sized, larger than 64 KiB, then small again (the read
  // buffer grows for the big ones and drops back afterwards).
  const sizes = [1, 100, 1020, 1024, 5000, 70_000, 200_000, 3, 250, 0, 65_536, 7];
  sizes.forEach((n, i) => a.sendPayload(payload(n, i)));
  await frames(sizes.length);
  expect(received.map((p) => p.length)).toEqual(sizes);
  received.forEach((p, i) => expect(p).toEqual(payload(sizes[i], i)));
  a.close();
  await bDone;
  expect(b.closed).toBe(true);
});

Deno.test("FramedConnection: frames queued in one task go out in one write", async () => {
  const { a, b, frames, bDone } = await pair();
  const writes0 = ioStats.writes;
  const framesOut0 = ioStats.framesOut;
  for (let i = 0; i < 50; i++) a.sendPayload(payload(40, i));
  await frames(50);
  expect(ioStats.framesOut - framesOut0).toBe(50);
  expect(ioStats.writes - writes0).toBe(1);
  a.close();
  await bDone;
  expect(b.closed).toBe(true);
});

Deno.test("FramedConnection: flushQueued writes at once what would wait for the next iteration", async () => {
  const { a, b, received, frames, bDone } = await pair();
  a.flushQueued(); // nothing queued: nothing written
  await new Promise<void>((resolve) =>
    setImmediate(() => {
      const writes0 = ioStats.writes;
      a.sendPayload(payload(10, 1));
      a.sendPayload(payload(20, 2));
      expect(ioStats.writes).toBe(writes0); // scheduled, not written
      a.flushQueued();
      expect(ioStats.writes).toBe(writes0 + 1); // both frames, one write, now
      a.sendPayload(payload(30, 3)); // the write is in progress: this one follows it
      a.flushQueued();
      expect(ioStats.writes).toBe(writes0 + 1);
      resolve();
    })
  );
  await frames(3);
  expect(received).toEqual([payload(10, 1), payload(20, 2), payload(30, 3)]);
  a.close();
  await bDone;
  expect(b.closed).toBe(true);
});

Deno.test("FramedConnection: a queue over its bound closes with SLOW_CONSUMER", async () => {
  const { a, b, bDone } = await pair({ maxQueueBytes: 10_000 });
  expect(a.sendPayload(payload(6_000, 1))).toBe(true);
  // Still in the same task: nothing written yet, so this one overflows the bound.
  expect(a.sendPayload(payload(6_000, 2))).toBe(false);
  expect(a.closed).toBe(true);
  expect(a.closeReason?.code).toBe("SLOW_CONSUMER");
  expect(a.sendPayload(payload(1, 3))).toBe(false);
  b.close();
  await bDone;
});

Deno.test("FramedConnection: an oversized frame header closes the reader with FRAME_TOO_LARGE", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await accepted;
  listener.close();
  const closed = Promise.withResolvers<FastChatError | undefined>();
  const fc = new FramedConnection(server, {
    maxFrame: 1000,
    onFrame: () => {
      throw new Error("no frame expected");
    },
    onClose: (err) => closed.resolve(err),
  });
  const done = fc.start();
  await raw.write(new Uint8Array([0, 0, 0x10, 0])); // 4096 > 1000
  expect((await closed.promise)?.code).toBe("FRAME_TOO_LARGE");
  await done;
  raw.close();
});

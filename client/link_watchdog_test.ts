import { expect } from "expect";
import { DEAD_AFTER_INTERVALS, LinkWatchdog } from "./link_watchdog.ts";

Deno.test("LinkWatchdog: a link that stays quiet is pinged, then declared dead once", async () => {
  let pings = 0;
  const deaths: number[] = [];
  const { promise: dead, resolve } = Promise.withResolvers<void>();
  const dog = new LinkWatchdog({
    intervalMs: 10,
    ping: () => pings++,
    dead: (ms) => {
      deaths.push(ms);
      resolve();
    },
  });
  try {
    await dead;
    expect(deaths).toEqual([DEAD_AFTER_INTERVALS * 10]);
    expect(pings).toBe(DEAD_AFTER_INTERVALS - 1);
  } finally {
    dog.stop();
  }
});

Deno.test("LinkWatchdog: a link that answers its pings is never dead", async () => {
  let deaths = 0;
  let pings = 0;
  const { promise: enough, resolve } = Promise.withResolvers<void>();
  const dog = new LinkWatchdog({
    intervalMs: 5,
    ping: () => {
      dog.seen(); // the pong
      if (++pings === 4 * DEAD_AFTER_INTERVALS) resolve();
    },
    dead: () => deaths++,
  });
  try {
    await enough;
    expect(deaths).toBe(0);
  } finally {
    dog.stop();
  }
});

Deno.test("LinkWatchdog: traffic alone keeps it from pinging", async () => {
  let pings = 0;
  let ticks = 0;
  const { promise: enough, resolve } = Promise.withResolvers<void>();
  const dog = new LinkWatchdog({ intervalMs: 50, ping: () => pings++, dead: () => {} });
  const traffic = setInterval(() => {
    dog.seen();
    if (++ticks === 60) resolve(); // 300 ms or more: several of the watchdog's intervals
  }, 5);
  try {
    await enough;
    expect(pings).toBe(0);
  } finally {
    clearInterval(traffic);
    dog.stop();
  }
});

Deno.test("LinkWatchdog: a non-positive interval is refused", () => {
  expect(() => new LinkWatchdog({ intervalMs: 0, ping: () => {}, dead: () => {} })).toThrow(
    RangeError,
  );
});

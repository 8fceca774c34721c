import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import {
  type CandidateServer,
  parsePickAlgorithm,
  type PickAlgorithm,
  ServerPicker,
} from "./server_picker.ts";

function server(id: string, clients = 0, extra: Partial<CandidateServer> = {}): CandidateServer {
  return { id, host: "127.0.0.1", port: 7701, clients, draining: false, ...extra };
}

/** A fetch over a mutable list that counts its calls. */
function registry(list: CandidateServer[]) {
  const r = {
    list,
    calls: 0,
    fetch: () => {
      r.calls++;
      return Promise.resolve(r.list.map((s) => ({ ...s })));
    },
  };
  return r;
}

async function counts(picker: ServerPicker, n: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const { id } = await picker.pick();
    out[id] = (out[id] ?? 0) + 1;
  }
  return out;
}

Deno.test("round-robin gives exact thirds over 30 picks, in id order", async () => {
  const reg = registry([server("c"), server("a"), server("b")]);
  const picker = new ServerPicker({ algorithm: "round-robin", fetch: reg.fetch });
  const first = [];
  for (let i = 0; i < 6; i++) first.push((await picker.pick()).id);
  expect(first).toEqual(["a", "b", "c", "a", "b", "c"]);
  expect(await counts(picker, 30)).toEqual({ a: 10, b: 10, c: 10 });
});

Deno.test("round-robin keeps rotating by id across refreshes and membership changes", async () => {
  let now = 0;
  const reg = registry([server("a"), server("b"), server("c")]);
  const picker = new ServerPicker({ fetch: reg.fetch, clock: () => now });
  expect((await picker.pick()).id).toBe("a");
  expect((await picker.pick()).id).toBe("b");
  reg.list = [server("a"), server("c"), server("d")]; // b left, d joined
  now = 10_000; // too stale: refreshed before picking
  expect((await picker.pick()).id).toBe("c");
  expect((await picker.pick()).id).toBe("d");
  expect((await picker.pick()).id).toBe("a");
});

Deno.test("least-connections fills the empty server until loads are equal", async () => {
  const reg = registry([server("a", 0), server("b", 10), server("c", 10)]);
  const picker = new ServerPicker({ algorithm: "least-connections", fetch: reg.fetch });
  const picks: string[] = [];
  for (let i = 0; i < 20; i++) picks.push((await picker.pick()).id);
  expect(picks.slice(0, 10)).toEqual(Array(10).fill("a"));
  const got = picks.reduce<Record<string, number>>(
    (m, id) => ({ ...m, [id]: (m[id] ?? 0) + 1 }),
    {},
  );
  expect(got.a).toBeGreaterThanOrEqual(13); // mostly the empty one
  const loads = [got.a, 10 + (got.b ?? 0), 10 + (got.c ?? 0)];
  expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
  expect(reg.calls).toBe(1); // a burst reads the registry once
});

Deno.test("least-connections counts tickets issued since each server's heartbeat", async () => {
  let now = 1_000;
  const reg = registry([server("a", 0, { ageMs: 0 }), server("b", 0, { ageMs: 0 })]);
  const picker = new ServerPicker({
    algorithm: "least-connections",
    fetch: reg.fetch,
    clock: () => now,
  });
  expect(await counts(picker, 4)).toEqual({ a: 2, b: 2 });
  // New snapshot: a's heartbeat now reports its 2 clients; b has not beaten since.
  now += 300;
  reg.list = [server("a", 2, { ageMs: 0 }), server("b", 0, { ageMs: 800 })];
  await picker.refresh();
  // b's 2 tickets still count (issued after its heartbeat), so loads are 2/2.
  expect(await counts(picker, 2)).toEqual({ a: 1, b: 1 });
});

Deno.test("random uses every server over 300 picks", async () => {
  const reg = registry([server("a"), server("b"), server("c")]);
  const picker = new ServerPicker({ algorithm: "random", fetch: reg.fetch });
  const got = await counts(picker, 300);
  expect(Object.keys(got).sort()).toEqual(["a", "b", "c"]);
  for (const n of Object.values(got)) expect(n).toBeGreaterThan(50);
});

Deno.test("draining servers and duplicate rows are skipped", async () => {
  const reg = registry([server("a", 0, { draining: true }), server("b"), server("b")]);
  const picker = new ServerPicker({ fetch: reg.fetch });
  expect(await counts(picker, 4)).toEqual({ b: 4 });
  expect(picker.servers.map((s) => s.id)).toEqual(["b"]);
});

for (const algorithm of ["round-robin", "random", "least-connections"] as PickAlgorithm[]) {
  Deno.test(`${algorithm}: no server gives NO_SERVERS and re-reads every time`, async () => {
    const reg = registry([]);
    const picker = new ServerPicker({ algorithm, fetch: reg.fetch });
    const err = await picker.pick().catch((e) => e);
    expect(err).toBeInstanceOf(FastChatError);
    expect(err.code).toBe("NO_SERVERS");
    expect(err.message).toMatch(/no chat server/);
    await picker.pick().catch(() => {});
    expect(reg.calls).toBe(2); // an empty cache is refreshed immediately
    reg.list = [server("a")];
    expect((await picker.pick()).id).toBe("a");
  });
}

Deno.test("only draining servers: NO_SERVERS says so", async () => {
  const picker = new ServerPicker({
    fetch: () => Promise.resolve([server("a", 0, { draining: true })]),
  });
  await expect(picker.pick()).rejects.toMatchObject({
    code: "NO_SERVERS",
    message: expect.stringMatching(/draining/),
  });
});

Deno.test("the registry is read at most every refreshMs, in the background", async () => {
  let now = 0;
  const reg = registry([server("a")]);
  const picker = new ServerPicker({ fetch: reg.fetch, clock: () => now, refreshMs: 250 });
  await counts(picker, 5);
  expect(reg.calls).toBe(1);
  now = 249;
  await picker.pick();
  expect(reg.calls).toBe(1);
  now = 250;
  reg.list = [server("b")];
  expect((await picker.pick()).id).toBe("a"); // served from the cache while refreshing
  expect(reg.calls).toBe(2);
  await picker.refresh();
  expect((await picker.pick()).id).toBe("b");
});

Deno.test("store failures: stale snapshot kept briefly, then STORE_UNAVAILABLE", async () => {
  let now = 0;
  let fail = false;
  const errors: FastChatError[] = [];
  const picker = new ServerPicker({
    fetch: () =>
      fail ? Promise.reject(new Error("connection refused")) : Promise.resolve([server("a")]),
    clock: () => now,
    maxStaleMs: 2_000,
    onRefreshError: (e) => errors.push(e),
  });
  await picker.pick();
  fail = true;
  now = 500;
  expect((await picker.pick()).id).toBe("a");
  await picker.refresh().catch(() => {});
  expect(errors.map((e) => e.code)).toEqual(["STORE_UNAVAILABLE"]);
  now = 2_500;
  await expect(picker.pick()).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
});

Deno.test("concurrent picks share one registry read", async () => {
  const reg = registry([server("a"), server("b")]);
  const picker = new ServerPicker({ fetch: reg.fetch });
  const ids = await Promise.all(Array.from({ length: 10 }, () => picker.pick()));
  expect(reg.calls).toBe(1);
  expect(ids.filter((s) => s.id === "a").length).toBe(5);
});

Deno.test("parsePickAlgorithm accepts the three names only", () => {
  expect(parsePickAlgorithm("least-connections")).toBe("least-connections");
  expect(() => parsePickAlgorithm("fastest")).toThrow(/round-robin, random, least-connections/);
  expect(() => new ServerPicker({ fetch: () => Promise.resolve([]), algorithm: "x" as never }))
    .toThrow(FastChatError);
});

for (const algorithm of ["round-robin", "random", "least-connections"] as PickAlgorithm[]) {
  Deno.test(`${algorithm}: servers to avoid are skipped while another is live`, async () => {
    const reg = registry([server("a"), server("b", 5), server("c", 9)]);
    const picker = new ServerPicker({ algorithm, fetch: reg.fetch });
    for (let i = 0; i < 30; i++) {
      expect(["b", "c"]).toContain((await picker.pick(["a"])).id);
      expect((await picker.pick(["a", "b"])).id).toBe("c");
    }
    // Avoiding every live server still gives one rather than NO_SERVERS.
    expect(["a", "b", "c"]).toContain((await picker.pick(["a", "b", "c"])).id);
    // Unknown ids change nothing.
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) seen.add((await picker.pick(["zz"])).id);
    expect(seen.size).toBeGreaterThan(algorithm === "least-connections" ? 0 : 2);
  });
}

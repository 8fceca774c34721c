/** The CI-sized fuzz run: every network decoder, seeded, only typed errors. */
import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { DECODER_TARGETS } from "./fuzz_targets.ts";
import { mulberry32 } from "@fastchat/perf/seeded_rng";
import { fuzzDecoder, fuzzTable, makeInput } from "./fuzz.ts";

Deno.test("fuzz (20,000 inputs per decoder): no decoder crashes, each refuses with its typed error", () => {
  const reports = DECODER_TARGETS.map((t) => fuzzDecoder(t, { inputs: 20_000, seed: 20261204 }));
  for (const r of reports) {
    expect({ name: r.name, crashes: r.crashes.map((c) => c.error) }).toEqual({
      name: r.name,
      crashes: [],
    });
    expect(r.refused).toBeGreaterThan(1000);
    expect(r.accepted + r.refused).toBe(20_000);
  }
  expect(fuzzTable(reports)).toContain("| client frames | 20000 |");
  expect(reports.map((r) => r.name)).toEqual([
    "client frames",
    "server frames",
    "peer frames",
    "message bodies",
    "message contents",
    "group events",
    "key envelopes",
    "tickets",
    "frame splitter",
    "database wire reader",
  ]);
});

Deno.test("fuzz: every decoder accepts its own samples", () => {
  for (const t of DECODER_TARGETS) for (const s of t.samples) t.decode(s);
});

Deno.test("fuzz: a decoder that throws an untyped error is counted as a crash", () => {
  const target = {
    name: "broken",
    samples: [new Uint8Array([1, 2, 3])],
    decode(b: Uint8Array) {
      if (b.length > 2) throw new TypeError("boom");
      throw new FastChatError("BAD_FRAME", "short");
    },
    typed: (e: unknown) => e instanceof FastChatError,
  };
  const r = fuzzDecoder(target, { inputs: 2000, seed: 3 });
  expect(r.crashCount).toBeGreaterThan(0);
  expect(r.crashes[0].error).toContain("TypeError: boom");
  expect(r.crashCount + r.refused).toBe(2000);
});

Deno.test("fuzz: inputs are reproducible from the seed", () => {
  const t = DECODER_TARGETS[0];
  const a = mulberry32(9), b = mulberry32(9);
  for (let i = 0; i < 200; i++) expect(makeInput(t, a, [])).toEqual(makeInput(t, b, []));
});

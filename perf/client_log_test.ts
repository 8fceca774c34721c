/** CsvLog: rows written on the fast path and the quoted path read back exactly. */
import { expect } from "expect";
import { parse } from "csv-parse/sync";
import { CSV_HEADER, CsvLog } from "./client_log.ts";

Deno.test("CsvLog: header, plain rows and rows that need quoting round-trip through csv-parse", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = await CsvLog.create(`${dir}/a.csv`);
    log.add("AbC-_123", "sent", 1700000000000.1234, 100, "perf-x-1", "dm");
    log.add("", "error", 1700000000001.5, "", "perf-x-2", "RATE,LIMITED");
    log.add('id"q', "received", 2.25, 7, "line\nbreak", "dm");
    expect(log.pending).toBe(3);
    await log.flush();
    expect(log.pending).toBe(0);
    log.add("later", "acked", 3, 100, "perf-x-1", "dm");
    await log.flush();
    const rows = parse(await Deno.readTextFile(`${dir}/a.csv`)) as string[][];
    expect(rows).toEqual([
      [...CSV_HEADER],
      ["AbC-_123", "sent", "1700000000000.123", "100", "perf-x-1", "dm"],
      ["", "error", "1700000000001.500", "", "perf-x-2", "RATE,LIMITED"],
      ['id"q', "received", "2.250", "7", "line\nbreak", "dm"],
      ["later", "acked", "3.000", "100", "perf-x-1", "dm"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CsvLog: non-ASCII fields, odd times and more rows than the first buffer holds", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = await CsvLog.create(`${dir}/a.csv`);
    log.add("m-é", "received", 0.0005, 0, "perf-ü", "dm");
    log.add("m-neg", "error", -1.5, "", "p", "X");
    log.add("m-frac", "sent", 1.9995, 12, "p", "dm");
    const n = 2000;
    for (let i = 0; i < n; i++) {
      log.add(`id-${i}`, "acked", 1700000000000 + i / 8, i, "perf-y", "dm");
    }
    expect(log.pending).toBe(n + 3);
    await log.flush();
    const rows = parse(await Deno.readTextFile(`${dir}/a.csv`)) as string[][];
    expect(rows.length).toBe(n + 4);
    expect(rows[1]).toEqual(["m-é", "received", (0.0005).toFixed(3), "0", "perf-ü", "dm"]);
    expect(rows[2]).toEqual(["m-neg", "error", "-1.500", "", "p", "X"]);
    expect(rows[3]).toEqual(["m-frac", "sent", "2.000", "12", "p", "dm"]);
    for (let i = 0; i < n; i++) {
      expect(rows[i + 4]).toEqual([
        `id-${i}`,
        "acked",
        (1700000000000 + i / 8).toFixed(3),
        String(i),
        "perf-y",
        "dm",
      ]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CsvLog: integers and times at every width, across the 10⁸ split, as String and toFixed write them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = await CsvLog.create(`${dir}/a.csv`);
    const counts = [
      0,
      9,
      10,
      99,
      1e7 - 1,
      1e8 - 1,
      1e8,
      1e8 + 1,
      1e8 + 10,
      123456789012,
      2 ** 53 - 1,
    ];
    const times = [0, 9.999, 99999.999, 99999999.9994, 100000000, 100000000.001, 1765000000123.456];
    for (const c of counts) log.add("c", "sent", 1, c, "p", "dm");
    for (const t of times) log.add("t", "sent", t, 1, "p", "dm");
    await log.flush();
    const rows = parse(await Deno.readTextFile(`${dir}/a.csv`)) as string[][];
    expect(rows.slice(1, 1 + counts.length).map((r) => r[3])).toEqual(counts.map(String));
    expect(rows.slice(1 + counts.length).map((r) => r[2])).toEqual(times.map((t) => t.toFixed(3)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

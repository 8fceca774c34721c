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

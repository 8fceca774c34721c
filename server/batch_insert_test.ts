import { expect } from "expect";
import { batchLength, isTransientStoreError, writeIsolatingFailures } from "./batch_insert.ts";

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

Deno.test("batchLength: capped by rows, by bytes, by the acceptance predicate", () => {
  const sizes = [10, 10, 10, 10, 10];
  expect(batchLength(sizes, (n) => n, { maxRows: 3, maxBytes: 1000 })).toBe(3);
  expect(batchLength(sizes, (n) => n, { maxRows: 100, maxBytes: 25 })).toBe(2);
  expect(batchLength(sizes, (n) => n, { maxRows: 100, maxBytes: 1000 }, (n) => n < 10)).toBe(0);
  // one row larger than the byte cap still goes, alone
  expect(batchLength([5000, 1], (n) => n, { maxRows: 100, maxBytes: 100 })).toBe(1);
  expect(batchLength([], (n: number) => n, { maxRows: 100, maxBytes: 100 })).toBe(0);
});

Deno.test("isTransientStoreError: outages are transient, data errors are not", () => {
  for (
    const code of ["CONNECTION_CLOSED", "ECONNREFUSED", "08006", "57P01", "53100", "40001", "42846"]
  ) {
    expect({ code, transient: isTransientStoreError(pgError(code)) }).toEqual({
      code,
      transient: true,
    });
  }
  for (const code of ["22P02", "23514", "54000", "P0001"]) {
    expect({ code, transient: isTransientStoreError(pgError(code)) }).toEqual({
      code,
      transient: false,
    });
  }
  expect(isTransientStoreError(new RangeError("Invalid typed array length"))).toBe(false);
  expect(isTransientStoreError(new Error("socket hang up"))).toBe(true);
});

Deno.test("writeIsolatingFailures: bisects to the poison rows, writes the rest once", async () => {
  const written: number[] = [];
  const statements: number[][] = [];
  const setAside: number[] = [];
  const rows = Array.from({ length: 37 }, (_, i) => i);
  await writeIsolatingFailures(rows, (xs) => {
    statements.push(xs);
    if (xs.includes(5) || xs.includes(30)) return Promise.reject(pgError("23514"));
    written.push(...xs);
    return Promise.resolve();
  }, (x, e) => {
    expect((e as { code: string }).code).toBe("23514");
    setAside.push(x);
  });
  expect(setAside).toEqual([5, 30]);
  expect(written.sort((a, b) => a - b)).toEqual(rows.filter((r) => r !== 5 && r !== 30));
  // bisection: logarithmic in the batch per poison row, not one statement per row
  expect(statements.length).toBeLessThan(30);
});

Deno.test("writeIsolatingFailures: an outage is thrown, never blamed on rows", async () => {
  const setAside: number[] = [];
  await expect(
    writeIsolatingFailures(
      [1, 2, 3],
      () => Promise.reject(pgError("CONNECTION_CLOSED")),
      (x) => setAside.push(x),
    ),
  ).rejects.toMatchObject({ code: "CONNECTION_CLOSED" });
  expect(setAside).toEqual([]);
});

Deno.test("writeIsolatingFailures: returns what the writes returned", async () => {
  const out = await writeIsolatingFailures(
    ["a", "b", "c"],
    (xs) => xs.includes("b") ? Promise.reject(pgError("22P02")) : Promise.resolve(xs),
    () => {},
  );
  expect(out).toEqual(["a", "c"]);
});

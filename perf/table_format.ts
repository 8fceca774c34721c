/**
 * Number formatting and aligned text tables for the perf results: counts,
 * milliseconds, rates, MB/s and byte sizes, each `—` ({@link MISSING}) when
 * unknown or not finite.
 *
 * @example
 * ```ts
 * import { alignTable, fmtMs, fmtRate } from "@fastchat/perf/table_format";
 * console.log(alignTable([["p50 (ms)", fmtMs(1.23456)], ["msg/s", fmtRate(1234.5)]]));
 * ```
 * @module
 */

/**
 * Shown for any missing or non-finite value.
 *
 * @example
 * ```ts
 * import { fmtMs, MISSING } from "./table_format.ts";
 * fmtMs(NaN) === MISSING; // true
 * ```
 */
export const MISSING = "—";

const finite = (x: number | undefined): x is number => typeof x === "number" && Number.isFinite(x);

/**
 * A count: integer digits, `—` when unknown.
 *
 * @example
 * ```ts
 * import { fmtCount } from "@fastchat/perf/table_format";
 * fmtCount(1234); // "1234"
 * ```
 */
export function fmtCount(n: number | undefined): string {
  return finite(n) ? String(Math.round(n)) : MISSING;
}

/**
 * Milliseconds with 3 significant-ish digits (`0.123`, `12.35`, `1234`).
 *
 * @example
 * ```ts
 * import { fmtMs } from "@fastchat/perf/table_format";
 * fmtMs(1.23456); // "1.235"
 * ```
 */
export function fmtMs(x: number | undefined): string {
  if (!finite(x)) return MISSING;
  const a = Math.abs(x);
  return x.toFixed(a < 10 ? 3 : a < 100 ? 2 : a < 1_000 ? 1 : 0);
}

/**
 * A rate per second (`0.25`, `12.5`, `12345`).
 *
 * @example
 * ```ts
 * import { fmtRate } from "@fastchat/perf/table_format";
 * fmtRate(1234.56); // "1235"
 * ```
 */
export function fmtRate(x: number | undefined): string {
  if (!finite(x)) return MISSING;
  const a = Math.abs(x);
  return x.toFixed(a < 10 ? 2 : a < 1_000 ? 1 : 0);
}

/**
 * Megabytes per second (`0.0123`, `1.234`, `123.4`).
 *
 * @example
 * ```ts
 * import { fmtMB } from "@fastchat/perf/table_format";
 * fmtMB(0.01234); // "0.0123"
 * ```
 */
export function fmtMB(x: number | undefined): string {
  if (!finite(x)) return MISSING;
  const a = Math.abs(x);
  return x.toFixed(a < 1 ? 4 : a < 100 ? 3 : 1);
}

/**
 * A byte size in binary units (`512 B`, `1.5 KiB`, `23.5 GiB`).
 *
 * @example
 * ```ts
 * import { fmtBytes } from "@fastchat/perf/table_format";
 * fmtBytes(1536); // "1.5 KiB"
 * ```
 */
export function fmtBytes(b: number | undefined): string {
  if (!finite(b)) return MISSING;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0, v = b;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/**
 * Aligns a table of string cells: first column left, the others right.
 *
 * @example
 * ```ts
 * import { alignTable } from "@fastchat/perf/table_format";
 * alignTable([["a", "1"], ["bbb", "22"]]); // "a     1\nbbb  22"
 * ```
 */
export function alignTable(rows: string[][], indent = ""): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => widths[i] = Math.max(widths[i] ?? 0, [...c].length));
  return rows.map((r) =>
    indent +
    r.map((c, i) => {
      const pad = " ".repeat(widths[i] - [...c].length);
      return i === 0 ? c + pad : pad + c;
    }).join("  ").trimEnd()
  ).join("\n");
}

/**
 * Batched store writes that never stop the queue behind them.
 *
 * A write-behind batch is cut by rows and by bytes ({@link batchLength}), so
 * large messages cannot build one statement the database refuses on every
 * retry. When a batch still fails with an error about its data
 * ({@link isTransientStoreError} says no), {@link writeIsolatingFailures}
 * splits it in halves until the failing rows stand alone; each of those is
 * set aside (the caller logs it and tells its sender) and everything else is
 * written. An outage (connection lost, database shutting down, out of
 * resources) is never blamed on rows: it is thrown for the caller to retry.
 *
 * @example
 * ```ts
 * import { writeIsolatingFailures } from "@fastchat/server/batch_insert";
 * const written: number[] = [];
 * await writeIsolatingFailures([1, 2, 3], async (rows) => {
 *   if (rows.includes(2)) throw Object.assign(new Error("bad row"), { code: "22P02" });
 *   written.push(...rows);
 * }, (row) => console.log("set aside", row));
 * console.log(written); // [1, 3]
 * ```
 * @module
 */

/** Limits of one store statement. */
export interface BatchLimits {
  /** Most rows per statement. */
  maxRows: number;
  /** Most payload bytes per statement (one larger row still goes alone). */
  maxBytes: number;
}

/**
 * How many items from the head of `items` fit one statement: at most
 * `maxRows`, and no more than `maxBytes` by `sizeOf` unless the first item
 * alone is larger (it then goes alone). `accept` may stop the batch early.
 *
 * @example
 * ```ts
 * import { batchLength } from "@fastchat/server/batch_insert";
 * batchLength([5, 5, 5, 5], (n) => n, { maxRows: 10, maxBytes: 12 }); // 2
 * batchLength([50, 5], (n) => n, { maxRows: 10, maxBytes: 12 }); // 1
 * ```
 */
export function batchLength<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  limits: BatchLimits,
  accept: (item: T) => boolean = () => true,
): number {
  let n = 0;
  let bytes = 0;
  while (n < items.length && n < limits.maxRows) {
    const item = items[n];
    if (!accept(item)) break;
    const size = sizeOf(item);
    if (n > 0 && bytes + size > limits.maxBytes) break;
    bytes += size;
    n++;
  }
  return n;
}

/**
 * SQLSTATE classes that describe the rows' data, not the database's health
 * or our statement: data exceptions, integrity violations, program limits
 * exceeded, errors raised by functions and triggers. Class 42 (syntax or
 * access rule) is the statement's fault, never a row's: postgres.js sends an
 * array of bytea as plain bytea (42846) when a fresh client's first query
 * runs before its array types are loaded; retrying is right, dropping rows
 * would lose messages.
 */
const DATA_CLASSES = new Set(["22", "23", "54", "2F", "P0"]);

/**
 * Whether a store error may pass by itself (retry the same rows later) rather
 * than being caused by the rows written: connection errors of postgres.js
 * (`CONNECTION_CLOSED`, `ECONNREFUSED`, …), and SQLSTATEs outside the data
 * classes (08 connection, 40 rollback, 53 resources, 57 shutdown, …).
 * Deterministic JavaScript errors while building the statement (a
 * `RangeError` or `TypeError`) are caused by the rows.
 *
 * @example
 * ```ts
 * import { isTransientStoreError } from "@fastchat/server/batch_insert";
 * isTransientStoreError(Object.assign(new Error(), { code: "CONNECTION_CLOSED" })); // true
 * isTransientStoreError(Object.assign(new Error(), { code: "23514" })); // false
 * ```
 */
export function isTransientStoreError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
    return !DATA_CLASSES.has(code.slice(0, 2));
  }
  if (e instanceof RangeError || e instanceof TypeError) return false;
  return true;
}

/**
 * Writes `items` with `write`; if that fails for a reason in the data, writes
 * each half separately, down to single items: a single item that still fails
 * is handed to `setAside` and the rest goes on. Transient errors are thrown
 * at once (items written before that are written; `write` must be idempotent
 * so the caller can retry the whole batch). Returns what the successful
 * writes returned, concatenated.
 *
 * @example
 * ```ts
 * import { writeIsolatingFailures } from "@fastchat/server/batch_insert";
 * const ids = await writeIsolatingFailures(["a", "b"], async (xs) => xs.map((x) => x + "!"), () => {});
 * console.log(ids); // ["a!", "b!"]
 * ```
 */
export async function writeIsolatingFailures<T, R = never>(
  items: readonly T[],
  write: (items: T[]) => Promise<R[] | void>,
  setAside: (item: T, error: unknown) => void,
): Promise<R[]> {
  if (items.length === 0) return [];
  try {
    return (await write(items.slice())) ?? [];
  } catch (e) {
    if (isTransientStoreError(e)) throw e;
    if (items.length === 1) {
      setAside(items[0], e);
      return [];
    }
    const mid = items.length >> 1;
    const first = await writeIsolatingFailures(items.slice(0, mid), write, setAside);
    const second = await writeIsolatingFailures(items.slice(mid), write, setAside);
    return first.concat(second);
  }
}

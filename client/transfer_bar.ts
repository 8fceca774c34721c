/**
 * A one-line progress bar for file transfers in the interactive client:
 * `▕██████▌     ▏ 52%  52.0/100.0 MiB  31.4 MiB/s  photo.png`. Only
 * transfers of at least {@link PROGRESS_MIN_BYTES} get one; the rate is
 * measured over the whole transfer so far. Pure formatting: the terminal app
 * decides where the line goes.
 *
 * @example
 * ```ts
 * import { transferBar } from "@fastchat/client/transfer_bar";
 * transferBar({ name: "a.bin", done: 512, total: 1024, elapsedMs: 1000, width: 10 });
 * // "▕█████     ▏ 50%  0.5/1.0 KiB  512 B/s  a.bin"
 * ```
 * @module
 */

/** Transfers smaller than this (1 MiB) show no bar. */
export const PROGRESS_MIN_BYTES = 1024 * 1024;

const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/**
 * What a bar shows.
 *
 * @example
 * ```ts
 * const s: TransferState = { name: "x", done: 1, total: 2, elapsedMs: 10 };
 * ```
 */
export interface TransferState {
  /** File name (already safe to print). */
  name: string;
  /** Bytes done. */
  done: number;
  /** Bytes in all. */
  total: number;
  /** Time since the transfer started. */
  elapsedMs: number;
  /** Bar cells (default 20). */
  width?: number;
}

/**
 * Human size with binary units, one decimal.
 *
 * @example
 * ```ts
 * formatBytes(1536); // "1.5 KiB"
 * ```
 */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${units[u]}`;
}

function unitOf(n: number): [number, string] {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  let div = 1;
  while (n / div >= 1024 && u < units.length - 1) {
    div *= 1024;
    u++;
  }
  return [div, units[u]];
}

/**
 * The bar for `s` (without a trailing newline).
 *
 * @example
 * ```ts
 * transferBar({ name: "a", done: 0, total: 0, elapsedMs: 0, width: 4 }); // "▕████▏100%  0.0/0.0 B  …  a"
 * ```
 */
export function transferBar(s: TransferState): string {
  const width = Math.max(4, s.width ?? 20);
  const frac = s.total > 0 ? Math.min(1, Math.max(0, s.done / s.total)) : 1;
  const cells = frac * width;
  const full = Math.floor(cells);
  const part = EIGHTHS[Math.floor((cells - full) * 8)] ?? "";
  const bar = ("█".repeat(full) + (full < width ? part : "")).padEnd(width, " ");
  const pct = `${Math.floor(frac * 100)}%`.padStart(4, " ");
  const [div, unit] = unitOf(s.total);
  const amount = `${(s.done / div).toFixed(1)}/${(s.total / div).toFixed(1)} ${unit}`;
  const rate = s.elapsedMs > 0
    ? `${formatBytes(Math.round(s.done / (s.elapsedMs / 1000)))}/s`
    : "…";
  return `▕${bar}▏${pct}  ${amount}  ${rate}  ${s.name}`;
}

/**
 * A clock read once per synchronous run of JavaScript (a "turn"): the
 * first {@link turnNow} of a turn reads `performance.now()`, and every
 * later call in the same turn returns that reading, until a microtask
 * checkpoint clears it.
 *
 * For the servers' per-frame bookkeeping (a sender's token bucket, when a
 * message was queued for writing): the frames of one socket read are
 * handled in one turn, and at saturation a read carries ~9 of them, so one
 * clock read per read replaces two per message (`performance.now()` is an
 * op call in Deno: ~0.08 µs in a loop, ~0.2 µs inside a busy server's
 * profile, where it was 2.1 % of the CPU). What a
 * turn reads is at most one turn old, and turns that handle frames are
 * short.
 *
 * @example
 * ```ts
 * import { turnNow } from "@fastchat/lib/turn_clock";
 * const a = turnNow();
 * const b = turnNow(); // same turn: the same reading
 * console.log(a === b); // true
 * await Promise.resolve(); // a microtask checkpoint ends the turn
 * console.log(turnNow() >= a); // true: a new reading
 * ```
 * @module
 */

/** The turn's reading, or -1 when the next call must read the clock. */
let reading = -1;
const forget = (): void => {
  reading = -1;
};

/**
 * `performance.now()` as first read in the current turn (see the module doc).
 *
 * @example
 * ```ts
 * import { turnNow } from "@fastchat/lib/turn_clock";
 * const queuedAt = turnNow();
 * console.log(typeof queuedAt); // "number"
 * ```
 */
export function turnNow(): number {
  if (reading < 0) {
    reading = performance.now();
    queueMicrotask(forget);
  }
  return reading;
}

/**
 * Ids of direct texts sealed together. A client that sends several texts to
 * one contact in the same tick seals them into one frame (one AEAD
 * operation, one frame, one receipt): the frame's id is `E-n`, where `E` is
 * a fresh random 22-character id and `n` (2..64) the number of texts, and
 * the texts' own ids are `E`, `E_1` … `E_(n-1)`. A lone text keeps its
 * random 22-character id. The id is bound to the ciphertext, so a receiver
 * checks that a batch's id announces exactly as many texts as it holds.
 *
 * @example
 * ```ts
 * import { batchMembers, batchWireId } from "@fastchat/client/message_batch";
 * const wire = batchWireId("AAAAAAAAAAAAAAAAAAAAAA", 3); // "AAAAAAAAAAAAAAAAAAAAAA-3"
 * batchMembers(wire); // ["AAAA…", "AAAA…_1", "AAAA…_2"]
 * ```
 * @module
 */

/** Most texts sealed into one frame. */
export const MAX_BATCH_MESSAGES = 64;

/** Longer texts (UTF-16 units) are always sealed alone. */
export const MAX_BATCHED_TEXT = 4096;

/** A batch closes once its texts total this many UTF-16 units. */
export const MAX_BATCH_CHARS = 32_768;

/** Length of the random id that starts a batch (16 bytes, base64url). */
const FIRST_ID_LENGTH = 22;

/**
 * The frame id of a batch of `n` (2..{@link MAX_BATCH_MESSAGES}) texts whose
 * first text is `first`.
 *
 * @example
 * ```ts
 * import { batchWireId } from "@fastchat/client/message_batch";
 * batchWireId("AAAAAAAAAAAAAAAAAAAAAA", 2); // "AAAAAAAAAAAAAAAAAAAAAA-2"
 * ```
 */
export function batchWireId(first: string, n: number): string {
  if (first.length !== FIRST_ID_LENGTH || !(n >= 2 && n <= MAX_BATCH_MESSAGES)) {
    throw new RangeError(`no batch of ${n} texts starts with ${first}`);
  }
  return `${first}-${n}`;
}

/**
 * The id of the `i`-th text (from 0) of the batch started by `first`.
 *
 * @example
 * ```ts
 * import { memberId } from "@fastchat/client/message_batch";
 * memberId("AAAAAAAAAAAAAAAAAAAAAA", 0); // "AAAAAAAAAAAAAAAAAAAAAA"
 * memberId("AAAAAAAAAAAAAAAAAAAAAA", 5); // "AAAAAAAAAAAAAAAAAAAAAA_5"
 * ```
 */
export function memberId(first: string, i: number): string {
  return i === 0 ? first : `${first}_${i}`;
}

/**
 * How many texts a frame with id `wireId` carries: `n` for a batch id
 * `E-n` (E 22 characters, n 2..64 without leading zeros), else 1.
 *
 * @example
 * ```ts
 * import { batchSize } from "@fastchat/client/message_batch";
 * batchSize("AAAAAAAAAAAAAAAAAAAAAA-7"); // 7
 * batchSize("AAAAAAAAAAAAAAAAAAAAAA"); // 1
 * ```
 */
export function batchSize(wireId: string): number {
  const len = wireId.length;
  if (len !== FIRST_ID_LENGTH + 2 && len !== FIRST_ID_LENGTH + 3) return 1;
  if (wireId.charCodeAt(FIRST_ID_LENGTH) !== 0x2d) return 1; // "-"
  const d1 = wireId.charCodeAt(FIRST_ID_LENGTH + 1) - 0x30;
  if (d1 < 1 || d1 > 9) return 1;
  let n = d1;
  if (len === FIRST_ID_LENGTH + 3) {
    const d2 = wireId.charCodeAt(FIRST_ID_LENGTH + 2) - 0x30;
    if (d2 < 0 || d2 > 9) return 1;
    n = d1 * 10 + d2;
  }
  return n >= 2 && n <= MAX_BATCH_MESSAGES ? n : 1;
}

/**
 * The id of the first text of the frame `wireId` (the id itself for a lone
 * text): what a receiver remembers to recognise a redelivered frame.
 *
 * @example
 * ```ts
 * import { firstMember } from "@fastchat/client/message_batch";
 * firstMember("AAAAAAAAAAAAAAAAAAAAAA-2"); // "AAAAAAAAAAAAAAAAAAAAAA"
 * ```
 */
export function firstMember(wireId: string): string {
  return batchSize(wireId) > 1 ? wireId.slice(0, FIRST_ID_LENGTH) : wireId;
}

/**
 * The ids of the texts the frame `wireId` carries, in order (`[wireId]`
 * for a lone message).
 *
 * @example
 * ```ts
 * import { batchMembers } from "@fastchat/client/message_batch";
 * batchMembers("AAAAAAAAAAAAAAAAAAAAAA-2"); // ["AAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAA_1"]
 * ```
 */
export function batchMembers(wireId: string): string[] {
  const n = batchSize(wireId);
  if (n === 1) return [wireId];
  const first = wireId.slice(0, FIRST_ID_LENGTH);
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = memberId(first, i);
  return out;
}

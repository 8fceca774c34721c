/**
 * The FastChat release: the version every workspace package carries in its
 * `deno.json`, for run records, logs and `--version` output.
 *
 * @example
 * ```ts
 * import { FASTCHAT_VERSION } from "@fastchat/lib/version";
 * console.log(`FastChat ${FASTCHAT_VERSION}`);
 * ```
 * @module
 */

/**
 * The FastChat version (all packages are released together under it).
 *
 * @example
 * ```ts
 * import { FASTCHAT_VERSION } from "@fastchat/lib/version";
 * const record = { fastchat: FASTCHAT_VERSION };
 * ```
 */
export const FASTCHAT_VERSION = "0.1.0";

/**
 * FastChat's performance tooling. For now: latency statistics; the load
 * generator and the analysis (`deno task perf`, `deno task analyze`) build
 * on them.
 *
 * @example
 * ```ts
 * import { summarize } from "@fastchat/perf";
 * console.log(summarize([0.4, 0.5, 0.7]).p50);
 * ```
 * @module
 */
export * from "./percentiles.ts";

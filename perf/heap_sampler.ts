/**
 * Samples this process's JavaScript heap allocations with V8's sampling heap
 * profiler (through `node:inspector`, in-process: Deno has no `--heap-prof`
 * flag). Every allocation is counted, including objects a scavenge or a
 * mark-compact collected since: what a load worker allocates per message,
 * which is what sets how often its young generation fills and how long its
 * GC pauses are. The result is a `.heapprofile` (open it in Chrome DevTools,
 * Memory tab, or sum it with `perf/heap_profile.ts`). Typed arrays count
 * their object (~100–200 bytes), not their backing store, which V8 keeps
 * outside the heap.
 *
 * @example
 * ```ts
 * import { HeapSampler } from "./heap_sampler.ts";
 * const sampler = await HeapSampler.start();
 * const rows = Array.from({ length: 10_000 }, (_, i) => ({ i }));
 * const profile = await sampler.stop();
 * console.log(rows.length, profile.samples.length > 0);
 * ```
 * @module
 */
import { Session } from "node:inspector";

/** A node of a sampling heap profile's call tree. */
export interface HeapProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  /** Bytes sampled with this exact stack. */
  selfSize: number;
  children: HeapProfileNode[];
}

/** V8's `SamplingHeapProfile`, as DevTools reads it from a `.heapprofile` file. */
export interface SamplingHeapProfile {
  head: HeapProfileNode;
  /** One per sampled allocation: its size and the node of its stack. */
  samples: { size: number; nodeId: number; ordinal: number }[];
}

/** Default mean bytes between samples (V8's own default is 32 KiB). */
export const DEFAULT_SAMPLING_INTERVAL = 4096;

/**
 * A running sampling of heap allocations.
 *
 * @example
 * ```ts
 * import { HeapSampler } from "./heap_sampler.ts";
 * const sampler = await HeapSampler.start(1024);
 * await sampler.stopTo("/tmp/worker-0.heapprofile");
 * ```
 */
export class HeapSampler {
  readonly #session: Session;
  #stopped = false;

  private constructor(session: Session) {
    this.#session = session;
  }

  /**
   * Starts sampling, one sample per `intervalBytes` allocated on average.
   * `survivorsOnly`: leave out what a scavenge collected, so the profile
   * holds what outlived the young generation (what scavenges copy and
   * promote, and the old generation fills with) and what is young and live
   * when sampling stops.
   */
  static async start(
    intervalBytes = DEFAULT_SAMPLING_INTERVAL,
    survivorsOnly = false,
  ): Promise<HeapSampler> {
    const session = new Session();
    session.connect();
    const sampler = new HeapSampler(session);
    await sampler.#post("HeapProfiler.enable");
    await sampler.#post("HeapProfiler.startSampling", {
      samplingInterval: intervalBytes,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: !survivorsOnly,
    });
    return sampler;
  }

  /** Stops sampling and returns what was sampled (once; later calls reject). */
  async stop(): Promise<SamplingHeapProfile> {
    if (this.#stopped) throw new Error("heap sampling already stopped");
    this.#stopped = true;
    try {
      const r = await this.#post("HeapProfiler.stopSampling") as { profile: SamplingHeapProfile };
      return r.profile;
    } finally {
      this.#session.disconnect();
    }
  }

  /** Stops sampling and writes the profile to `path` (a `.heapprofile`). */
  async stopTo(path: string): Promise<void> {
    const profile = await this.stop();
    await Deno.writeTextFile(path, JSON.stringify(profile));
  }

  #post(method: string, params: object = {}): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // The typings list each method; this class only uses the three above.
      (this.#session.post as (
        m: string,
        p: object,
        cb: (e: Error | null, r: unknown) => void,
      ) => void)(
        method,
        params,
        (err, result) => err ? reject(err) : resolve(result),
      );
    });
  }
}

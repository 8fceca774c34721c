/**
 * `--mode file`: every "message" is a file of `--file-bytes` sent with
 * `ChatClient.sendFile` to a random peer, whose client downloads it and
 * verifies it (the `file` event). This module holds the pieces: the size
 * flag ({@link parseFileSize}), the seeded test files ({@link writeTestFile},
 * named after their SHA-256 so the receiver can check what it got,
 * {@link checkReceivedFile}) and the cluster's memory while files move
 * ({@link ClusterRssPeak}, recorded as `file` in `run.json`).
 *
 * @example
 * ```ts
 * import { checkReceivedFile, parseFileSize, writeTestFile } from "./file_mode.ts";
 * const bytes = parseFileSize("1MiB");
 * const f = await writeTestFile("/tmp", "seed-0-0", bytes);
 * checkReceivedFile({ name: f.name, bytes, sha256: f.sha256 }, bytes); // null: as sent
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
import { invalidFlag } from "./flag_values.ts";
import { readVmRssKb } from "./idle_mode.ts";
import { hash32, mulberry32 } from "./seeded_rng.ts";

/** Largest `--file-bytes` (the servers' default `--max-file-bytes`). */
export const MAX_TEST_FILE_BYTES = 100 * 1024 * 1024;

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1000_000,
  mib: 1024 * 1024,
};

/**
 * Parses `--file-bytes`: `1MiB`, `100MiB`, `512KiB`, `1000` (bytes); at
 * most {@link MAX_TEST_FILE_BYTES}.
 *
 * @example
 * ```ts
 * import { parseFileSize } from "./file_mode.ts";
 * parseFileSize("100MiB"); // 104857600
 * ```
 */
export function parseFileSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib)?$/i.exec(v.trim());
  const bytes = m ? Number(m[1]) * UNITS[(m[2] ?? "b").toLowerCase()] : NaN;
  if (!Number.isInteger(bytes) || bytes < 1) {
    throw invalidFlag(
      `--file-bytes must be a whole size like 1MiB, 100MiB or 4096; got ${JSON.stringify(v)}`,
    );
  }
  if (bytes > MAX_TEST_FILE_BYTES) {
    throw invalidFlag(`--file-bytes may be at most 100MiB (the servers' file limit); got ${v}`);
  }
  return bytes;
}

/** Bytes generated and written per step. */
const WRITE_STEP = 1 << 20;

/**
 * Writes `bytes` seeded pseudo-random bytes (the same for the same `key`)
 * to `<dir>/<key>-<sha256>.bin`; resolves with its path, name and SHA-256.
 *
 * @example
 * ```ts
 * import { writeTestFile } from "./file_mode.ts";
 * const f = await writeTestFile("/tmp", "demo", 4096);
 * f.name; // "demo-<64 hex digits>.bin"
 * ```
 */
export async function writeTestFile(
  dir: string,
  key: string,
  bytes: number,
): Promise<{ path: string; name: string; sha256: string }> {
  const rng = mulberry32(hash32(key));
  const tmp = `${dir}/${key}.tmp`;
  const hash = createHash("sha256");
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    const block = new Uint8Array(WRITE_STEP);
    const words = new Uint32Array(block.buffer);
    for (let done = 0; done < bytes; done += WRITE_STEP) {
      for (let i = 0; i < words.length; i++) words[i] = rng() * 0x1_0000_0000;
      const part = block.subarray(0, Math.min(WRITE_STEP, bytes - done));
      hash.update(part);
      for (let off = 0; off < part.length;) off += await file.write(part.subarray(off));
    }
  } finally {
    file.close();
  }
  const sha256 = hash.digest("hex");
  const name = `${key}-${sha256}.bin`;
  await Deno.rename(tmp, `${dir}/${name}`);
  return { path: `${dir}/${name}`, name, sha256 };
}

/**
 * What is wrong with a received test file, or null if it is what was sent:
 * `bytes` long, with the SHA-256 its name carries (a download saved as
 * `name (1).bin` still carries it).
 *
 * @example
 * ```ts
 * import { checkReceivedFile } from "./file_mode.ts";
 * checkReceivedFile({ name: "x.bin", bytes: 3, sha256: "ab" }, 3); // "no SHA-256 in the name x.bin"
 * ```
 */
export function checkReceivedFile(
  e: { name: string; bytes: number; sha256: string },
  bytes: number,
): string | null {
  const expected = /-([0-9a-f]{64})(?: \(\d+\))?\.bin$/.exec(e.name)?.[1];
  if (!expected) return `no SHA-256 in the name ${e.name}`;
  if (e.bytes !== bytes) return `${e.name}: ${e.bytes} bytes, expected ${bytes}`;
  if (e.sha256 !== expected) return `${e.name}: SHA-256 ${e.sha256} does not match`;
  return null;
}

/**
 * `run.json`'s `file` part: the file size and the cluster processes' memory
 * (VmRSS, KiB) when messaging began and at its highest during it.
 *
 * @example
 * ```ts
 * import type { FileModeRecord } from "./file_mode.ts";
 * const r: FileModeRecord = {
 *   fileBytes: 1048576, rssKbBefore: { "srv-1": 90_000 }, rssKbPeak: { "srv-1": 140_000 },
 * };
 * ```
 */
export interface FileModeRecord {
  fileBytes: number;
  /** VmRSS per process (db, lb, srv-n) at "go". */
  rssKbBefore: Record<string, number>;
  /** Highest VmRSS per process seen during messaging (read every 250 ms). */
  rssKbPeak: Record<string, number>;
}

/**
 * Reads the VmRSS of every cluster process every 250 ms and keeps each one's
 * first and highest reading.
 *
 * @example
 * ```ts
 * import { ClusterRssPeak } from "./file_mode.ts";
 * import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
 * declare const cluster: ClusterLauncher;
 * const rss = await ClusterRssPeak.start(cluster);
 * // ... messaging ...
 * const { rssKbBefore, rssKbPeak } = await rss.stop();
 * ```
 */
export class ClusterRssPeak {
  readonly before: Record<string, number> = {};
  readonly peak: Record<string, number> = {};
  #timer: ReturnType<typeof setInterval> | undefined;
  #reading: Promise<void> = Promise.resolve();

  private constructor(readonly cluster: ClusterLauncher) {}

  /** Takes the first reading, then samples until {@link ClusterRssPeak.stop}. */
  static async start(cluster: ClusterLauncher): Promise<ClusterRssPeak> {
    const s = new ClusterRssPeak(cluster);
    await s.#read(s.before);
    Object.assign(s.peak, s.before);
    s.#timer = setInterval(() => {
      s.#reading = s.#reading.then(() => s.#read());
    }, 250);
    return s;
  }

  async #read(into?: Record<string, number>): Promise<void> {
    for (const m of this.cluster.processes.members) {
      if (m.proc.done) continue;
      const kb = await readVmRssKb(m.pid).catch(() => NaN);
      if (!(kb > 0)) continue;
      if (into) into[m.name] = kb;
      else this.peak[m.name] = Math.max(this.peak[m.name] ?? 0, kb);
    }
  }

  /** Stops sampling (after one last reading). */
  async stop(): Promise<
    { rssKbBefore: Record<string, number>; rssKbPeak: Record<string, number> }
  > {
    clearInterval(this.#timer);
    await this.#reading;
    await this.#read();
    return { rssKbBefore: this.before, rssKbPeak: this.peak };
  }
}

/**
 * The bare relay of `../shared/bench` (`relay.ts` and `load.ts`: length-
 * prefixed frames forwarded between TCP clients, no encoding, crypto,
 * storage or acknowledgements) run as the speed limit of one Deno process
 * on this machine, so that FastChat's throughput can be quoted as a share
 * of it measured in the same sitting (the shared machine's speed varies by
 * a factor of two from one hour to the next).
 *
 * {@link runRelayBaseline} starts `relay.ts` on a free loopback port, drives
 * it with `load.ts` and stops it; {@link parseRelayLine} reads the line
 * `load.ts` prints.
 *
 * @example
 * ```ts
 * import { parseRelayLine } from "./relay_baseline.ts";
 * parseRelayLine("clients=100 sent=500000 delivered=500000 msgs/s=190731 p50=19.21ms p99=108.03ms secs=2.62")
 *   ?.msgsPerSec; // 190731
 * ```
 * @module
 */
import { tmpdir } from "node:os";
import { FastChatError } from "@fastchat/lib/errors";
import { signalIfRunning } from "@fastchat/lib/already_gone";

/** What one `load.ts` run against the relay measured. */
export interface RelayResult {
  clients: number;
  sent: number;
  delivered: number;
  msgsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  secs: number;
}

/** The load `load.ts` puts on the relay (its four arguments). */
export interface RelayLoad {
  clients: number;
  /** Frames per client. */
  frames: number;
  /** Bytes per frame. */
  bytes: number;
  /** Frames per client in flight. */
  window: number;
}

const FIELDS =
  /^clients=(\d+) sent=(\d+) delivered=(\d+) msgs\/s=(\d+(?:\.\d+)?) p50=([\d.]+)ms p99=([\d.]+)ms secs=([\d.]+)$/;

/**
 * The figures of the result line `load.ts` prints, or null for any other line.
 *
 * @example
 * ```ts
 * import { parseRelayLine } from "./relay_baseline.ts";
 * parseRelayLine("listening on 7001"); // null
 * ```
 */
export function parseRelayLine(line: string): RelayResult | null {
  const m = FIELDS.exec(line.trim());
  if (!m) return null;
  const [clients, sent, delivered, msgsPerSec, p50Ms, p99Ms, secs] = m.slice(1).map(Number);
  return { clients, sent, delivered, msgsPerSec, p50Ms, p99Ms, secs };
}

/** The port `load.ts` connects to (fixed in it). */
export const RELAY_PORT = 7001;

/**
 * Fails clearly (`INTERNAL`, naming the port) when `port` on 127.0.0.1 is
 * taken (a relay left running, another service).
 *
 * @example
 * ```ts
 * import { assertPortFree } from "./relay_baseline.ts";
 * assertPortFree(7001); // throws if something listens there
 * ```
 */
export function assertPortFree(port: number): void {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } catch (e) {
    throw new FastChatError(
      "INTERNAL",
      `port ${port}, where load.ts expects the relay, is not free: ${(e as Error).message}`,
    );
  }
}

/** Resolves once `port` accepts a connection; rejects after `ms` or when `exited` settles first. */
async function listening(
  port: number,
  ms: number,
  exited: Promise<Deno.CommandStatus>,
): Promise<void> {
  let gone = false;
  exited.then(() => gone = true);
  const deadline = performance.now() + ms;
  for (let wait = 10;; wait = Math.min(wait * 2, 200)) {
    if (gone) throw new FastChatError("INTERNAL", "the relay exited before it listened");
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      if (performance.now() > deadline) {
        throw new FastChatError("INTERNAL", `the relay did not listen on ${port} within ${ms} ms`);
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * Waits for, and holds until disposed, the machine-wide turn to use
 * {@link RELAY_PORT}: an exclusive lock on a file in the temporary directory.
 *
 * @example
 * ```ts
 * import { lockRelayPort } from "./relay_baseline.ts";
 * using _turn = await lockRelayPort();
 * // … nobody else runs a baseline here …
 * ```
 */
export async function lockRelayPort(): Promise<Disposable> {
  const file = await Deno.open(`${tmpdir()}/fastchat-relay-${RELAY_PORT}.lock`, {
    create: true,
    write: true,
    mode: 0o600,
  });
  await file.lock(true);
  return { [Symbol.dispose]: () => file.close() };
}

/**
 * Runs `relay.ts` and `load.ts` of `benchDir` once with `load` and returns
 * what `load.ts` measured. The relay listens on {@link RELAY_PORT}, where
 * `load.ts` connects, so baselines take turns (a lock file in the
 * temporary directory). Fails (`INTERNAL`, with its output) when the
 * relay does not come up, `load.ts` fails or prints no result, or a frame
 * is lost. The relay is stopped in every case.
 *
 * @example
 * ```ts
 * import { runRelayBaseline } from "./relay_baseline.ts";
 * const r = await runRelayBaseline("../shared/bench", { clients: 100, frames: 5000, bytes: 100, window: 64 });
 * console.log(`${r.msgsPerSec} frames/s`);
 * ```
 */
export async function runRelayBaseline(benchDir: string, load: RelayLoad): Promise<RelayResult> {
  const port = RELAY_PORT;
  // Baselines (a test file's, a user's) take turns: load.ts has one port.
  using _lock = await lockRelayPort();
  assertPortFree(port);
  const relay = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "relay.ts", String(port)],
    cwd: benchDir,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await listening(port, 20_000, relay.status);
    const args = [load.clients, load.frames, load.bytes, load.window].map(String);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "load.ts", ...args],
      cwd: benchDir,
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const result = text.split("\n").map(parseRelayLine).findLast((r) => r !== null) ?? null;
    if (!out.success || result === null) {
      throw new FastChatError(
        "INTERNAL",
        `load.ts ${args.join(" ")} (exit ${out.code}) gave no result: ${text.trim().slice(-500)}`,
      );
    }
    if (result.delivered !== result.sent) {
      throw new FastChatError(
        "INTERNAL",
        `the relay lost frames: ${result.delivered} of ${result.sent}`,
      );
    }
    return result;
  } finally {
    signalIfRunning(relay, "SIGTERM");
    await relay.status;
  }
}

/**
 * One simulated user of a load run: a real {@link ChatClient} (real
 * end-to-end encryption) that registers or logs in through the load
 * balancer, sends on a schedule (closed loop with a window of unacked
 * messages, or open loop on timers with catch-up), and records every event
 * in its client log (`client_log.ts`).
 *
 * @example
 * ```ts
 * import { LoadClient } from "./load_client.ts";
 * const c = new LoadClient({
 *   index: 0, clients: 2, seed: "demo", lb: { host: "127.0.0.1", port: 7700 },
 *   homeRoot: "/tmp/perf-home", kdfIterations: 100_000, csvPath: null,
 *   send: { kind: "window", window: 16 }, payloadBytes: 100, messages: 10,
 * });
 * await c.register(false);
 * await c.login();
 * ```
 * @module
 */
import { ChatClient, type ClientEvent, viaLoadBalancer } from "@fastchat/client/chat_client";
import { FastChatError } from "@fastchat/lib/errors";
import { nowMs, sleep } from "./clock.ts";
import { CsvLog } from "./client_log.ts";
import { type ClientCounters, zeroCounters } from "./client_counters.ts";
import {
  PayloadSource,
  pickRecipient,
  type Schedule,
  sendSchedule,
  warmupRecipients,
} from "./load_plan.ts";
import { type Rng, streamRng } from "./seeded_rng.ts";
import { userName } from "./run_config.ts";
import { checkReceivedFile, writeTestFile } from "./file_mode.ts";
import { WarmupLedger } from "./warmup_ledger.ts";
import type { LoadClientOptions } from "./load_client_options.ts";
import { WireChatClient } from "./wire_chat_client.ts";

export type { LoadClientOptions } from "./load_client_options.ts";

/** The text of key warm-up messages (not printable ASCII, unlike every timed payload). */
const WARMUP_TEXT = "\u2668 key warm-up";

/**
 * The fixed password of a perf user (test accounts only).
 *
 * @example
 * ```ts
 * import { perfPassword } from "./load_client.ts";
 * perfPassword("perf-x-1"); // "fastchat-perf-password-of-perf-x-1"
 * ```
 */
export function perfPassword(user: string): string {
  return `fastchat-perf-password-of-${user}`;
}

/**
 * One perf user and its ChatClient: register or log in, warm the keys up,
 * then {@link LoadClient.run} the send loop, logging every event.
 *
 * @example
 * ```ts
 * import { LoadClient } from "./load_client.ts";
 * declare const opts: import("./load_client_options.ts").LoadClientOptions;
 * const c = new LoadClient(opts);
 * await c.openCsv();
 * await c.register(true);
 * await c.login(); // "kept"
 * ```
 */
export class LoadClient {
  readonly user: string;
  readonly counters: ClientCounters = zeroCounters();
  /** Key warm-up messages sent, and warm-up messages and receipts received (never recorded). */
  readonly warm = { sent: 0, received: 0, delivered: 0 };
  /** Server id and address after login (updated on reconnect). */
  server = "";
  address = "";
  readonly #o: LoadClientOptions;
  #client: ChatClient | WireChatClient | null = null;
  #csv: CsvLog | null = null;
  #recording = false;
  #stopped = false;
  #inflight = 0;
  /** Key warm-up messages awaiting receipts, and those displayed (for a timeout's audit). */
  readonly warmLedger = new WarmupLedger();
  /** Wakes the closed loop's wait for a free window slot (acks and stop). */
  #windowWake: (() => void) | null = null;
  /** Ends the open loop's sleep until the next due time (stop only). */
  #timerWake: (() => void) | null = null;
  readonly #recipients: Rng;
  readonly #payload: PayloadSource | null;
  readonly #timing: Rng;
  /** The `kind` of this run's rows. */
  readonly #kind: string;
  /** `--mode file`: the files to send, in order (written by {@link LoadClient.prepare}). */
  #files: string[] = [];
  #fileNext = 0;

  constructor(opts: LoadClientOptions) {
    this.#o = opts;
    this.#kind = opts.mode ?? "dm";
    this.user = userName(opts.seed, opts.index);
    this.#recipients = streamRng(opts.seed, opts.index, "recipients");
    this.#timing = streamRng(opts.seed, opts.index, "timing");
    this.#payload = opts.csvPath === null && opts.messages === null
      ? null
      : new PayloadSource(streamRng(opts.seed, opts.index, "payload"), opts.payloadBytes);
  }

  /** The CSV log (null in idle mode or before {@link LoadClient.openCsv}). */
  get csv(): CsvLog | null {
    return this.#csv;
  }

  /** Whether the client is logged in. */
  get connected(): boolean {
    return this.#client !== null;
  }

  /** Creates the CSV file with its header (no-op without a path). */
  async openCsv(): Promise<void> {
    if (this.#o.csvPath) this.#csv = await CsvLog.create(this.#o.csvPath);
  }

  #newClient(): ChatClient | WireChatClient {
    if (this.#o.driver === "wire") {
      return new WireChatClient({
        lb: this.#o.lb,
        payloadBytes: this.#o.payloadBytes,
        kdfIterations: this.#o.kdfIterations,
        onEvent: (e) => this.#onEvent(e),
      });
    }
    return new ChatClient({
      server: viaLoadBalancer(this.#o.lb),
      homeRoot: this.#o.homeRoot,
      history: false,
      kdfIterations: this.#o.kdfIterations,
      newIdentity: this.#o.newIdentity,
      onEvent: (e) => this.#onEvent(e),
    });
  }

  /**
   * Registers the user: `"registered"`, or `"exists"` on `USER_EXISTS`.
   * With `keep` the registered session stays connected (no separate login).
   */
  async register(keep: boolean): Promise<"registered" | "exists"> {
    const c = this.#newClient();
    try {
      await c.register(this.user, perfPassword(this.user));
    } catch (e) {
      // The register failure is the news; closing a client that never got a
      // session only saves an empty state in a throwaway home.
      await c.close().catch(() => {});
      if (FastChatError.from(e).code === "USER_EXISTS") return "exists";
      throw e;
    }
    if (keep) this.#client = c;
    else await c.close();
    return "registered";
  }

  /** Logs in (no-op when the registered session was kept). */
  async login(): Promise<"logged_in" | "kept"> {
    if (this.#client) return "kept";
    const c = this.#newClient();
    try {
      await c.login(this.user, perfPassword(this.user));
    } catch (e) {
      await c.close().catch(() => {}); // as in register(): the login failure is the news
      throw e;
    }
    this.#client = c;
    return "logged_in";
  }

  #onEvent(e: ClientEvent): void {
    const t = nowMs();
    const k = this.counters;
    switch (e.event) {
      case "ready":
        this.server = e.server;
        this.address = e.address;
        return;
      case "reconnected":
        this.server = e.server;
        this.address = e.address;
        this.#o.onReconnected?.(this, t, e.server);
        return;
      case "disconnected":
        this.warmLedger.disconnected();
        this.#o.onDisconnected?.(this, t, e.code);
        return;
      default:
        break;
    }
    // Key warm-up traffic is counted, never recorded: recognised by its text
    // (timed payloads are printable ASCII) and by the ids this client sent.
    if (e.event === "message" && e.text === WARMUP_TEXT) {
      this.warm.received++;
      this.warmLedger.displayed(e.from, e.id);
      return;
    }
    if (e.event === "sent" && this.warmLedger.confirm(e.id)) return;
    if (e.event === "delivered" && this.warmLedger.receipt(e.id)) {
      this.warm.delivered++;
      return;
    }
    if (!this.#recording) return;
    switch (e.event) {
      case "sent":
        // The event names the recipient: no per-message map from id to peer
        // (its churn was a seventh of what survived the workers' scavenges).
        k.acked++;
        this.#csv?.add(e.id, "acked", t, this.#bytes, e.to, this.#kind);
        this.#settle();
        return;
      case "message":
        k.received++;
        k.lastRecvMs = t;
        this.#csv?.add(e.id, "received", t, e.text.length, e.from, this.#kind);
        return;
      case "file":
        this.#onFile(e, t);
        return;
      case "delivered":
        k.delivered++;
        this.#csv?.add(e.id, "delivered", t, this.#bytes, e.to, this.#kind);
        return;
      case "error": {
        k.errors++;
        // A message of ours refused before it was confirmed names its recipient.
        const ours = e.id !== undefined && e.from === undefined && e.to !== undefined;
        this.#csv?.add(e.id ?? "", "error", t, "", e.to ?? e.from ?? e.user ?? "", e.code);
        if (ours) {
          k.failed++;
          this.#settle();
        }
        return;
      }
      default:
        return;
    }
  }

  /** Bytes of one message: the payload, or the file size in file mode. */
  get #bytes(): number {
    return this.#o.file?.bytes ?? this.#o.payloadBytes;
  }

  /** A received file, complete: checked against its name, logged, deleted. */
  #onFile(e: Extract<ClientEvent, { event: "file" }>, t: number): void {
    const k = this.counters;
    const wrong = checkReceivedFile(e, this.#o.file?.bytes ?? NaN);
    if (wrong) {
      k.errors++;
      this.#csv?.add(e.id, "error", t, "", e.from, "FILE_MISMATCH");
      console.error(JSON.stringify({ event: "file_mismatch", user: this.user, error: wrong }));
    } else {
      k.received++;
      k.lastRecvMs = t;
      this.#csv?.add(e.id, "received", t, e.bytes, e.from, this.#kind);
    }
    Deno.remove(e.path).catch(() => {}); // the disk is not the subject
  }

  /**
   * Mode-specific setup before the warm-up: a group's first member creates
   * it with the others; in file mode, the files to send are written.
   */
  async prepare(): Promise<void> {
    const o = this.#o;
    if (o.group?.admin) {
      try {
        await this.#chat().group("create", o.group.group, o.group.others);
      } catch (e) {
        // A seed reused against a running cluster (--lb): the group is there from before.
        if (FastChatError.from(e).code !== "GROUP_EXISTS") throw e;
      }
    }
    if (o.file) {
      for (let k = 0; k < (o.messages ?? 0); k++) {
        this.#files.push((await writeTestFile(o.file.dir, `${this.user}-${k}`, o.file.bytes)).path);
      }
    }
  }

  /** One message left the window (acked or failed). */
  #settle(): void {
    this.#inflight--;
    const w = this.#windowWake;
    this.#windowWake = null;
    w?.();
  }

  /**
   * Key warm-up: sends one unrecorded message to every peer this client's
   * sends will go to ({@link warmupRecipients}), creating (and delivering)
   * the session keys the timed phase then reuses. Resolves once they are all queued.
   */
  async warmUp(): Promise<void> {
    const o = this.#o;
    if (o.driver === "wire") return; // no keys to share: bodies are replayed, never opened
    if (o.group) {
      if (!o.group.sender) return;
      const to = `#${o.group.group}`;
      this.warmLedger.sent(await this.#client!.send(to, WARMUP_TEXT), to);
      this.warm.sent++;
      return;
    }
    for (const r of warmupRecipients(o.seed, o.index, o.clients, o.messages, o.peers ?? null)) {
      const to = userName(o.seed, r);
      this.warmLedger.sent(await this.#client!.send(to, WARMUP_TEXT), to);
      this.warm.sent++;
    }
  }

  /** Writes the client's key state now, so no save runs during the timed phase. */
  async persist(): Promise<void> {
    await this.#client?.persist();
  }

  /**
   * Starts recording events: once logged in, before the warm-up, so timed
   * messages from clients of workers that got "go" earlier are never missed.
   */
  startRecording(): void {
    this.#recording = true;
  }

  /**
   * Sends on the configured model from `startMs` until `messages` are sent
   * or `endAtMs` passes (or {@link LoadClient.stop}).
   */
  async run(startMs: number, endAtMs: number | null): Promise<void> {
    this.#recording = true;
    const o = this.#o;
    if (o.group && !o.group.sender) return;
    let attempts = 0;
    const more = (at: number) =>
      !this.#stopped && (o.messages !== null ? attempts < o.messages : at < endAtMs!);
    const schedule: Schedule | null = sendSchedule(o.send, o.index, o.clients, this.#timing);
    if (schedule === null) {
      const window = o.send.kind === "window" ? o.send.window : 1;
      // One clock read per send, and none when a count bounds the run.
      const going = () => more(o.messages !== null ? 0 : nowMs());
      while (going()) {
        if (this.#inflight >= window) {
          while (this.#inflight >= window && !this.#stopped) {
            await new Promise<void>((r) => this.#windowWake = r);
          }
          if (!going()) break;
        }
        attempts++;
        const sending = this.#sendOne();
        if (sending) await sending;
      }
      return;
    }
    // One timer per message and no promise: at 2,000 msgs/s a promise and
    // two closures per send were ~5 % of what the load workers allocated.
    let due = startMs + schedule.firstMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((done) => {
      const step = (): void => {
        this.#timerWake = null;
        while (more(due)) {
          const wait = due - nowMs();
          if (wait > 0) {
            timer = setTimeout(step, wait);
            this.#timerWake = wakeEarly;
            return;
          }
          attempts++;
          // Catch-up: a late timer leaves `due` in the past, so the next sends go at once.
          due += schedule.nextGapMs();
          const sending = this.#sendOne();
          if (sending) return void sending.then(step);
        }
        done();
      };
      const wakeEarly = (): void => {
        clearTimeout(timer);
        step();
      };
      step();
    });
  }

  /** Names of the peers sent to so far, by index (one string each, not one per message). */
  readonly #names = new Map<number, string>();

  #peerName(i: number): string {
    let name = this.#names.get(i);
    if (name === undefined) {
      name = userName(this.#o.seed, i);
      this.#names.set(i, name);
    }
    return name;
  }

  /**
   * Sends the next message: at once (no promise) when the client can take
   * it without waiting ({@link ChatClient.trySend}), else returns the
   * promise of the send.
   */
  #sendOne(): Promise<void> | undefined {
    const o = this.#o;
    const to = o.group
      ? `#${o.group.group}`
      : this.#peerName(pickRecipient(this.#recipients, o.index, o.clients, o.peers ?? null));
    const file = o.file ? this.#files[this.#fileNext++] : undefined;
    const text = file === undefined ? this.#payload!.next() : "";
    this.#inflight++;
    const t = nowMs();
    if (!o.group && !o.file) {
      let id: string | null;
      try {
        id = this.#client!.trySend(to, text);
      } catch (e) {
        return this.#sendFailed(t, to, e);
      }
      if (id !== null) return this.#sent(id, t, to, text.length);
    }
    return this.#sendWaiting(to, file, text, t);
  }

  async #sendFailed(t: number, to: string, e: unknown): Promise<void> {
    this.#inflight--;
    this.counters.errors++;
    this.#csv?.add("", "error", t, "", to, FastChatError.from(e).code);
    await sleep(100); // e.g. not connected: do not spin
  }

  #sent(id: string, t: number, to: string, bytes: number): undefined {
    const k = this.counters;
    k.sent++;
    k.lastSendMs = t;
    this.#csv?.add(id, "sent", t, bytes, to, this.#kind);
    return undefined;
  }

  async #sendWaiting(
    to: string,
    file: string | undefined,
    text: string,
    t: number,
  ): Promise<void> {
    const o = this.#o;
    let id: string;
    try {
      if (o.file && file === undefined) throw new Error(`no test file left to send`);
      id = file !== undefined
        ? await this.#chat().sendFile(to, file)
        : await this.#client!.send(to, text);
    } catch (e) {
      return await this.#sendFailed(t, to, e);
    }
    this.#sent(id, t, to, file !== undefined ? o.file!.bytes : text.length);
  }

  /** The ChatClient (groups and files need the real client, not `--driver wire`). */
  #chat(): ChatClient {
    const c = this.#client;
    if (!(c instanceof ChatClient)) throw new Error("groups and files need the real client");
    return c;
  }

  /** Stops the send loop (pending sleeps and window waits return at once). */
  stop(): void {
    this.#stopped = true;
    for (const w of [this.#windowWake, this.#timerWake]) w?.();
    this.#windowWake = null;
    this.#timerWake = null;
  }

  /** Stops recording, closes the ChatClient and flushes the CSV. */
  async close(): Promise<void> {
    this.stop();
    const c = this.#client;
    this.#client = null;
    if (c) {
      const closed = c.close().catch((e) =>
        console.error(JSON.stringify({
          event: "client_close_failed",
          user: this.user,
          error: String(e),
        }))
      );
      await Promise.race([closed, sleep(5_000)]);
    }
    this.#recording = false;
    await this.#csv?.flush();
  }
}

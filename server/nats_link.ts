/**
 * One server's connection to NATS, as the NATS fabric (server/nats_fabric.ts)
 * uses it: publishing with a bound on the bytes the client holds (past
 * 64 MiB not yet confirmed by a NATS round trip, or while disconnected,
 * sends are dropped and counted: what they carried is stored), frames over
 * `max_payload` split into fragments, subscriptions whose handlers may throw
 * (that one message is refused and logged), and the connection's ups and
 * downs as two callbacks. The client reconnects forever, trying every URL.
 *
 * @example
 * ```ts
 * import { NatsLink } from "@fastchat/server/nats_link";
 * const link = await NatsLink.connect(["nats://127.0.0.1:4222"], "example", {
 *   disconnected: () => console.log("down"),
 *   reconnected: () => console.log("up"),
 * });
 * link.subscribe("demo.*", () => "someone", (_from, data) => console.log(data.length));
 * link.publish("demo.x", new Uint8Array([1, 2, 3]));
 * await link.close();
 * ```
 * @module
 */
import { connect, type NatsConnection, NoRespondersError } from "@nats-io/transport-node";
import { FastChatError } from "@fastchat/lib/errors";
import { type Logger, nullLogger } from "@fastchat/lib/logger";
import { redactNatsUrl } from "./fabric_config.ts";
import { fragment } from "./nats_wire.ts";

/** Bytes published and not yet confirmed by a NATS round trip, at most; past it, sends are dropped. */
const MAX_UNCONFIRMED = 64 * 1024 * 1024;

/** Connects to NATS; `CONNECT_FAILED` naming the URLs (credentials masked) if none answers. */
async function natsConnect(servers: string[], name: string): Promise<NatsConnection> {
  try {
    return await connect({
      servers,
      name,
      noEcho: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: 5000,
    });
  } catch (e) {
    throw new FastChatError(
      "CONNECT_FAILED",
      `NATS unreachable at ${servers.map(redactNatsUrl).join(", ")}: ${(e as Error).message}`,
    );
  }
}

/**
 * Checks that NATS answers at `servers` (before starting a cluster on it);
 * `CONNECT_FAILED` otherwise.
 *
 * @example
 * ```ts
 * import { probeNats } from "@fastchat/server/nats_link";
 * await probeNats(["nats://127.0.0.1:4222"]);
 * ```
 */
export async function probeNats(servers: string[]): Promise<void> {
  await (await natsConnect(servers, "fastchat-probe")).close();
}

/**
 * A bounded NATS connection.
 *
 * @example
 * ```ts
 * import { NatsLink } from "@fastchat/server/nats_link";
 * declare const link: NatsLink;
 * if (!link.publish("fastchat.default.hb.srv-1", new Uint8Array(8))) console.log("dropped");
 * ```
 */
export class NatsLink {
  readonly #nc: NatsConnection;
  readonly #log: Logger;
  /** NATS's largest message. */
  readonly maxPayload: number;
  #connected = true;
  #closing: Promise<void> | null = null;
  #unconfirmed = 0;
  #confirming: Promise<void> | null = null;
  #dropped = 0;
  readonly #statusLoop: Promise<void>;

  private constructor(
    nc: NatsConnection,
    events: { disconnected: () => void; reconnected: () => void },
    log: Logger,
  ) {
    this.#nc = nc;
    this.#log = log;
    this.maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    this.#statusLoop = (async () => {
      for await (const s of nc.status()) {
        if (this.#closing) continue;
        if (s.type === "disconnect") {
          this.#connected = false;
          events.disconnected();
        } else if (s.type === "reconnect") {
          this.#connected = true;
          this.#unconfirmed = 0;
          log.info("nats_reconnected", { server: s.server });
          events.reconnected();
        }
      }
    })();
  }

  /** Connects (`CONNECT_FAILED` if no server of `servers` answers). */
  static async connect(
    servers: string[],
    name: string,
    events: { disconnected: () => void; reconnected: () => void },
    logger: Logger = nullLogger,
  ): Promise<NatsLink> {
    return new NatsLink(await natsConnect(servers, name), events, logger);
  }

  /** Connected, and not too far behind: a send now is not dropped. */
  get canSend(): boolean {
    return this.#connected && this.#unconfirmed < MAX_UNCONFIRMED;
  }

  /** Sends dropped so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Subscribes `subject`; `sender` names the sending server of a message's
   * subject (null: ignore it). A handler that throws or rejects refuses
   * that one message (logged as `peer_frame_refused`).
   */
  subscribe(
    subject: string,
    sender: (subject: string) => string | null,
    handle: (from: string, data: Uint8Array) => void | Promise<void>,
  ): void {
    this.#nc.subscribe(subject, {
      callback: (err, m) => {
        if (err) return this.#log.warn("nats_subscription_error", { subject, error: err.message });
        const from = sender(m.subject);
        if (from === null) return;
        const refuse = (e: unknown) =>
          this.#log.warn("peer_frame_refused", {
            peer: from,
            subject: m.subject.slice(0, 200),
            error: String((e as Error).message ?? e),
          });
        try {
          if (m.data.length > this.maxPayload) throw new Error("payload over max_payload");
          handle(from, m.data)?.catch(refuse);
        } catch (e) {
          refuse(e);
        }
      },
    });
  }

  /** Publishes `bytes` on `subject`; false if dropped. */
  publish(subject: string, bytes: Uint8Array): boolean {
    return this.#send(subject, [bytes], bytes.length);
  }

  /**
   * Publishes `frame` on `subject`, or in fragments on `fragments` if it is
   * over `max_payload`; false if dropped.
   */
  publishFrame(subject: string, fragments: string, frame: Uint8Array): boolean {
    if (frame.length <= this.maxPayload) return this.publish(subject, frame);
    return this.#send(fragments, fragment(frame, this.maxPayload), frame.length);
  }

  #send(subject: string, parts: Uint8Array[], bytes: number): boolean {
    if (!this.canSend) return this.#drop(subject);
    try {
      for (const p of parts) this.#nc.publish(subject, p);
    } catch (e) {
      // A partial fragmented frame is discarded by the receiver's reassembly.
      this.#log.debug("nats_publish_failed", { error: String(e) });
      return this.#drop(subject);
    }
    this.#sent(bytes);
    return true;
  }

  /** Answers every request on `subject` (at once, empty). */
  answer(subject: string): void {
    this.#nc.subscribe(subject, { callback: (_err, m) => void m.respond() });
  }

  /**
   * Asks whoever answers on `subject`: `answered`; `gone` if NATS says at
   * once that nobody subscribes (a process killed drops its subscriptions
   * with its connection); `silent` if nothing came within `timeoutMs` (or
   * NATS is down).
   */
  async probe(subject: string, timeoutMs: number): Promise<"answered" | "gone" | "silent"> {
    if (!this.#connected) return "silent";
    try {
      await this.#nc.request(subject, new Uint8Array(0), { timeout: timeoutMs });
      return "answered";
    } catch (e) {
      const noOne = e instanceof NoRespondersError ||
        (e as Error).cause instanceof NoRespondersError;
      return noOne ? "gone" : "silent";
    }
  }

  /** Resolves once NATS has everything published so far. */
  flush(): Promise<void> {
    return this.#nc.flush();
  }

  /** Writes what is published, then closes; resolves when all is let go. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.#nc.drain();
      } catch (e) {
        this.#log.debug("nats_drain_failed", { error: String(e) });
      }
      await this.#nc.closed();
      this.#connected = false;
      await this.#statusLoop;
      await this.#confirming;
    })();
    return this.#closing;
  }

  #drop(what: string): false {
    if (this.#dropped++ % 1000 === 0) {
      this.#log.warn("nats_send_dropped", {
        what,
        dropped: this.#dropped,
        connected: this.#connected,
        unconfirmedBytes: this.#unconfirmed,
      });
    }
    return false;
  }

  /** Counts `n` bytes until a NATS round trip confirms the server has them. */
  #sent(n: number): void {
    this.#unconfirmed += n;
    if (this.#confirming) return;
    const pending = this.#unconfirmed;
    this.#confirming = this.#nc.flush().then(
      () => void (this.#unconfirmed = Math.max(0, this.#unconfirmed - pending)),
      () => void (this.#unconfirmed = 0), // disconnected: the reconnect starts afresh
    ).finally(() => {
      this.#confirming = null;
      if (this.#unconfirmed > 0 && this.#connected && !this.#closing) this.#sent(0);
    });
  }
}

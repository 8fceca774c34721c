/**
 * `perf --driver wire`: a load client that speaks the wire protocol itself
 * and does no end-to-end crypto per message, so that a run on one machine
 * can load the servers to saturation (the real client spends 3–4× the
 * servers' CPU per message on sealing, opening, its outbox and receipts,
 * and on 2 cores that caps what the servers ever see).
 *
 * The servers get exactly what the real client sends them: a `hello` with
 * the load balancer's ticket, `register`/`login` with a 32-byte
 * authenticator (hashed by the server with scrypt, as always), `send`
 * frames whose body is a real sealed message of the payload size (sealed
 * once per process and replayed: the servers never open bodies, so their
 * work is the same), acknowledgements batched every 5 ms as the real
 * client's {@link AckBatcher} does, and `rack` for stored receipts. What it
 * leaves out is the clients' own work: no sealing or opening, no outbox on
 * disk, no key handling, no reconnect (a lost connection ends the client:
 * `--kill-one` needs the real client). Received messages are not decrypted,
 * so their text is not checked; ids are, as in every run (lost and
 * duplicated messages are counted by id). Its authenticator is a hash of
 * the password, not the client's PBKDF2 derivation: users a real client
 * registered (a seed reused with `--lb`) cannot log in through it.
 *
 * It emits the {@link ClientEvent}s a `LoadClient` reads from a
 * `ChatClient` (`ready`, `sent`, `message`, `delivered`, `error`,
 * `disconnected`), so the send loop, the CSV logs and the analysis are the
 * same for both drivers.
 *
 * @example
 * ```ts
 * import { WireChatClient } from "./wire_chat_client.ts";
 * const c = new WireChatClient({
 *   lb: { host: "127.0.0.1", port: 7700 },
 *   payloadBytes: 100,
 *   onEvent: (e) => console.log(e.event),
 * });
 * await c.register("perf-x-0", "password of perf-x-0");
 * const id = c.trySend("perf-x-1", "ignored: a sealed body of 100 bytes is sent");
 * await c.close();
 * ```
 * @module
 */
import type { ClientEvent } from "@fastchat/client/chat_client";
import { requestTicket } from "@fastchat/client/lb_client";
import { ServerConnection } from "@fastchat/client/server_connection";
import { sealDirectContent } from "@fastchat/client/message_body";
import { AckBatcher, type AckSource } from "@fastchat/client/ack_batcher";
import {
  exportPublicKeys,
  generateIdentity,
  generateMessageKeyBytes,
  importMessageKey,
  type PublicKeys,
  randomId,
} from "@fastchat/lib/crypto";
import { FastChatError } from "@fastchat/lib/errors";
import { WireInbox } from "./wire_inbox.ts";

/** Options of a {@link WireChatClient}. */
export interface WireChatClientOptions {
  lb: { host: string; port: number };
  /** Size of the text each message stands for (its sealed body is that of such a text). */
  payloadBytes: number;
  onEvent: (e: ClientEvent) => void;
  /** PBKDF2 iterations recorded with a new account (the server checks the range only). */
  kdfIterations?: number;
}

/** One identity's public keys for every wire client of the process (never used to encrypt). */
let sharedKeys: Promise<PublicKeys> | null = null;
/** One sealed body per payload size, replayed by every message of that size. */
const bodies = new Map<number, Uint8Array>();
/** The acknowledgement timer shared by the process's clients, as in the real client. */
const acks = new AckBatcher();

function sealedBody(payloadBytes: number): Uint8Array {
  let body = bodies.get(payloadBytes);
  if (!body) {
    const raw = generateMessageKeyBytes();
    const key = {
      kid: randomId(12),
      raw,
      key: importMessageKey(raw),
      count: 0,
      created: Date.now(),
      fp: "",
      env: null,
    };
    const content = new TextEncoder().encode("x".repeat(payloadBytes));
    body = sealDirectContent("perf-a", "perf-b", content, key).body;
    bodies.set(payloadBytes, body);
  }
  return body;
}

/** The authenticator of `password`: fixed per user, so a later run can log in. */
async function authOf(password: string): Promise<Uint8Array> {
  const data = new TextEncoder().encode("fastchat perf wire driver\n" + password);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

/**
 * A protocol-level perf client (see the module doc): the subset of
 * `ChatClient` that `LoadClient` uses for direct messages.
 *
 * @example
 * ```ts
 * import { WireChatClient } from "./wire_chat_client.ts";
 * declare const c: WireChatClient;
 * const id = c.trySend("perf-x-1", "hello") ?? await c.send("perf-x-1", "hello");
 * ```
 */
export class WireChatClient implements AckSource {
  readonly #o: WireChatClientOptions;
  #conn: ServerConnection | null = null;
  /** Ids are this prefix and a counter: unique, and cheaper than 16 random bytes each. */
  readonly #idPrefix = randomId(9);
  #next = 0;
  readonly #body: Uint8Array;
  /** What was sent and received; each message and receipt is reported once. */
  readonly #inbox: WireInbox;
  #closing = false;

  constructor(opts: WireChatClientOptions) {
    this.#o = opts;
    this.#body = sealedBody(opts.payloadBytes);
    // The text each received message stands for (one string, not one per message).
    this.#inbox = new WireInbox("x".repeat(opts.payloadBytes), opts.onEvent);
  }

  /** Creates the account (throws `USER_EXISTS` if it is there) and stays logged in. */
  async register(user: string, password: string): Promise<void> {
    sharedKeys ??= generateIdentity().then(exportPublicKeys);
    const keys = await sharedKeys;
    await this.#session(user, async (conn, ticket) =>
      await conn.request({
        t: "register",
        user,
        auth: await authOf(password),
        kdf: {
          salt: crypto.getRandomValues(new Uint8Array(16)),
          iter: this.#o.kdfIterations ?? 100_000,
        },
        keys,
        backup: crypto.getRandomValues(new Uint8Array(64)),
        ticket,
      }));
  }

  /** Logs in an account that {@link WireChatClient.register} created. */
  async login(user: string, password: string): Promise<void> {
    await this.#session(
      user,
      async (conn, ticket) =>
        await conn.request({ t: "login", user, auth: await authOf(password), ticket }),
    );
  }

  async #session(
    user: string,
    auth: (conn: ServerConnection, ticket: string) => Promise<unknown>,
  ): Promise<void> {
    const t = await requestTicket(this.#o.lb);
    let synced!: () => void;
    const isSynced = new Promise<void>((r) => synced = r);
    const conn = await ServerConnection.connect({
      host: t.host,
      port: t.port,
      onPush: (f) => {
        if (f.t === "synced") synced();
        else if (this.#inbox.push(f)) acks.schedule(this);
      },
      onClose: (err) => this.#onClose(err),
    });
    try {
      await auth(conn, t.ticket);
      await isSynced;
    } catch (e) {
      conn.close();
      throw e;
    }
    this.#conn = conn;
    this.#o.onEvent({
      event: "ready",
      user,
      server: conn.serverId,
      address: `${t.host}:${t.port}`,
    });
  }

  #frame(to: string) {
    return {
      t: "send" as const,
      id: this.#idPrefix + (this.#next++).toString(36),
      to,
      kind: "dm" as const,
      ts: Date.now(),
      body: this.#body,
    };
  }

  /** Sends at once and returns the id, or null when the connection's queue is full. */
  trySend(to: string, _text: string): string | null {
    const conn = this.#open();
    if (!conn.isWritable) return null;
    const f = this.#frame(to);
    conn.send(f);
    this.#inbox.sent(f.id, f.to);
    return f.id;
  }

  /** Sends once the connection's queue has room. */
  async send(to: string, text: string): Promise<string> {
    for (;;) {
      const id = this.trySend(to, text);
      if (id !== null) return id;
      await this.#open().writable();
    }
  }

  /** Nothing to save: the wire driver keeps no state. */
  persist(): Promise<void> {
    return Promise.resolve();
  }

  #open(): ServerConnection {
    const conn = this.#conn;
    if (!conn || conn.closed) throw new FastChatError("NOT_CONNECTED", "not connected");
    return conn;
  }

  /** Sends the acknowledgements and receipt acknowledgements queued (AckBatcher's timer). */
  flushAcks(): void {
    const conn = this.#conn;
    if (!conn || conn.closed) return;
    const { acks, racks } = this.#inbox.takeAcks();
    for (let i = 0; i < acks.length; i += 4096) {
      conn.send({ t: "ack", items: acks.slice(i, i + 4096) });
    }
    for (let i = 0; i < racks.length; i += 4096) {
      conn.send({ t: "rack", items: racks.slice(i, i + 4096) });
    }
  }

  #onClose(err?: FastChatError): void {
    if (this.#closing || !this.#conn) return;
    const e = err ?? new FastChatError("CONNECTION_CLOSED", "connection closed");
    this.#o.onEvent({ event: "disconnected", code: e.code, message: e.message });
  }

  /** Sends the last acknowledgements, then closes. */
  async close(): Promise<void> {
    this.#closing = true;
    acks.cancel(this);
    this.flushAcks();
    await this.#conn?.end();
    this.#conn = null;
  }
}

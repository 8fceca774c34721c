/**
 * What the NATS fabric (server/nats_fabric.ts) puts on NATS: its subjects,
 * and the splitting of a frame larger than the NATS server's `max_payload`
 * into fragments and their bounded reassembly. Frames themselves are the
 * peer mesh's (server/peer_protocol.ts), decoded as hostile input by
 * `decodePeerFrame`.
 *
 * Subjects of a cluster `ns` (every token a {@link SUBJECT_TOKEN}):
 * - `fastchat.<ns>.hb.<from>`: heartbeats (payload: the sender's 8-byte incarnation);
 * - `fastchat.<ns>.bye.<from>`: the sender is shutting down (drain);
 * - `fastchat.<ns>.presence.<from>`: users online / offline at the sender;
 * - `fastchat.<ns>.hello.<from>.<to>`: asks `to` for its snapshot of users;
 * - `fastchat.<ns>.ping.<to>`: a request `to` answers (NATS says at once when nobody subscribes: it is gone);
 * - `fastchat.<ns>.srv.<to>.<from>`: frames for one server (fwd, gfwd, ack, rcpt, snapshot, presence_ack);
 * - `fastchat.<ns>.frag.<to>.<from>`: fragments of one such frame.
 *
 * @example
 * ```ts
 * import { NatsSubjects } from "@fastchat/server/nats_wire";
 * const s = new NatsSubjects("t1", "srv-1");
 * s.to("srv-2"); // "fastchat.t1.srv.srv-2.srv-1"
 * s.sender("fastchat.t1.srv.srv-1.srv-2"); // "srv-2"
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { SUBJECT_TOKEN } from "./fabric_config.ts";

/**
 * The subjects one server publishes to and subscribes to.
 *
 * @example
 * ```ts
 * import { NatsSubjects } from "@fastchat/server/nats_wire";
 * new NatsSubjects("default", "fc-7701").heartbeat; // "fastchat.default.hb.fc-7701"
 * ```
 */
export class NatsSubjects {
  readonly #root: string;
  /** This server's heartbeats. */
  readonly heartbeat: string;
  /** This server's shutdown notice. */
  readonly bye: string;
  /** This server's presence changes. */
  readonly presence: string;
  /** Wildcards this server subscribes to, by kind. */
  readonly listen: {
    heartbeat: string;
    bye: string;
    presence: string;
    hello: string;
    ping: string;
    direct: string;
    fragment: string;
  };

  constructor(namespace: string, readonly me: string) {
    for (const [what, v] of [["namespace", namespace], ["server id", me]]) {
      if (!SUBJECT_TOKEN.test(v)) {
        throw new FastChatError(
          "INVALID_CONFIG",
          `with the NATS fabric the ${what} is a NATS subject token (1 to 64 of A-Z a-z 0-9 _ -): ${
            JSON.stringify(v.slice(0, 80))
          }`,
        );
      }
    }
    const root = this.#root = `fastchat.${namespace}`;
    this.heartbeat = `${root}.hb.${me}`;
    this.bye = `${root}.bye.${me}`;
    this.presence = `${root}.presence.${me}`;
    this.listen = {
      heartbeat: `${root}.hb.*`,
      bye: `${root}.bye.*`,
      presence: `${root}.presence.*`,
      hello: `${root}.hello.*.${me}`,
      ping: `${root}.ping.${me}`,
      direct: `${root}.srv.${me}.*`,
      fragment: `${root}.frag.${me}.*`,
    };
  }

  /** Frames for server `peer`. */
  to(peer: string): string {
    return `${this.#root}.srv.${peer}.${this.me}`;
  }

  /** Fragments of a frame for server `peer`. */
  fragmentsTo(peer: string): string {
    return `${this.#root}.frag.${peer}.${this.me}`;
  }

  /** Liveness requests to `peer`. */
  pingTo(peer: string): string {
    return `${this.#root}.ping.${peer}`;
  }

  /** Asks `peer` for its snapshot. */
  helloTo(peer: string): string {
    return `${this.#root}.hello.${this.me}.${peer}`;
  }

  /**
   * The sending server named by a subject we subscribed to (its last token,
   * or for hello the one before), or null if it is not a server id.
   */
  sender(subject: string): string | null {
    const tokens = subject.split(".");
    const from = tokens[2] === "hello" ? tokens[3] : tokens[tokens.length - 1];
    return from !== undefined && from !== this.me && SUBJECT_TOKEN.test(from) ? from : null;
  }
}

/** Senders whose fragmented frames may be gathered at once. */
const MAX_OPEN = 16;
/** Bytes of a fragment's header: index and count, u32 each. */
const FRAGMENT_HEADER = 8;

/**
 * Splits `frame` into fragments of at most `maxPayload` bytes each (header included).
 *
 * @example
 * ```ts
 * import { fragment } from "@fastchat/server/nats_wire";
 * fragment(new Uint8Array(100), 58).length; // 2
 * ```
 */
export function fragment(frame: Uint8Array, maxPayload: number): Uint8Array[] {
  const chunk = maxPayload - FRAGMENT_HEADER;
  if (chunk < 1) throw new FastChatError("INTERNAL", "NATS max_payload too small to fragment");
  const count = Math.ceil(frame.length / chunk);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const body = frame.subarray(i * chunk, Math.min(frame.length, (i + 1) * chunk));
    const f = new Uint8Array(FRAGMENT_HEADER + body.length);
    const v = new DataView(f.buffer);
    v.setUint32(0, i);
    v.setUint32(4, count);
    f.set(body, FRAGMENT_HEADER);
    out.push(f);
  }
  return out;
}

/**
 * Reassembles the fragments of frames from each sender. Fragments of one
 * frame arrive in order and back to back (one publisher, one subject); a
 * gap, a count past `maxFragments` or a frame past `maxBytes` discards what
 * was gathered for that sender (`BAD_FRAME`); at most 16 senders are
 * gathered at once.
 *
 * @example
 * ```ts
 * import { fragment, Reassembly } from "@fastchat/server/nats_wire";
 * const r = new Reassembly({ maxBytes: 1024, maxFragments: 8 });
 * let whole: Uint8Array | null = null;
 * for (const f of fragment(new Uint8Array(100).fill(7), 40)) whole = r.add("srv-2", f);
 * whole?.length; // 100
 * ```
 */
export class Reassembly {
  readonly #open = new Map<string, { count: number; parts: Uint8Array[]; bytes: number }>();

  constructor(readonly limits: { maxBytes: number; maxFragments: number }) {}

  /** Adds a fragment from `sender`; returns the whole frame after its last fragment. */
  add(sender: string, f: Uint8Array): Uint8Array | null {
    if (f.length <= FRAGMENT_HEADER) return this.#fail(sender, "fragment without a body");
    const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
    const index = v.getUint32(0), count = v.getUint32(4);
    if (count < 2 || count > this.limits.maxFragments || index >= count) {
      return this.#fail(sender, `fragment ${index} of ${count}`);
    }
    let open = this.#open.get(sender);
    if (index === 0) {
      if (!open && this.#open.size >= MAX_OPEN) {
        return this.#fail(sender, `more than ${MAX_OPEN} senders mid-frame`);
      }
      this.#open.set(sender, open = { count, parts: [], bytes: 0 });
    }
    if (!open || open.count !== count || open.parts.length !== index) {
      return this.#fail(sender, `fragment ${index} of ${count} out of sequence`);
    }
    const body = f.subarray(FRAGMENT_HEADER);
    open.bytes += body.length;
    if (open.bytes > this.limits.maxBytes) {
      return this.#fail(sender, `fragmented frame over ${this.limits.maxBytes} bytes`);
    }
    open.parts.push(body);
    if (open.parts.length < count) return null;
    this.#open.delete(sender);
    const whole = new Uint8Array(open.bytes);
    let at = 0;
    for (const p of open.parts) {
      whole.set(p, at);
      at += p.length;
    }
    return whole;
  }

  /** Drops what was gathered from `sender` (it left). */
  forget(sender: string): void {
    this.#open.delete(sender);
  }

  #fail(sender: string, why: string): never {
    this.#open.delete(sender);
    throw new FastChatError("BAD_FRAME", `NATS fragment from ${sender}: ${why}`);
  }
}

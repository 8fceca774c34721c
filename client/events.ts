/**
 * Events emitted by the client library, and printed one JSON object per
 * line by `deno task client -- --json`. Field names are a public contract.
 *
 * @example
 * ```ts
 * import type { ClientEvent } from "@fastchat/client/events";
 * const e: ClientEvent = { event: "sent", id: "abc123xyz", to: "bob" };
 * console.log(JSON.stringify(e));
 * ```
 * @module
 */

/** Every event the client emits. */
export type ClientEvent =
  | { event: "ready"; user: string; server: string; address: string }
  | { event: "message"; id: string; from: string; to: string; text: string; sent_at: number }
  /** A group message. */
  | { event: "message"; id: string; from: string; group: string; text: string; sent_at: number }
  /** A membership change, to every member (the created event lists the members). */
  | {
    event: "group";
    group: string;
    change: "created" | "added" | "removed" | "left" | "promoted";
    user: string;
    by: string;
    members?: string[];
  }
  /** Answer to `/group members`. */
  | { event: "members"; group: string; members: { user: string; admin: boolean }[] }
  /** Answer to `/group list`. */
  | { event: "groups"; groups: { name: string; admin: boolean; members: number }[] }
  /** A received file, complete and verified on disk. */
  | {
    event: "file";
    id: string;
    from: string;
    group?: string;
    name: string;
    path: string;
    bytes: number;
    sha256: string;
    mime: string;
    image?: { width: number; height: number };
  }
  /** Progress of a transfer (interactive display; not emitted in JSON mode below 1 MiB). */
  | {
    event: "progress";
    id: string;
    name: string;
    done: number;
    total: number;
    direction: "up" | "down";
  }
  /** The server stored the message `id` to `to` (a user, or `#group`), or delivered it first. */
  | { event: "sent"; id: string; to: string }
  | { event: "delivered"; id: string; to: string }
  | {
    event: "error";
    code: string;
    message: string;
    id?: string;
    /** Whom the refused message `id` (one this client sent) was for. */
    to?: string;
    from?: string;
    user?: string;
    /** When the server asked to wait before retrying (`RATE_LIMITED`), ms. */
    retryMs?: number;
  }
  | { event: "disconnected"; code: string; message: string }
  | { event: "reconnected"; user: string; server: string; address: string }
  | { event: "whoami"; user: string | null; server: string | null; address: string | null }
  | {
    event: "history";
    peer: string;
    messages: { id: string; from: string; to: string; text: string; sent_at: number }[];
  }
  | {
    event: "verify";
    user: string;
    peer: string;
    safety_number: string;
    /** After a key change: the safety number of the new, untrusted keys. */
    new_safety_number?: string;
  }
  | {
    event: "key_changed";
    user: string;
    old_fingerprint: string;
    new_fingerprint: string;
    message: string;
  }
  | { event: "trusted"; user: string }
  | { event: "logged_out"; user: string }
  | { event: "info"; message: string };

/**
 * Membership events of a group (`created`, `added`, `removed`, `left`,
 * `promoted`). Servers write them to the group log like messages and deliver
 * them in `msg` frames of kind `event`; unlike chat messages they are not
 * encrypted, because the server is the party that enforces membership and so
 * knows every fact they state. The body is a small JSON record, validated on
 * decode (size first, then shape).
 *
 * @example
 * ```ts
 * import { decodeGroupEvent, encodeGroupEvent } from "@fastchat/lib/group_event";
 * const body = encodeGroupEvent("team", { change: "added", user: "carol", by: "alice" });
 * decodeGroupEvent(body); // { group: "team", change: "added", user: "carol", by: "alice" }
 * ```
 * @module
 */
import { FastChatError } from "./errors.ts";
import { GROUP_NAME_RE, USERNAME_RE } from "./protocol.ts";
import { array, object, oneOf, optional, str } from "./validate.ts";

/** Kinds of membership change. */
export const GROUP_CHANGES = ["created", "added", "removed", "left", "promoted"] as const;

/**
 * A kind of membership change.
 *
 * @example
 * ```ts
 * const c: GroupChange = "promoted";
 * ```
 */
export type GroupChange = typeof GROUP_CHANGES[number];

/**
 * One membership change: `user` was `change`d by `by`; `created` lists the
 * initial `members`.
 *
 * @example
 * ```ts
 * const e: GroupEvent = { change: "removed", user: "bob", by: "alice" };
 * ```
 */
export interface GroupEvent {
  /** What happened. */
  change: GroupChange;
  /** Whom it happened to (for `created`, the creator). */
  user: string;
  /** Who did it (for `left`, the leaver; for an automatic promotion, the leaver). */
  by: string;
  /** Initial members, for `created`. */
  members?: string[];
}

/**
 * A decoded event with its group.
 *
 * @example
 * ```ts
 * const e: GroupEventRecord = { group: "team", change: "left", user: "bob", by: "bob" };
 * ```
 */
export interface GroupEventRecord extends GroupEvent {
  /** Group name. */
  group: string;
}

/** Most members an event may list (servers may raise the default group size up to this). */
export const MAX_EVENT_MEMBERS = 10_000;

/** Largest encoded event: a `created` event listing {@link MAX_EVENT_MEMBERS} fits. */
export const MAX_GROUP_EVENT_BYTES = 256 + 35 * MAX_EVENT_MEMBERS;

const user = str(1, 32, USERNAME_RE);
const validate = object({
  group: str(1, 32, GROUP_NAME_RE),
  change: oneOf(...GROUP_CHANGES),
  user,
  by: user,
  members: optional(array(user, 1, MAX_EVENT_MEMBERS)),
});

/**
 * Encodes an event of `group` for the group log.
 *
 * @example
 * ```ts
 * encodeGroupEvent("team", { change: "left", user: "bob", by: "bob" }); // Uint8Array
 * ```
 */
export function encodeGroupEvent(group: string, ev: GroupEvent): Uint8Array {
  const rec: GroupEventRecord = { group, change: ev.change, user: ev.user, by: ev.by };
  if (ev.members) rec.members = ev.members;
  return new TextEncoder().encode(JSON.stringify(rec));
}

/**
 * Decodes and validates an event body; throws `BAD_REQUEST` on anything else.
 *
 * @example
 * ```ts
 * const body = encodeGroupEvent("team", { change: "left", user: "bob", by: "bob" });
 * decodeGroupEvent(body).change; // "left"
 * ```
 */
export function decodeGroupEvent(body: Uint8Array): GroupEventRecord {
  if (!(body instanceof Uint8Array) || body.length > MAX_GROUP_EVENT_BYTES) {
    throw new FastChatError("BAD_REQUEST", "group event too large");
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new FastChatError("BAD_REQUEST", "group event is not valid JSON");
  }
  const v = validate(value, "event");
  const out: GroupEventRecord = { group: v.group, change: v.change, user: v.user, by: v.by };
  if (v.members) out.members = v.members;
  return out;
}

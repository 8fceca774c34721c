/**
 * Group names: 1–32 of `a-z 0-9 _ . -` (shown as `#name`). Clients check
 * them before anything is sent; servers check them again.
 *
 * @example
 * ```ts
 * import { checkGroupName } from "@fastchat/lib/group_name";
 * checkGroupName("team-1"); // "team-1"
 * ```
 * @module
 */
import { FastChatError } from "./errors.ts";
import { GROUP_NAME_RE } from "./protocol.ts";

/**
 * Returns `name` if it is a valid group name; `INVALID_GROUP_NAME` otherwise.
 *
 * @example
 * ```ts
 * checkGroupName("release-2.0"); // "release-2.0" ("Team" would throw INVALID_GROUP_NAME)
 * ```
 */
export function checkGroupName(name: unknown): string {
  if (typeof name !== "string" || !GROUP_NAME_RE.test(name)) {
    throw new FastChatError(
      "INVALID_GROUP_NAME",
      `invalid group name ${JSON.stringify(String(name).slice(0, 40))}: 1-32 of a-z 0-9 _ . -`,
    );
  }
  return name;
}

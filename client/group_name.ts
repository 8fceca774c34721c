/**
 * Group names as users type them: 1–32 of `a-z 0-9 _ . -` (shown as
 * `#name`). Checked on the client before anything is sent; the server checks
 * again.
 *
 * @example
 * ```ts
 * import { checkGroupName } from "@fastchat/client/group_name";
 * checkGroupName("team-1"); // "team-1"
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { GROUP_NAME_RE } from "@fastchat/lib/protocol";

/**
 * Returns `name` if it is a valid group name; `INVALID_GROUP_NAME` otherwise.
 *
 * @example
 * ```ts
 * checkGroupName("release-2.0"); // "release-2.0" ("Team" would throw INVALID_GROUP_NAME)
 * ```
 */
export function checkGroupName(name: string): string {
  if (!GROUP_NAME_RE.test(name)) {
    throw new FastChatError(
      "INVALID_GROUP_NAME",
      `invalid group name ${JSON.stringify(name.slice(0, 40))}: 1-32 of a-z 0-9 _ . -`,
    );
  }
  return name;
}

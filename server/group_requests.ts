/**
 * Answers a client's `group` requests: membership changes go through the
 * {@link GroupStore} (which enforces who may do what and writes the events),
 * then the events are fanned out by the router like messages; `members` and
 * `list` are read-only. Every refusal is a typed error the client shows.
 *
 * @example
 * ```ts
 * import { GroupRequests } from "@fastchat/server/group_requests";
 * declare const requests: GroupRequests;
 * const reply = await requests.handle("alice", { t: "group", rid: 1, op: "create", group: "team", users: ["bob"] });
 * reply; // { t: "ok", rid: 1 }
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import type { ClientFrameOf, ServerFrameOf } from "@fastchat/lib/protocol";
import type { GroupLogEntry } from "./group_log.ts";
import { checkGroupName } from "@fastchat/lib/group_name";
import type { GroupStore } from "./group_store.ts";

/** Serves `group` requests for a server's sessions. */
export class GroupRequests {
  readonly #store: GroupStore;
  readonly #publish: (entries: GroupLogEntry[]) => void;

  /** Changes through `store`; events go to `publish` (the router). */
  constructor(store: GroupStore, publish: (entries: GroupLogEntry[]) => void) {
    this.#store = store;
    this.#publish = publish;
  }

  /** Runs request `f` for `user`; resolves to the reply frame. */
  async handle(user: string, f: ClientFrameOf<"group">): Promise<ServerFrameOf<"ok">> {
    if (f.op === "list") {
      const groups = await this.#store.groupsOf(user);
      return { t: "ok", rid: f.rid, groups: groups.map((g) => [g.name, g.admin, g.members]) };
    }
    const group = checkGroupName(f.group);
    if (f.op === "members") {
      const members = await this.#store.members(user, group);
      return { t: "ok", rid: f.rid, members: members.map((m) => [m.user, m.admin]) };
    }
    let entries: GroupLogEntry[];
    switch (f.op) {
      case "create":
        entries = await this.#store.create(user, group, f.users ?? []);
        break;
      case "leave":
        entries = await this.#store.leave(user, group);
        break;
      default: {
        if (f.user === undefined) {
          throw new FastChatError("BAD_REQUEST", `${f.op} needs a user`, { field: "user" });
        }
        const op = f.op === "add" ? "add" : f.op === "remove" ? "remove" : "promote";
        entries = await this.#store[op](user, group, f.user);
      }
    }
    this.#publish(entries);
    return { t: "ok", rid: f.rid };
  }
}

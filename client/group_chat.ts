/**
 * The client's side of groups: membership requests, and sending with sender
 * keys. Before a message goes to a group, every current member who lacks my
 * sending key gets it in a pairwise end-to-end-encrypted direct message;
 * the message itself is then encrypted once with that key. Membership
 * events keep a member list per group (so a send needs no round trip), hand
 * my current key to members who join, and make the key stale when anyone
 * leaves or is removed, so the next message uses a fresh key the departed
 * member never receives.
 *
 * @example
 * ```ts
 * import { GroupChat } from "@fastchat/client/group_chat";
 * declare const groups: GroupChat;
 * await groups.request({ op: "create", group: "team", users: ["bob"] });
 * const id = await groups.send("team", new TextEncoder().encode("hello team"));
 * ```
 * @module
 */
import type { GroupEventRecord } from "@fastchat/lib/group_event";
import type { ClientFrameOf, ServerFrameOf } from "@fastchat/lib/protocol";
import { sealGroupContent } from "./message_body.ts";
import { encodeContent } from "./message_content.ts";
import type { SenderKeyRing } from "./sender_keys.ts";

/**
 * What {@link GroupChat} needs from the client.
 *
 * @example
 * ```ts
 * declare const deps: GroupChatDeps;
 * deps.me(); // "alice"
 * ```
 */
export interface GroupChatDeps {
  /** The logged-in user. */
  me(): string;
  /** Sends a request and resolves with the server's reply. */
  request(f: Omit<ClientFrameOf<"group">, "rid" | "t">): Promise<ServerFrameOf<"ok">>;
  /** Sends encoded content to one user as a direct message. */
  sendDirect(to: string, content: Uint8Array): Promise<string>;
  /** Queues a sealed group frame like any message (outbox, resend, `sent`). */
  sendFrame(frame: ClientFrameOf<"send">): Promise<void>;
  /** My and others' group keys. */
  ring: SenderKeyRing;
  /** The ring changed: save it. */
  onChange(): void;
}

/** Group requests and sender-key sending. */
export class GroupChat {
  readonly #d: GroupChatDeps;
  readonly #members = new Map<string, Set<string>>();

  /** Uses `deps` for everything it sends. */
  constructor(deps: GroupChatDeps) {
    this.#d = deps;
  }

  /** Forgets the member lists (a new session: another user, or the same one later). */
  reset(): void {
    this.#members.clear();
  }

  /** A membership request; resolves with the reply (members/groups for the listings). */
  async request(
    r: Omit<ClientFrameOf<"group">, "rid" | "t">,
  ): Promise<ServerFrameOf<"ok">> {
    const ok = await this.#d.request(r);
    if (r.op === "members" && r.group && ok.members) {
      this.#members.set(r.group, new Set(ok.members.map(([u]) => u)));
    }
    return ok;
  }

  /** Sends encoded content to `group`; resolves with the message id once queued. */
  async send(group: string, content: Uint8Array, file?: string): Promise<string> {
    const me = this.#d.me();
    let members = this.#members.get(group);
    if (!members) {
      await this.request({ op: "members", group }); // NOT_GROUP_MEMBER, UNKNOWN_GROUP
      members = this.#members.get(group)!;
    }
    const ring = this.#d.ring;
    const key = ring.sendingKey(group);
    const missing = ring.membersWithout(group, members, me);
    if (missing.length > 0) {
      const sk = encodeContent({ type: "sender_key", group, kid: key.kid, key: key.raw });
      for (const m of missing) await this.#d.sendDirect(m, sk);
      ring.markSent(group, missing);
      this.#d.onChange();
    }
    const frame = sealGroupContent(me, group, content, key.kid, key.key);
    if (file !== undefined) frame.file = file;
    await this.#d.sendFrame(frame);
    return frame.id;
  }

  /** Follows a membership event (see the module doc). */
  onEvent(ev: GroupEventRecord): void {
    const me = this.#d.me();
    const ring = this.#d.ring;
    const members = this.#members.get(ev.group);
    switch (ev.change) {
      case "created":
        this.#members.set(ev.group, new Set(ev.members ?? [ev.user]));
        return;
      case "added": {
        members?.add(ev.user);
        // A message of mine may already be on its way to the newcomer (sent
        // before this event reached me): hand over the key it needs now.
        const key = ev.user === me ? undefined : ring.currentKey(ev.group);
        if (!key || ring.membersWithout(ev.group, [ev.user], me).length === 0) return;
        const sk = encodeContent({
          type: "sender_key",
          group: ev.group,
          kid: key.kid,
          key: key.raw,
        });
        this.#d.sendDirect(ev.user, sk).then(() => {
          ring.markSent(ev.group, [ev.user]);
          this.#d.onChange();
        }, () => {
          // Not fatal: my next message to the group hands it over (membersWithout).
        });
        return;
      }
      case "promoted":
        return;
      case "removed":
      case "left":
        if (ev.user === me) {
          this.#members.delete(ev.group);
          ring.forgetGroup(ev.group);
        } else {
          members?.delete(ev.user);
          ring.memberGone(ev.group, ev.user);
        }
        this.#d.onChange();
        return;
    }
  }
}

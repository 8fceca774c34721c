/**
 * The groups of a `--mode group` run: clients `0..N-1` are cut into
 * consecutive groups of `--group-size` (client `i` is in group
 * `floor(i / size)`); the first member of each group creates it with the
 * others, and the first `--group-senders` members of each group send to it
 * (all of them by default). Pure functions, no I/O: the worker, the parent
 * and the analysis all derive the same plan from the configuration, and
 * `run.json` records it (`groups`).
 *
 * @example
 * ```ts
 * import { groupPlan } from "./group_plan.ts";
 * const plan = groupPlan({ seed: "s1", clients: 6, groupSize: 3 });
 * plan.map((g) => g.name); // ["ps1-0", "ps1-1"]
 * plan[1].members; // ["perf-s1-3", "perf-s1-4", "perf-s1-5"]
 * ```
 * @module
 */
import { userName } from "./run_config.ts";

/**
 * One group of a run: its name (without `#`) and its members, the admin first.
 *
 * @example
 * ```ts
 * import type { GroupMembership } from "./group_plan.ts";
 * const g: GroupMembership = { name: "ps1-0", members: ["perf-s1-0", "perf-s1-1"] };
 * ```
 */
export interface GroupMembership {
  name: string;
  /** User names; `members[0]` created the group. */
  members: string[];
}

/**
 * The name of group `k` of the run with `seed`: `p<seed>-<k>` (at most 32
 * characters of `[a-z0-9_.-]`, like every group name).
 *
 * @example
 * ```ts
 * import { groupName } from "./group_plan.ts";
 * groupName("abc", 2); // "pabc-2"
 * ```
 */
export function groupName(seed: string, k: number): string {
  return `p${seed}-${k}`;
}

/**
 * Index of the group client `index` belongs to.
 *
 * @example
 * ```ts
 * import { groupIndexOf } from "./group_plan.ts";
 * groupIndexOf(7, 3); // 2
 * ```
 */
export function groupIndexOf(index: number, groupSize: number): number {
  return Math.floor(index / groupSize);
}

/**
 * Every group of a run (`clients` a multiple of `groupSize`).
 *
 * @example
 * ```ts
 * import { groupPlan } from "./group_plan.ts";
 * groupPlan({ seed: "x", clients: 4, groupSize: 2 }).length; // 2
 * ```
 */
export function groupPlan(
  cfg: { seed: string; clients: number; groupSize: number },
): GroupMembership[] {
  const out: GroupMembership[] = [];
  for (let k = 0; k * cfg.groupSize < cfg.clients; k++) {
    const members: string[] = [];
    for (let i = k * cfg.groupSize; i < Math.min((k + 1) * cfg.groupSize, cfg.clients); i++) {
      members.push(userName(cfg.seed, i));
    }
    out.push({ name: groupName(cfg.seed, k), members });
  }
  return out;
}

/**
 * A client's place in its group (see {@link groupRole}).
 *
 * @example
 * ```ts
 * import type { GroupRole } from "./group_plan.ts";
 * const r: GroupRole = { group: "px-0", admin: true, sender: true, others: ["perf-x-1"] };
 * ```
 */
export interface GroupRole {
  /** Group name, without `#`. */
  group: string;
  /** Creates the group (its first member). */
  admin: boolean;
  /** Posts to the group. */
  sender: boolean;
  /** The admin's fellow members (empty for the others). */
  others: string[];
}

/**
 * Client `index`'s role in its group: the group name, whether it creates the
 * group (and with whom), and whether it sends.
 *
 * @example
 * ```ts
 * import { groupRole } from "./group_plan.ts";
 * groupRole({ seed: "x", clients: 4, groupSize: 2, groupSenders: 1 }, 3);
 * // { group: "px-1", admin: false, sender: false, others: [] }
 * ```
 */
export function groupRole(
  cfg: { seed: string; clients: number; groupSize: number; groupSenders: number },
  index: number,
): GroupRole {
  const k = groupIndexOf(index, cfg.groupSize);
  const first = k * cfg.groupSize;
  const admin = index === first;
  const others: string[] = [];
  if (admin) {
    for (let i = first + 1; i < Math.min(first + cfg.groupSize, cfg.clients); i++) {
      others.push(userName(cfg.seed, i));
    }
  }
  return {
    group: groupName(cfg.seed, k),
    admin,
    sender: index - first < cfg.groupSenders,
    others,
  };
}

import { expect } from "expect";
import { groupIndexOf, groupName, groupPlan, groupRole } from "./group_plan.ts";
import { GROUP_NAME_RE } from "@fastchat/lib/protocol";

Deno.test("groupPlan: consecutive groups of the given size, every client in exactly one", () => {
  const plan = groupPlan({ seed: "s1", clients: 100, groupSize: 10 });
  expect(plan).toHaveLength(10);
  const all = plan.flatMap((g) => g.members);
  expect(new Set(all).size).toBe(100);
  expect(plan[3]).toEqual({
    name: "ps1-3",
    members: Array.from({ length: 10 }, (_, i) => `perf-s1-${30 + i}`),
  });
  expect(groupPlan({ seed: "s1", clients: 1000, groupSize: 1000 })).toHaveLength(1);
});

Deno.test("groupRole: the first member creates the group with the others; the first K send", () => {
  const cfg = { seed: "x", clients: 6, groupSize: 3, groupSenders: 2 };
  expect(groupRole(cfg, 3)).toEqual({
    group: "px-1",
    admin: true,
    sender: true,
    others: ["perf-x-4", "perf-x-5"],
  });
  expect(groupRole(cfg, 4)).toEqual({ group: "px-1", admin: false, sender: true, others: [] });
  expect(groupRole(cfg, 5)).toEqual({ group: "px-1", admin: false, sender: false, others: [] });
  expect(groupIndexOf(5, 3)).toBe(1);
});

Deno.test("groupName: valid group names for the longest seeds user names allow", () => {
  // perf-<seed>-<i> is at most 32 characters, so the seed is at most 25.
  const seed = "a".repeat(25);
  expect(GROUP_NAME_RE.test(groupName(seed, 9999))).toBe(true);
});

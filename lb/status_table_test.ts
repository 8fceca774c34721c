import { expect } from "expect";
import type { ServerSummary } from "@fastchat/lib/cluster/server_directory";
import { formatAge, formatServerTable } from "./status_table.ts";

function row(id: string, extra: Partial<ServerSummary> = {}): ServerSummary {
  return {
    id,
    host: "127.0.0.1",
    port: 7701,
    tls: false,
    clients: 0,
    draining: false,
    ageMs: 300,
    live: true,
    ...extra,
  };
}

Deno.test("formatAge picks a readable unit", () => {
  expect(formatAge(0)).toBe("0.0s");
  expect(formatAge(420)).toBe("0.4s");
  expect(formatAge(9_999)).toBe("9.9s");
  expect(formatAge(12_345)).toBe("12s");
  expect(formatAge(90_000)).toBe("1m30s");
  expect(formatAge(2 * 3600_000 + 5 * 60_000)).toBe("2h05m");
  expect(formatAge(3 * 86_400_000)).toBe("3d00h");
  expect(formatAge(-1)).toBe("?");
});

Deno.test("formatServerTable aligns columns and summarises", () => {
  const text = formatServerTable([
    row("fc-7701", { clients: 12, tls: true }),
    row("fc-7702", { port: 7702, clients: 3, draining: true, ageMs: 1200 }),
    row("fc-old", { port: 7703, clients: 5, ageMs: 60_000, live: false }),
    row("fc-gone", { port: 7704, draining: true, ageMs: 9_000, live: false }),
  ]);
  expect(text.split("\n")).toEqual([
    "ID       ADDRESS         TLS  CLIENTS  AGE    STATE",
    "fc-7701  127.0.0.1:7701  yes       12  0.3s   live",
    "fc-7702  127.0.0.1:7702  no         3  1.2s   draining",
    "fc-old   127.0.0.1:7703  no         5  1m00s  dead",
    "fc-gone  127.0.0.1:7704  no         0  9.0s   dead",
    "2 live servers (1 accepting clients), 15 clients, 2 dead",
  ]);
});

Deno.test("formatServerTable with no servers gives a hint", () => {
  expect(formatServerTable([])).toMatch(/no chat servers registered/);
  expect(formatServerTable([row("a", { clients: 1 })]).split("\n").at(-1)).toBe(
    "1 live server, 1 client",
  );
});

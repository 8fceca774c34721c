import { expect } from "expect";
import {
  type AuditedClient,
  type AuditedPool,
  auditWarmup,
  checkGaps,
  describeGaps,
  missingGaps,
  type WarmupGap,
} from "./warmup_audit.ts";
import { WarmupLedger } from "./warmup_ledger.ts";
import type { WorkerCommand, WorkerMessage } from "./worker_protocol.ts";

const client = (user: string, server: string): AuditedClient => ({
  user,
  server,
  warmLedger: new WarmupLedger(),
});

/** Workers answering as load_worker.ts does, each with its own clients. */
function poolOf(workers: AuditedClient[][]): AuditedPool & { commands: WorkerCommand[] } {
  const inbox: WorkerMessage[][] = workers.map(() => []);
  const commands: WorkerCommand[] = [];
  return {
    commands,
    broadcast(cmd) {
      commands.push(cmd);
      workers.forEach((clients, worker) => {
        if (cmd.cmd === "warm_missing") {
          inbox[worker].push({ t: "warm_missing", worker, gaps: missingGaps(clients) });
        } else if (cmd.cmd === "warm_check") {
          inbox[worker].push({ t: "warm_checked", worker, gaps: checkGaps(clients, cmd.gaps) });
        }
      });
      return Promise.resolve();
    },
    waitAll<T extends WorkerMessage["t"]>(t: T) {
      return Promise.resolve(inbox.map((msgs) => {
        const i = msgs.findIndex((m) => m.t === t);
        return msgs.splice(i, 1)[0] as Extract<WorkerMessage, { t: T }>;
      }));
    },
  };
}

Deno.test("auditWarmup: senders list missing receipts, recipients on other workers complete them", async () => {
  const a = client("perf-x-0", "srv-1"), b = client("perf-x-1", "srv-2");
  const c = client("perf-x-2", "srv-1");
  a.warmLedger.sent("m-ab", b.user);
  a.warmLedger.sent("m-ac", c.user);
  a.warmLedger.receipt("m-ac"); // arrived
  c.warmLedger.sent("m-cb", b.user);
  expect(c.warmLedger.confirm("m-cb")).toBe(true); // stored: "sent" came, the receipt did not
  expect(c.warmLedger.confirm("m-zz")).toBe(false); // not a warm-up message
  c.warmLedger.sent("m-cg", "#group");
  b.warmLedger.displayed(a.user, "m-ab");
  b.warmLedger.disconnected();
  const pool = poolOf([[a, c], [b]]);
  const gaps = await auditWarmup(pool);
  const byId = new Map(gaps.map((g) => [g.id, g]));
  expect([...byId.keys()].sort()).toEqual(["m-ab", "m-cb", "m-cg"]);
  expect(byId.get("m-ab")).toEqual({
    sender: "perf-x-0",
    recipient: "perf-x-1",
    id: "m-ab",
    senderServer: "srv-1",
    senderDisconnects: 0,
    confirmed: false,
    displayed: true,
    recipientServer: "srv-2",
    recipientDisconnects: 1,
  });
  expect(byId.get("m-cb")?.displayed).toBe(false);
  expect(byId.get("m-cb")?.confirmed).toBe(true);
  expect(byId.get("m-cg")?.displayed).toBeUndefined(); // a group: no one client
  expect(describeGaps(gaps, 1)).toBe(
    '3 missing (recipient displayed 1, did not 1, unknown 1; sender got "sent" 1; ' +
      "a client reconnected: 2); " +
      "perf-x-0@srv-1 -> perf-x-1@srv-2 m-ab displayed, never sent (disconnects: 0/1); …",
  );
});

Deno.test("auditWarmup: nothing missing, no second round", async () => {
  const a = client("perf-x-0", "srv-1");
  const pool = poolOf([[a]]);
  expect(await auditWarmup(pool)).toEqual([]);
  expect(pool.commands).toEqual([{ cmd: "warm_missing" }]);
  expect(describeGaps([])).toBe("0 missing");
});

Deno.test("describeGaps: a recipient that did not answer is unknown", () => {
  const gap: WarmupGap = {
    sender: "s",
    recipient: "r",
    id: "m",
    senderServer: "srv-1",
    senderDisconnects: 0,
    confirmed: true,
  };
  expect(describeGaps([gap])).toBe(
    '1 missing (recipient displayed 0, did not 0, unknown 1; sender got "sent" 1; ' +
      "a client reconnected: 0); s@srv-1 -> r@? m ?, sent",
  );
});

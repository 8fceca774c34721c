import { expect } from "expect";
import { ConnectionLedger } from "./connection_ledger.ts";
import { ReconnectTracker } from "./reconnect_mode.ts";

const ready = (servers: Record<string, [string, string]>) => ({
  t: "ready" as const,
  worker: 0,
  loggedIn: Object.keys(servers).length,
  kept: 0,
  rateLimited: 0,
  servers,
});

Deno.test("ConnectionLedger: servers and addresses from ready, clients per server", () => {
  const l = new ConnectionLedger();
  l.record(ready({ a: ["srv-1", "127.0.0.1:7001"], b: ["srv-2", "127.0.0.1:7002"] }));
  l.record(ready({ c: ["srv-1", "127.0.0.1:7001"] }));
  expect(l.serverOf).toEqual(new Map([["a", "srv-1"], ["b", "srv-2"], ["c", "srv-1"]]));
  expect(l.serverAddress).toEqual(
    new Map([["srv-1", "127.0.0.1:7001"], ["srv-2", "127.0.0.1:7002"]]),
  );
  expect(l.clientsPerServer()).toEqual({ "srv-1": 2, "srv-2": 1 });
  // Other messages change nothing.
  l.record({ t: "hello", worker: 0, clients: 3 });
  l.record({ t: "persisted", worker: 0 });
  expect(l.clientsPerServer()).toEqual({ "srv-1": 2, "srv-2": 1 });
  expect(l.disconnects + l.reconnects).toBe(0);
});

Deno.test("ConnectionLedger: disconnects by phase and code; reconnects move the client", () => {
  const l = new ConnectionLedger();
  l.record(ready({ a: ["srv-1", "h:1"], b: ["srv-1", "h:1"] }));
  l.record({ t: "disconnected", worker: 0, user: "a", timeMs: 1, code: "1006" });
  l.messaging = true;
  l.record({ t: "disconnected", worker: 0, user: "a", timeMs: 2, code: "1006" });
  l.record({ t: "disconnected", worker: 0, user: "b", timeMs: 3, code: "1006" });
  l.record({ t: "disconnected", worker: 0, user: "b", timeMs: 4, code: "1001" });
  l.record({ t: "reconnected", worker: 0, user: "a", timeMs: 5, server: "srv-2" });
  expect(l.disconnects).toBe(4);
  expect(l.disconnectCodes).toEqual({ "login:1006": 1, "messaging:1006": 2, "messaging:1001": 1 });
  expect(l.reconnects).toBe(1);
  expect(l.clientsPerServer()).toEqual({ "srv-2": 1, "srv-1": 1 });
});

Deno.test("ConnectionLedger: drops and reconnects reach the --kill-one tracker once it is set", () => {
  const l = new ConnectionLedger();
  l.record({ t: "disconnected", worker: 0, user: "a", timeMs: 900, code: "1006" });
  l.tracker = new ReconnectTracker("srv-1", ["a", "b"], 1000);
  l.record({ t: "disconnected", worker: 0, user: "a", timeMs: 1010, code: "1006" });
  l.record({ t: "reconnected", worker: 0, user: "a", timeMs: 1200, server: "srv-2" });
  l.record({ t: "reconnected", worker: 1, user: "b", timeMs: 1300, server: "srv-3" });
  expect(l.tracker.allBack).toBe(true);
  expect(l.tracker.summary()).toMatchObject({
    disconnected: 1,
    recoveryMs: 300,
    reconnectedTo: { "srv-2": 1, "srv-3": 1 },
  });
});

import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { assertCode } from "@fastchat/testing/assert_code";
import { checkReadable, componentArgs, parsePeerPingMs } from "./start_flags.ts";
import { checkPeerPingMs, MAX_PEER_PING_MS, MIN_PEER_PING_MS } from "./peer_link.ts";

const CERT = fileURLToPath(new URL("./testdata/tls/server.pem", import.meta.url));

Deno.test("componentArgs: nothing by default", () => {
  const a = componentArgs({ servers: 3 });
  expect(a.serverArgs).toEqual([]);
  expect(a.lbArgs).toEqual([]);
  expect([1, 2, 3].map(a.serverArgsFor)).toEqual([[], [], []]);
});

Deno.test("componentArgs: TLS for every server and the load balancer", () => {
  const a = componentArgs({ servers: 2, tlsCert: "c.pem", tlsKey: "k.pem" });
  const tls = ["--tls-cert", "c.pem", "--tls-key", "k.pem"];
  expect(a.serverArgs).toEqual(tls);
  expect(a.lbArgs).toEqual(tls);
  expect(a.serverArgsFor(1)).toEqual([]);
  assertCode(() => componentArgs({ servers: 1, tlsCert: "c.pem" }), "INVALID_CONFIG");
  assertCode(() => componentArgs({ servers: 1, tlsKey: "k.pem" }), "INVALID_CONFIG");
});

Deno.test("componentArgs: metrics on P for the load balancer, P+n for server n; 0 for all", () => {
  const a = componentArgs({ servers: 3, metricsPort: 9100, tlsCert: "c", tlsKey: "k" });
  expect(a.lbArgs).toEqual(["--tls-cert", "c", "--tls-key", "k", "--metrics-port", "9100"]);
  expect([1, 2, 3].map(a.serverArgsFor)).toEqual([
    ["--metrics-port", "9101"],
    ["--metrics-port", "9102"],
    ["--metrics-port", "9103"],
  ]);
  const any = componentArgs({ servers: 2, metricsPort: 0 });
  expect(any.lbArgs).toEqual(["--metrics-port", "0"]);
  expect(any.serverArgsFor(2)).toEqual(["--metrics-port", "0"]);
  expect(componentArgs({ servers: 2, metricsPort: 65533 }).serverArgsFor(2)).toEqual([
    "--metrics-port",
    "65535",
  ]);
  const err = assertCode(() => componentArgs({ servers: 3, metricsPort: 65533 }), "INVALID_CONFIG");
  expect(err.message).toContain("65534..65536");
});

Deno.test("checkReadable: a missing file is named with its flag", async () => {
  await checkReadable({ "tls-cert": CERT, "tls-key": undefined });
  const err = await assertCode(
    checkReadable({ "tls-cert": CERT, "tls-key": "/nonexistent/key.pem" }),
    "INVALID_CONFIG",
  );
  expect(err.message).toContain("--tls-key /nonexistent/key.pem: cannot read it");
});

Deno.test("componentArgs: --peer-ping-ms goes to every server, not the load balancer", () => {
  const a = componentArgs({ servers: 2, peerPingMs: 250 });
  expect(a.serverArgs).toEqual(["--peer-ping-ms", "250"]);
  expect(a.lbArgs).toEqual([]);
  expect(a.serverArgsFor(1)).toEqual([]);
});

Deno.test("parsePeerPingMs: whole milliseconds within bounds, direct links only", () => {
  expect(parsePeerPingMs(undefined, "direct")).toBeUndefined();
  expect(parsePeerPingMs(undefined, "nats")).toBeUndefined();
  expect(parsePeerPingMs("200", "direct")).toBe(200);
  expect(parsePeerPingMs(String(MIN_PEER_PING_MS), "direct")).toBe(MIN_PEER_PING_MS);
  expect(parsePeerPingMs(String(MAX_PEER_PING_MS), "direct")).toBe(MAX_PEER_PING_MS);
  for (const bad of ["0", "-5", "1.5", "1e3", "", "abc", "49", String(MAX_PEER_PING_MS + 1)]) {
    const err = assertCode(() => parsePeerPingMs(bad, "direct"), "INVALID_CONFIG");
    expect(err.message).toContain("--peer-ping-ms");
  }
  const err = assertCode(() => parsePeerPingMs("500", "nats"), "INVALID_CONFIG");
  expect(err.message).toContain("--fabric direct");
  assertCode(() => checkPeerPingMs(Number.NaN), "INVALID_CONFIG");
  assertCode(() => checkPeerPingMs(Infinity), "INVALID_CONFIG");
});

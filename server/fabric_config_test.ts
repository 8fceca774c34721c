/** The fabric flags: defaults, NATS URLs, namespaces, and clear errors for bad values. */
import { expect } from "expect";
import { assertCode } from "@fastchat/testing";
import {
  fabricServerArgs,
  natsUrlEnv,
  parseFabricFlags,
  parseNatsUrls,
  redactNatsUrl,
} from "./fabric_config.ts";

Deno.test("fabric flags: direct by default, nats when asked or when URLs are given", () => {
  expect(parseFabricFlags({}, "nats://ignored:4222")).toEqual({ kind: "direct" });
  expect(parseFabricFlags({ fabric: "direct" }, undefined)).toEqual({ kind: "direct" });
  // No namespace given: none chosen here, each server takes its database's cluster id.
  expect(parseFabricFlags({ nats: ["nats://a:4222"] }, undefined)).toEqual({
    kind: "nats",
    servers: ["nats://a:4222"],
  });
  expect(parseFabricFlags({ fabric: "nats", namespace: "blue" }, "nats://e:4222,tls://f:4443"))
    .toEqual({ kind: "nats", servers: ["nats://e:4222", "tls://f:4443"], namespace: "blue" });
  // Several URLs: repeated flags, commas, bare host:port, credentials.
  expect(parseNatsUrls(["nats://a:1,b:2", "nats://u:p@c:3"])).toEqual([
    "nats://a:1",
    "b:2",
    "nats://u:p@c:3",
  ]);
});

Deno.test("fabric flags: bad values are INVALID_CONFIG", () => {
  const bad: [Parameters<typeof parseFabricFlags>[0], string | undefined][] = [
    [{ fabric: "carrier-pigeon" }, undefined],
    [{ fabric: "nats" }, undefined], // no URL at all
    [{ fabric: "direct", nats: ["nats://a:4222"] }, undefined],
    [{ namespace: "x" }, undefined],
    [{ nats: ["http://a:4222"] }, undefined],
    [{ nats: ["nats://a:4222/path"] }, undefined],
    [{ nats: ["nats://a:4222,"] }, undefined],
    [{ nats: ["nats://:4222"] }, undefined],
    [{ nats: ["nats://a:99999"] }, undefined],
    [{ fabric: "nats", namespace: "a.b" }, "nats://a:4222"],
    [{ fabric: "nats", namespace: "" }, "nats://a:4222"],
  ];
  for (const [flags, env] of bad) {
    const e = assertCode(() => parseFabricFlags(flags, env), "INVALID_CONFIG");
    expect(e.message).toMatch(/--(fabric|nats)/);
  }
});

Deno.test("fabric flags: what the launcher passes to server processes", () => {
  const cfg = { kind: "nats" as const, servers: ["nats://u:p@a:1", "b:2"], namespace: "t1" };
  expect(fabricServerArgs(cfg)).toEqual(["--fabric", "nats", "--nats-namespace", "t1"]);
  // URLs (credentials) travel in the environment, never on a command line.
  expect(natsUrlEnv(cfg)).toEqual({ NATS_URL: "nats://u:p@a:1,b:2" });
  expect(fabricServerArgs({ kind: "direct" })).toEqual([]);
  // No namespace: the servers derive it from their (shared) database.
  expect(fabricServerArgs({ kind: "nats", servers: ["b:2"] })).toEqual(["--fabric", "nats"]);
  expect(natsUrlEnv({ kind: "direct" })).toEqual({});
  expect(redactNatsUrl("nats://u:p@a:1")).toBe("nats://***@a:1");
  expect(redactNatsUrl("b:2")).toBe("b:2");
});

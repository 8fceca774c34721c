import { expect } from "expect";
import { assertCode } from "@fastchat/testing/assert_code";
import { connectStore } from "@fastchat/db/connect";
import { DB_KINDS, openTestDb } from "@fastchat/testing";
import { advertisedAddresses } from "./advertise.ts";
import { ChatServer } from "./chat_server.ts";
import { ServerRegistry } from "./server_registry.ts";

Deno.test("advertisedAddresses: the bind host by default, loopback for a bind-all one", () => {
  expect(advertisedAddresses({ host: "10.0.0.5" })).toEqual({
    advertiseHost: "10.0.0.5",
    advertisePort: undefined,
    advertisePeer: { host: "10.0.0.5" },
  });
  expect(advertisedAddresses({ host: "0.0.0.0" }).advertiseHost).toBe("127.0.0.1");
  expect(advertisedAddresses({ host: "::", peerHost: "::" }).advertisePeer).toEqual({
    host: "127.0.0.1",
  });
});

Deno.test("advertisedAddresses: --advertise host:port publishes its port, not the bound one", () => {
  expect(advertisedAddresses({ host: "0.0.0.0", advertise: "203.0.113.7:443" })).toEqual({
    advertiseHost: "203.0.113.7",
    advertisePort: 443,
    advertisePeer: { host: "203.0.113.7" },
  });
  expect(advertisedAddresses({ host: "::", advertise: "[2001:db8::7]:7701" }).advertiseHost)
    .toBe("2001:db8::7");
});

Deno.test("advertisedAddresses: --advertise-host keeps working (the bound port goes with it)", () => {
  expect(advertisedAddresses({ host: "0.0.0.0", advertiseHost: "10.0.0.5" })).toEqual({
    advertiseHost: "10.0.0.5",
    advertisePort: undefined,
    advertisePeer: { host: "10.0.0.5" },
  });
});

Deno.test("advertisedAddresses: peers dial --advertise-peer, else a specific --peer-host", () => {
  const base = { host: "0.0.0.0", advertise: "chat.example.org:443" };
  expect(advertisedAddresses({ ...base, peerHost: "10.9.0.5" }).advertisePeer).toEqual({
    host: "10.9.0.5",
  });
  expect(
    advertisedAddresses({ ...base, peerHost: "10.9.0.5", advertisePeer: "198.51.100.2:7800" })
      .advertisePeer,
  ).toEqual({ host: "198.51.100.2", port: 7800 });
});

Deno.test("advertisedAddresses: conflicting, malformed or bind-all addresses are INVALID_CONFIG", () => {
  const bad = [
    { host: "0.0.0.0", advertise: "10.0.0.5:7701", advertiseHost: "10.0.0.5" },
    { host: "0.0.0.0", advertise: "10.0.0.5" },
    { host: "0.0.0.0", advertise: "10.0.0.5:0" },
    { host: "0.0.0.0", advertise: "0.0.0.0:7701" },
    { host: "0.0.0.0", advertiseHost: "::" },
    { host: "0.0.0.0", advertisePeer: "10.0.0.5" },
    { host: "0.0.0.0", advertisePeer: "0.0.0.0:7800" },
  ];
  for (const flags of bad) assertCode(() => advertisedAddresses(flags), "INVALID_CONFIG");
});

for (const kind of DB_KINDS) {
  Deno.test(`ChatServer (${kind}) publishes the advertised client and peer addresses, not the bound ones`, async () => {
    const db = await openTestDb(kind);
    const sql = connectStore(db.url, { max: 2 });
    const server = await ChatServer.start({
      sql,
      host: "127.0.0.1",
      port: 0,
      id: "fc-advertised",
      scrypt: { N: 1024, r: 8, p: 1 },
      cluster: advertisedAddresses({
        host: "127.0.0.1",
        advertise: "203.0.113.7:443",
        advertisePeer: "198.51.100.2:7800",
      }),
    });
    try {
      const [row] = await ServerRegistry.liveServers(sql);
      expect(row).toMatchObject({
        id: "fc-advertised",
        host: "203.0.113.7",
        port: 443,
        peerHost: "198.51.100.2",
        peerPort: 7800,
      });
      expect(server.port).not.toBe(443); // bound elsewhere
    } finally {
      await server.close();
      await sql.end();
      await db.close();
    }
  });
}

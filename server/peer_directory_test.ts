/** The directory of who is online on which other server. */
import { expect } from "expect";
import { PeerDirectory } from "./peer_directory.ts";

Deno.test("PeerDirectory: presence changes, snapshots and forgetting a server", () => {
  const dir = new PeerDirectory();
  dir.set("srv-2", ["alice", "bob"], true);
  dir.set("srv-3", ["bob"], true);
  expect([...dir.serversOf("bob")].sort()).toEqual(["srv-2", "srv-3"]);
  dir.set("srv-2", ["bob"], false);
  expect([...dir.serversOf("bob")]).toEqual(["srv-3"]);
  expect(dir.usersOn("srv-2")).toBe(1);
  // A snapshot replaces what was known of that server.
  dir.replace("srv-2", ["carol"]);
  expect([...dir.serversOf("alice")]).toEqual([]);
  expect([...dir.serversOf("carol")]).toEqual(["srv-2"]);
  dir.forget("srv-3");
  expect([...dir.serversOf("bob")]).toEqual([]);
  expect(dir.usersOn("srv-3")).toBe(0);
  dir.forget("srv-unknown"); // nothing to forget
  dir.set("srv-2", ["nobody"], false); // offline of someone never online
  expect([...dir.serversOf("nobody")]).toEqual([]);
});

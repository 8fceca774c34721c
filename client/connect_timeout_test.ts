/**
 * A server whose host is cut off never answers the TCP handshake; the
 * kernel would retry for minutes (or until ARP gives up). The client gives
 * up after its connect timeout, so a reconnect moves on to another server.
 * Runs in network namespaces (testing/netns.ts): needs root and iproute2.
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { NetLab, netLabUnavailable } from "@fastchat/testing";

const unavailable = await netLabUnavailable();
if (unavailable) console.error(`connect timeout test skipped: ${unavailable}`);

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CONNECTION = new URL("./server_connection.ts", import.meta.url).href;

/** Connects to `host:port` with a 300 ms connect timeout; prints the outcome as JSON. */
const CONNECT = `
import { ServerConnection } from "${CONNECTION}";
try {
  const c = await ServerConnection.connect({
    host: Deno.args[0], port: Number(Deno.args[1]), onPush: () => {}, connectTimeoutMs: 300,
  });
  c.close();
  console.log(JSON.stringify({ connected: true }));
} catch (e) {
  console.log(JSON.stringify({ code: e.code, message: e.message }));
}`;

Deno.test({
  name: "ServerConnection: a connect to a cut-off host gives up after connectTimeoutMs",
  ignore: unavailable !== null,
  async fn() {
    const lab = await NetLab.create(["c", "s"]);
    try {
      await lab.cutLink("s");
      const out = await lab.command("c", [
        Deno.execPath(),
        ...["eval", CONNECT, lab.host("s").address, "7701"],
      ], { cwd: ROOT, stdout: "piped", stderr: "inherit" }).output();
      const result = JSON.parse(new TextDecoder().decode(out.stdout));
      expect(result).toEqual({
        code: "CONNECT_FAILED",
        message: `cannot connect to ${lab.host("s").address}:7701: no answer in 300 ms`,
      });
    } finally {
      await lab.close();
    }
  },
});

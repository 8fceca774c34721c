import { expect } from "expect";
import { EventLog } from "./event_log.ts";
import { NetLab, netLabUnavailable, NETNS_PREFIX, removeLeftoverLabs } from "./netns.ts";

const unavailable = await netLabUnavailable();
if (unavailable) console.error(`netns tests skipped: ${unavailable}`);

/** Echoes every byte back, on `addr`; prints `listening <port>`. */
const ECHO = `
const l = Deno.listen({ hostname: Deno.args[0], port: 0 });
console.log("listening " + l.addr.port);
for await (const c of l) {
  (async () => {
    const buf = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await c.read(buf);
        if (n === null) break;
        await c.write(buf.subarray(0, n));
      }
    } catch { /* the test ends */ }
  })();
}`;

/** Driven by stdin lines `connect host port` / `send text`; prints what happens. */
const DRIVER = `
let conn;
const enc = new TextEncoder();
const out = (s) => console.log(s);
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  for (const line of chunk.split("\\n").filter((l) => l)) {
    const [cmd, a, b] = line.split(" ");
    if (cmd === "connect") {
      try {
        conn = await Deno.connect({ hostname: a, port: Number(b) });
        out("connected");
        (async () => {
          const buf = new Uint8Array(4096);
          try {
            for (;;) {
              const n = await conn.read(buf);
              if (n === null) return out("closed");
              out("got " + new TextDecoder().decode(buf.subarray(0, n)));
            }
          } catch (e) { out("error " + e.name); }
        })();
      } catch (e) { out("connect-error " + e.name); }
    } else if (cmd === "send") await conn.write(enc.encode(a));
  }
}`;

/** A `deno eval` child in a lab host whose stdout lines become events. */
function spawnIn(lab: NetLab, host: string, code: string, args: string[] = []) {
  const child = lab.command(host, [Deno.execPath(), "eval", code, ...args], {
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const log = new EventLog<{ event: string }>();
  const reading = (async () => {
    let partial = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      const lines = (partial + text).split("\n");
      partial = lines.pop()!;
      for (const l of lines) log.push({ event: l });
    }
  })();
  const stdin = child.stdin.getWriter();
  return {
    log,
    type: (line: string) => stdin.write(new TextEncoder().encode(line + "\n")),
    async stop() {
      child.kill("SIGKILL");
      await child.status;
      await reading;
      await stdin.close().catch(() => {}); // the pipe died with the process
    },
  };
}

async function namespaces(): Promise<string[]> {
  const out = await new Deno.Command("ip", { args: ["netns", "list"] }).output();
  return new TextDecoder().decode(out.stdout).split("\n").map((l) => l.split(" ")[0]);
}

Deno.test({
  name:
    "NetLab: hosts reach each other by address only; a cut link stalls TCP, a restored one resumes it",
  ignore: unavailable !== null,
  async fn() {
    const lab = await NetLab.create(["a", "b"]);
    try {
      const [a, b] = [lab.host("a"), lab.host("b")];
      expect(a.address).not.toBe(b.address);
      expect(await namespaces()).toEqual(expect.arrayContaining([a.ns, b.ns]));
      const echo = spawnIn(lab, "b", ECHO, [b.address]);
      const driver = spawnIn(lab, "a", DRIVER);
      try {
        const port = (await echo.log.waitFor((e) => e.event.startsWith("listening"))).event
          .split(" ")[1];
        // Loopback is down in every host: 127.0.0.1 leads nowhere.
        await driver.type(`connect 127.0.0.1 ${port}`);
        await driver.log.waitFor((e) => e.event.startsWith("connect-error"));
        await driver.type(`connect ${b.address} ${port}`);
        await driver.log.waitFor((e) => e.event === "connected");
        await driver.type("send one");
        await driver.log.waitFor((e) => e.event === "got one");

        await lab.cutLink("a");
        await driver.type("send two");
        // What must NOT happen cannot be awaited: give a reset or a delivery
        // 1.5 s (several retransmissions) to show up.
        await new Promise((r) => setTimeout(r, 1500));
        expect(driver.log.events.slice(1).map((e) => e.event)).toEqual(["connected", "got one"]);
        await lab.restoreLink("a");
        await driver.log.waitFor((e) => e.event === "got two");
      } finally {
        await driver.stop();
        await echo.stop();
      }
    } finally {
      await lab.close();
    }
    const left = await namespaces();
    for (const ns of [...lab.hosts.map((h) => h.ns), lab.switchNs]) expect(left).not.toContain(ns);
  },
});

Deno.test({
  name: "NetLab: leftovers of a process that is gone are removed, a running lab's are not",
  ignore: unavailable !== null,
  async fn() {
    // pid_max is at most 2^22: no process ever has this id.
    const stale = `${NETNS_PREFIX}${2 ** 22 + 1}-dead01-x`;
    await new Deno.Command("ip", { args: ["netns", "add", stale] }).output();
    const lab = await NetLab.create(["a"]);
    try {
      expect(await namespaces()).not.toContain(stale);
      expect(await removeLeftoverLabs()).not.toContain(lab.host("a").ns);
      expect(await namespaces()).toContain(lab.host("a").ns);
    } finally {
      await lab.close();
    }
  },
});

Deno.test({
  name: "NetLab: host names are checked before anything is created",
  ignore: unavailable !== null,
  async fn() {
    await expect(NetLab.create(["Bad-Name"])).rejects.toThrow("host name");
    await expect(NetLab.create(["a", "a"])).rejects.toThrow("differ");
  },
});

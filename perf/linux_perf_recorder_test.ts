import { expect } from "expect";
import {
  checkLinuxPerf,
  LinuxPerfRecorder,
  PERF_MAP_FLAGS,
  withPerfMaps,
} from "./linux_perf_recorder.ts";
import { FastChatError } from "@fastchat/lib/errors";

/** Whether `perf record` works on this machine (installed and permitted). */
const perfWorks = await checkLinuxPerf().then(() => true, () => false);

/**
 * A child that waits for a line on stdin, then spins in `spinFor` for a
 * fixed amount of work (`rounds` × 10,000 steps: ~0.14 s of CPU per 30,000
 * rounds here, however loaded the machine) and exits.
 */
const BUSY = `
function spinFor(rounds) {
  let x = 0;
  for (let j = 0; j < rounds; j++) for (let i = 0; i < 10000; i++) x = (x + i * 7) | 0;
  return x;
}
const buf = new Uint8Array(16);
await Deno.stdin.read(buf);
console.log(spinFor(Number(Deno.args[0])));
`;

Deno.test({
  name: "LinuxPerfRecorder: a real process's samples, its JavaScript named, the map moved",
  ignore: !perfWorks,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fastchat-linux-perf-" });
    try {
      const script = `${dir}/busy.js`;
      await Deno.writeTextFile(script, BUSY);
      const child = await withPerfMaps(true, () =>
        Promise.resolve(
          new Deno.Command(Deno.execPath(), {
            args: ["run", "-A", script, "60000"],
            cwd: dir,
            stdin: "piped",
            stdout: "piped",
            stderr: "inherit",
          }).spawn(),
        ));
      const rec = await LinuxPerfRecorder.start(`${dir}/profiles`, [
        { role: "worker", name: "busy", pid: child.pid },
      ]);
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode("go\n"));
      await w.close();
      const status = await child.output();
      expect(status.success).toBe(true);
      const [s, ...rest] = await rec.stop(10);
      expect(rest).toEqual([]); // one process: no sum
      expect(s.name).toBe("busy");
      expect(s.samples).toBeGreaterThan(50); // ~270 at 997 Hz
      expect(s.parts.js).toBeGreaterThan(s.samples / 4);
      expect(s.top.some((t) => t.part === "js" && t.symbol.startsWith("spinFor "))).toBe(true);
      expect((await Deno.stat(`${dir}/profiles/busy.perf.data`)).size).toBeGreaterThan(0);
      expect(await Deno.readTextFile(`${dir}/profiles/busy.perf.map`)).toContain("spinFor");
      await expect(Deno.stat(`/tmp/perf-${child.pid}.map`)).rejects.toThrow(Deno.errors.NotFound);
      // V8's own log, which the symbol maps turn on, left nothing in the working directory.
      const names = [];
      for await (const e of Deno.readDir(dir)) names.push(e.name);
      expect(names.sort()).toEqual(["busy.js", "profiles"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "LinuxPerfRecorder: a process perf cannot record is a clear error, nothing left running",
  ignore: !perfWorks,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fastchat-linux-perf-" });
    try {
      const err = await LinuxPerfRecorder.start(dir, [
        { role: "server", name: "gone", pid: 2 ** 22 + 12345 }, // above pid_max: no such process
      ]).then(() => null, (e) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toMatch(/^--linux-perf: perf record -p 4206649 \(gone\) failed: /);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("withPerfMaps: V8's --perf-basic-prof for what it spawns, DENO_V8_FLAGS restored", async () => {
  const before = Deno.env.get("DENO_V8_FLAGS");
  Deno.env.set("DENO_V8_FLAGS", "--max-semi-space-size=8");
  try {
    const seen = await withPerfMaps(true, () => Promise.resolve(Deno.env.get("DENO_V8_FLAGS")));
    expect(seen).toBe(`--max-semi-space-size=8,${PERF_MAP_FLAGS}`);
    expect(Deno.env.get("DENO_V8_FLAGS")).toBe("--max-semi-space-size=8");
    expect(await withPerfMaps(false, () => Promise.resolve(Deno.env.get("DENO_V8_FLAGS"))))
      .toBe("--max-semi-space-size=8");
  } finally {
    if (before === undefined) Deno.env.delete("DENO_V8_FLAGS");
    else Deno.env.set("DENO_V8_FLAGS", before);
  }
});

Deno.test("checkLinuxPerf: without perf on the PATH, INVALID_CONFIG naming the option", async () => {
  const path = Deno.env.get("PATH");
  const empty = await Deno.makeTempDir();
  Deno.env.set("PATH", empty);
  try {
    const err = await checkLinuxPerf().then(() => null, (e) => e);
    expect(err).toBeInstanceOf(FastChatError);
    expect(err.code).toBe("INVALID_CONFIG");
    expect(err.message).toContain("--linux-perf needs Linux perf");
  } finally {
    if (path === undefined) Deno.env.delete("PATH");
    else Deno.env.set("PATH", path);
    await Deno.remove(empty);
  }
});

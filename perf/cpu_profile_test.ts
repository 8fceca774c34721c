/** cpu_profile: self time by function and module, the messaging window from a run directory. */
import { expect } from "expect";
import { type CpuProfile, messagingWindow, summarizeProfile } from "./cpu_profile.ts";

const frame = (functionName: string, url = "", lineNumber = -1) => ({
  functionName,
  url,
  lineNumber,
});

/** Samples 1 ms apart: idle, seal ×3, open ×2, GC ×1, seal ×1 (in that order). */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame("(root)") },
    { id: 2, callFrame: frame("(idle)") },
    { id: 3, callFrame: frame("seal", "file:///w/lib/crypto/aead.ts", 9) },
    { id: 4, callFrame: frame("open", "file:///w/lib/crypto/aead.ts", 19) },
    { id: 5, callFrame: frame("(garbage collector)") },
  ],
  startTime: 0,
  endTime: 8000,
  samples: [2, 3, 3, 3, 4, 4, 5, 3],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 100_000, 1000],
};

Deno.test("summarizeProfile: self time by function and by module, idle left out", () => {
  const s = summarizeProfile(profile);
  // Every sample counts the median interval (1 ms), not the 100 ms gap before the GC sample.
  expect(s.totalUs).toBe(8000);
  expect(s.busyUs).toBe(7000);
  expect(s.functions).toEqual([
    { name: "seal crypto/aead.ts:10", us: 4000 },
    { name: "open crypto/aead.ts:20", us: 2000 },
    { name: "(garbage collector)", us: 1000 },
  ]);
  expect(s.modules).toEqual([
    { name: "crypto/aead.ts", us: 6000 },
    { name: "(native)", us: 1000 },
  ]);
});

Deno.test("summarizeProfile: only the samples inside a window before the end", () => {
  // Sample times: 1, 2, …, 6, 106, 107 ms; with the end at 107 ms, [103, 100] ms before it
  // is 4 to 7 ms: the third seal and both opens.
  const s = summarizeProfile({ ...profile, endTime: 107_000 }, [103_000, 100_000]);
  expect(s.functions).toEqual([
    { name: "open crypto/aead.ts:20", us: 2000 },
    { name: "seal crypto/aead.ts:10", us: 1000 },
  ]);
});

Deno.test("messagingWindow: from the messaging phase to the process's last sample", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/run.json`,
      JSON.stringify({ phases: { messaging: { startMs: 1000, endMs: 3000 } } }),
    );
    await Deno.writeTextFile(
      `${dir}/processes.csv`,
      "t_ms,phase,role,name,pid,start_ms,cpu_ms,rss_bytes\n" +
        "3200,messaging,worker,worker-0,1,0,10,1\n3500,end,worker,worker-0,1,0,10,1\n" +
        "3900,end,worker,worker-1,2,0,10,1\n",
    );
    expect(await messagingWindow(dir, "worker-0")).toEqual([2_500_000, 500_000]);
    await expect(messagingWindow(dir, "worker-9")).rejects.toThrow("not in processes.csv");
    await Deno.writeTextFile(`${dir}/run.json`, "{}");
    await expect(messagingWindow(dir, "worker-0")).rejects.toThrow("no messaging phase");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import { expect } from "expect";
import {
  cpuPartOf,
  formatLinuxPerf,
  linuxPerfRows,
  parsePerfReport,
  readLinuxPerf,
  shortSymbol,
  summarizePerfRows,
} from "./linux_perf_report.ts";

/** Lines as `perf report` printed them for a server here (tabs as with `-t '\t'`). */
const REPORT = [
  "# To display the perf.data header info, please use --header/--header-only options.",
  "#",
  "# Samples: 2K of event 'cpu-clock'",
  "# Overhead\t     Samples\tCommand        \tShared Object    \tSymbol                                  ",
  " 5.87%  \t 153        \tdeno           \t[kernel.kallsyms]\t[k] pvm_irq_enable",
  " 1.88%  \t 49         \tdeno           \tlibc.so.6        \t[.] __memmove_avx512_unaligned_erms",
  " 1.80%  \t 47         \tdeno           \t[JIT] tid 15123  \t[.] JS:*'#lookup file:///work/main/server/message_key_table.ts:86:109",
  " 1.19%  \t 31         \tdeno           \t[JIT] tid 15123  \t[.] 0x00007f4fd01bedc1",
  " 0.81%  \t 21         \tdeno           \tdeno             \t[.] 0x00000000035e0510",
  " 0.77%  \t 20         \tV8 DefaultWorke\tdeno             \t[.] 0x00000000020623cb",
  " 0.65%  \t 17         \tdeno           \tdeno             \t[.] 0x00000000020623cb",
  " 0.50%  \t 13         \tdeno           \t[JIT] tid 15123  \t[.] Builtin:MapPrototypeGet",
  " 0.40%  \t 10         \tdeno           \t[JIT] tid 15123  \t[.] RegExp.< src: '^[a-z]{1,32}$' flags: ''",
  " 0.30%  \t 8          \tdeno           \t[JIT] tid 15123  \t[.] JS:* ext:core/01_core.js:586:20",
  " 0.20%  \t 5          \tdeno           \t[vdso]           \t[.] 0x00000000000007bd",
  "",
].join("\n");

Deno.test("parsePerfReport: every sample line, header and blank lines skipped", () => {
  const rows = parsePerfReport(REPORT);
  expect(rows.length).toBe(11);
  expect(rows[0]).toEqual({
    samples: 153,
    comm: "deno",
    dso: "[kernel.kallsyms]",
    symbol: "pvm_irq_enable",
  });
  expect(rows[2].symbol).toBe("JS:*'#lookup file:///work/main/server/message_key_table.ts:86:109");
  expect(rows.reduce((n, r) => n + r.samples, 0)).toBe(
    153 + 49 + 47 + 31 + 21 + 20 + 17 + 13 + 10 + 8 + 5,
  );
});

Deno.test("cpuPartOf: JIT code, builtins, runtime, kernel, libc, other threads", () => {
  const parts = parsePerfReport(REPORT).map((r) => cpuPartOf(r));
  expect(parts).toEqual([
    "kernel",
    "libc",
    "js",
    "js", // an unnamed JIT address is JIT code all the same
    "runtime",
    "helpers", // a V8 worker thread, whatever it ran
    "runtime",
    "builtins",
    "builtins",
    "js",
    "other",
  ]);
});

Deno.test("shortSymbol: project and runtime functions keep their name and module", () => {
  expect(shortSymbol("JS:*'#lookup file:///work/main/server/message_key_table.ts:86:109"))
    .toBe("#lookup server/message_key_table.ts");
  expect(shortSymbol("JS:* ext:core/01_core.js:586:20")).toBe("(anonymous) ext:core/01_core.js");
  expect(shortSymbol("JS:^spin file:///tmp/x/busy.ts:3:1")).toBe("spin file:///tmp/x/busy.ts:3:1");
  expect(shortSymbol("JS:o*spinFor file:///tmp/x/busy.js:2:17")).toBe(
    "spinFor file:///tmp/x/busy.js:2:17",
  );
  expect(shortSymbol("JS:+'ack file:///w/server/message_router.ts:260:87")).toBe(
    "ack server/message_router.ts",
  );
  expect(shortSymbol("pvm_irq_enable")).toBe("pvm_irq_enable");
});

Deno.test("summarizePerfRows: parts add up to the samples; unnamed addresses pooled per object", () => {
  const s = summarizePerfRows("srv-1", "server", parsePerfReport(REPORT), 5);
  expect(s.samples).toBe(374);
  expect(Object.values(s.parts).reduce((a, b) => a + b, 0)).toBe(374);
  expect(s.parts).toEqual({
    js: 47 + 31 + 8,
    builtins: 23,
    runtime: 21 + 17,
    kernel: 153,
    libc: 49,
    helpers: 20,
    other: 5,
  });
  expect(s.top.map((t) => [t.samples, t.part, t.symbol])).toEqual([
    [153, "kernel", "pvm_irq_enable"],
    [49, "libc", "__memmove_avx512_unaligned_erms"],
    [47, "js", "#lookup server/message_key_table.ts"],
    [38, "runtime", "(deno unnamed)"],
    [31, "js", "([JIT] unnamed)"],
  ]);
});

Deno.test("formatLinuxPerf: a row per process with its shares, top symbols of the sums", () => {
  const rows = parsePerfReport(REPORT);
  const text = formatLinuxPerf([
    summarizePerfRows("srv-1", "server", rows),
    summarizePerfRows("all servers (2)", "server", [...rows, ...rows]),
  ], 2);
  const lines = text.split("\n");
  expect(lines[0]).toMatch(/process\s+samples\s+js\s+builtins\s+runtime\s+kernel\s+libc\s+helpers/);
  expect(lines[1]).toMatch(/^ {2}srv-1\s+374\s+23\.0 %\s+6\.1 %\s+10\.2 %\s+40\.9 %/);
  expect(lines[2]).toMatch(/^ {2}all servers \(2\)\s+748\s+23\.0 %/);
  expect(text).toContain("top symbols, all servers (2):");
  expect(text).toContain("40.9 %  kernel    pvm_irq_enable");
  expect(text).not.toContain("top symbols, srv-1");
  expect(lines.length).toBe(4 + 1 + 2); // header, 2 rows, parts legend, title, 2 symbols
});

Deno.test("readLinuxPerf: null without the file, the list as written, an error for anything else", async () => {
  const dir = await Deno.makeTempDir();
  try {
    expect(await readLinuxPerf(dir)).toBeNull();
    await Deno.mkdir(`${dir}/profiles`);
    const list = [summarizePerfRows("srv-1", "server", parsePerfReport(REPORT), 3)];
    await Deno.writeTextFile(`${dir}/profiles/linux-perf.json`, JSON.stringify(list));
    expect(await readLinuxPerf(dir)).toEqual(list);
    expect(linuxPerfRows(list)).toEqual([
      ["srv-1", "374", "23.0 %", "6.1 %", "10.2 %", "40.9 %", "13.1 %", "5.3 %", "1.3 %"],
    ]);
    for (const bad of ["{}", "[1]", JSON.stringify([{ ...list[0], parts: { js: 1 } }])]) {
      await Deno.writeTextFile(`${dir}/profiles/linux-perf.json`, bad);
      await expect(readLinuxPerf(dir)).rejects.toThrow("not a list of Linux perf summaries");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

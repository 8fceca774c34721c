/**
 * Presentation of run results: number formatting, the aligned text tables
 * printed by `deno task analyze`, and self-contained HTML reports (inline CSS
 * and SVG, no external resources, every text escaped).
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { formatRunTable, renderRunReport } from "@fastchat/perf/report";
 * const { summary } = await analyzeRunDir("perf/testdata/clean");
 * console.log(formatRunTable(summary));
 * const html = renderRunReport(summary, []);
 * ```
 * @module
 */
import type { RunSummary } from "./run_analysis.ts";
import { type RunConfig, type RunRecord, sendLabel } from "./run_schema.ts";
import type { Chart } from "./chart_render.ts";

/** Shown for any missing or non-finite value. */
export const MISSING = "—";

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "@fastchat/perf/report";
 * escapeHtml(`<a href="x">&</a>`); // "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
 * ```
 */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}

const finite = (x: number | undefined): x is number => typeof x === "number" && Number.isFinite(x);

/**
 * A count: integer digits, `—` when unknown.
 *
 * @example
 * ```ts
 * import { fmtCount } from "@fastchat/perf/report";
 * fmtCount(1234); // "1234"
 * ```
 */
export function fmtCount(n: number | undefined): string {
  return finite(n) ? String(Math.round(n)) : MISSING;
}

/**
 * Milliseconds with 3 significant-ish digits (`0.123`, `12.35`, `1234`).
 *
 * @example
 * ```ts
 * import { fmtMs } from "@fastchat/perf/report";
 * fmtMs(1.23456); // "1.235"
 * ```
 */
export function fmtMs(x: number | undefined): string {
  if (!finite(x)) return MISSING;
  const a = Math.abs(x);
  return x.toFixed(a < 10 ? 3 : a < 100 ? 2 : a < 1_000 ? 1 : 0);
}

/**
 * A rate per second (`0.25`, `12.5`, `12345`).
 *
 * @example
 * ```ts
 * import { fmtRate } from "@fastchat/perf/report";
 * fmtRate(1234.56); // "1235"
 * ```
 */
export function fmtRate(x: number | undefined): string {
  if (!finite(x)) return MISSING;
  const a = Math.abs(x);
  return x.toFixed(a < 10 ? 2 : a < 1_000 ? 1 : 0);
}

/**
 * Megabytes per second (`0.0123`, `1.234`, `123.4`).
 *
 * @example
 * ```ts
 * import { fmtMB } from "@fastchat/perf/report";
 * fmtMB(0.01234); // "0.0123"
 * ```
 */
export function fmtMB(x: number | undefined): string {
  if (!finite(x)) return MISSING;
  const a = Math.abs(x);
  return x.toFixed(a < 1 ? 4 : a < 100 ? 3 : 1);
}

function fmtBytes(b: number | undefined): string {
  if (!finite(b)) return MISSING;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0, v = b;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

const opt = (v: unknown): string => v === undefined || v === null || v === "" ? MISSING : String(v);

/** A labelled value of a table. */
export type Row = [label: string, value: string];

/**
 * Rows describing the run configuration.
 *
 * @example
 * ```ts
 * import { configRows } from "@fastchat/perf/report";
 * import { readRunRecord } from "@fastchat/perf/run_schema";
 * configRows(await readRunRecord("perf/testdata/clean"))[0]; // ["clients", "2"]
 * ```
 */
export function configRows(info: RunRecord): Row[] {
  const c: RunConfig = info.config;
  return [
    ["clients", String(c.clients)],
    ["servers", opt(c.servers)],
    ["messages per client", opt(c.messages)],
    ["mode", opt(c.mode)],
    ["payload", `${c.payload} (${c.payloadBytes} B)`],
    ["send model", sendLabel(c.send)],
    ["duration (ms)", opt(c.durationMs)],
    ["seed", opt(c.seed)],
    ["database", opt(c.db)],
    ["load balancer", opt(c.lb)],
    ["started", info.startedAt],
    ["ended", opt(info.endedAt)],
  ];
}

/**
 * Rows describing the machine and software versions.
 *
 * @example
 * ```ts
 * import { machineRows } from "@fastchat/perf/report";
 * import { readRunRecord } from "@fastchat/perf/run_schema";
 * machineRows(await readRunRecord("perf/testdata/clean"))[0]; // ["cores", "2"]
 * ```
 */
export function machineRows(info: RunRecord): Row[] {
  const m = info.machine, v = info.versions;
  return [
    ["cores", opt(m.cores)],
    ["memory", fmtBytes(m.memoryBytes)],
    ["os / arch", `${m.os} / ${m.arch}`],
    ["hostname", opt(m.hostname)],
    ["deno", opt(v.deno)],
    ["v8", opt(v.v8)],
    ["typescript", opt(v.typescript)],
    ["fastchat", opt(v.fastchat)],
  ];
}

/**
 * The results table rows (shared by the text table and the HTML report).
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { resultRows } from "@fastchat/perf/report";
 * const rows = resultRows((await analyzeRunDir("perf/testdata/clean")).summary);
 * ```
 */
export function resultRows(s: RunSummary): Row[] {
  const c = s.counts, l = s.latencyMs, t = s.throughput, st = t.steady;
  const pct = Math.round(st.trim * 100);
  return [
    ["client logs / rows", `${s.files} / ${s.rows}`],
    ["sent", fmtCount(c.sent)],
    ["acked", fmtCount(c.acked)],
    ["delivered (receipts)", fmtCount(c.delivered)],
    ["received (unique)", fmtCount(c.received)],
    ["lost", fmtCount(c.lost)],
    ["lost without error row", fmtCount(c.lostSilently)],
    ["duplicated (extra receptions)", fmtCount(c.duplicated)],
    ["duplicated messages", fmtCount(c.duplicatedMessages)],
    ["undecryptable", fmtCount(c.undecryptable)],
    ["received but never sent", fmtCount(c.unmatchedReceived)],
    ["errors", fmtCount(c.errors)],
    ...Object.entries(s.errorsByCode).map(([k, v]): Row => [`  error ${k}`, fmtCount(v)]),
    ["latency p50 (ms)", fmtMs(l.p50)],
    ["latency p90 (ms)", fmtMs(l.p90)],
    ["latency p99 (ms)", fmtMs(l.p99)],
    ["latency max (ms)", fmtMs(l.max)],
    ["latency mean (ms)", fmtMs(l.mean)],
    ["messaging window (s)", fmtMs(t.windowMs / 1000)],
    ["throughput (msg/s)", fmtRate(t.messagesPerSec)],
    ["throughput (MB/s)", fmtMB(t.mbPerSec)],
    [`steady ${pct}–${100 - pct}% (msg/s)`, fmtRate(st.messagesPerSec)],
    [`steady ${pct}–${100 - pct}% (MB/s)`, fmtMB(st.mbPerSec)],
    ["steady latency p50 / p99 (ms)", `${fmtMs(st.latencyMs.p50)} / ${fmtMs(st.latencyMs.p99)}`],
    ["send rate (msg/s)", fmtRate(t.sendRatePerSec)],
    ["registrations/s", fmtRate(s.phases.registrationsPerSec)],
    ["logins/s", fmtRate(s.phases.loginsPerSec)],
  ];
}

/**
 * Aligns a table of string cells: first column left, the others right.
 *
 * @example
 * ```ts
 * import { alignTable } from "@fastchat/perf/report";
 * alignTable([["a", "1"], ["bbb", "22"]]); // "a     1\nbbb  22"
 * ```
 */
export function alignTable(rows: string[][], indent = ""): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => widths[i] = Math.max(widths[i] ?? 0, [...c].length));
  return rows.map((r) =>
    indent +
    r.map((c, i) => {
      const pad = " ".repeat(widths[i] - [...c].length);
      return i === 0 ? c + pad : pad + c;
    }).join("  ").trimEnd()
  ).join("\n");
}

/**
 * One-line description of a run's configuration.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { configLine } from "@fastchat/perf/report";
 * configLine((await analyzeRunDir("perf/testdata/clean")).summary); // "clients 2, servers 1, ..."
 * ```
 */
export function configLine(s: RunSummary): string {
  const c = s.info.config;
  const parts = [`clients ${c.clients}`];
  if (c.servers !== null) parts.push(`servers ${c.servers}`);
  if (c.messages !== null) parts.push(`messages ${c.messages}`);
  parts.push(`payload ${c.payload}`);
  if (c.db !== null) parts.push(`db ${c.db}`);
  if (c.lb !== null) parts.push(`lb ${c.lb}`);
  return parts.join(", ");
}

/**
 * The text table printed for one run.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { formatRunTable } from "@fastchat/perf/report";
 * console.log(formatRunTable((await analyzeRunDir("perf/testdata/clean")).summary));
 * ```
 */
export function formatRunTable(s: RunSummary): string {
  return `run ${s.dir}  (${configLine(s)}; started ${s.info.startedAt})\n` +
    alignTable(resultRows(s), "  ") +
    s.warnings.map((w) => `\n  warning: ${w}`).join("");
}

const COMPARISON_HEADER = [
  "run",
  "clients",
  "servers",
  "payload",
  "sent",
  "received",
  "lost",
  "dup",
  "undec",
  "p50 ms",
  "p99 ms",
  "msg/s",
  "steady msg/s",
  "MB/s",
];

function comparisonCells(s: RunSummary): string[] {
  const c = s.info.config;
  return [
    s.name,
    String(c.clients),
    opt(c.servers),
    c.payload,
    fmtCount(s.counts.sent),
    fmtCount(s.counts.received),
    fmtCount(s.counts.lost),
    fmtCount(s.counts.duplicated),
    fmtCount(s.counts.undecryptable),
    fmtMs(s.latencyMs.p50),
    fmtMs(s.latencyMs.p99),
    fmtRate(s.throughput.messagesPerSec),
    fmtRate(s.throughput.steady.messagesPerSec),
    fmtMB(s.throughput.mbPerSec),
  ];
}

/**
 * One aligned row per run, for comparing several runs.
 *
 * @example
 * ```ts
 * import { formatComparisonTable } from "@fastchat/perf/report";
 * console.log(formatComparisonTable([]));
 * ```
 */
export function formatComparisonTable(runs: RunSummary[]): string {
  return alignTable([COMPARISON_HEADER, ...runs.map(comparisonCells)]);
}

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 "DejaVu Sans", Helvetica, Arial, sans-serif; color: #1d1d1f;
  margin: 0 auto; padding: 24px; max-width: 1100px; background: #fafafa; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #555; margin: 0 0 12px; }
.warn { color: #8a4b00; background: #fff4e0; border: 1px solid #f0c36d; padding: 6px 10px; }
.grid { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
table { border-collapse: collapse; background: #fff; border: 1px solid #ddd; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f0f0f0; font-weight: 600; }
tr.bad td { color: #b00020; font-weight: 600; }
figure { margin: 16px 0; background: #fff; border: 1px solid #ddd; padding: 8px; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-weight: 600; margin-bottom: 4px; }
details { margin: 8px 0; } summary { cursor: pointer; font-weight: 600; }
footer { margin-top: 32px; color: #777; font-size: 12px; }
`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
<footer>Generated by <code>deno task analyze</code> at ${
    escapeHtml(new Date().toISOString())
  }.</footer>
</body>
</html>
`;
}

const BAD_LABELS = new Set(["lost", "undecryptable", "duplicated (extra receptions)"]);

function kvTable(rows: Row[], caption?: string): string {
  const body = rows.map(([k, v]) => {
    const bad = BAD_LABELS.has(k) && v !== "0" && v !== MISSING;
    return `<tr${bad ? ' class="bad"' : ""}><th scope="row">${escapeHtml(k)}</th>` +
      `<td class="num">${escapeHtml(v)}</td></tr>`;
  }).join("\n");
  return `<table>${caption ? `<caption>${escapeHtml(caption)}</caption>` : ""}\n${body}\n</table>`;
}

/**
 * Strips what an inline SVG must not carry into HTML (an XML declaration).
 * Vega's SVG contains no scripts or external references.
 */
function inlineSvg(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, "");
}

function chartFigures(charts: Chart[]): string {
  return charts.map((c) =>
    `<figure><figcaption>${escapeHtml(c.title)}</figcaption>\n${inlineSvg(c.svg)}\n</figure>`
  ).join("\n");
}

function runSections(s: RunSummary, headingLevel: 2 | 3): string {
  const h = `h${headingLevel}`;
  const warnings = s.warnings.map((w) => `<p class="warn">Warning: ${escapeHtml(w)}</p>\n`)
    .join("");
  return `${warnings}<div class="grid">
<div><${h}>Configuration</${h}>\n${kvTable(configRows(s.info))}</div>
<div><${h}>Machine</${h}>\n${kvTable(machineRows(s.info))}</div>
<div><${h}>Results</${h}>\n${kvTable(resultRows(s))}</div>
</div>`;
}

/**
 * The HTML report of one run.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { renderRunReport } from "@fastchat/perf/report";
 * const html = renderRunReport((await analyzeRunDir("perf/testdata/clean")).summary, []);
 * ```
 */
export function renderRunReport(s: RunSummary, charts: Chart[]): string {
  const body = `<h1>FastChat load test — ${escapeHtml(s.name)}</h1>
<p class="meta">${escapeHtml(`${s.dir} · ${configLine(s)}`)}</p>
${runSections(s, 2)}
${charts.length ? `<h2>Charts</h2>\n${chartFigures(charts)}` : ""}`;
  return page(`FastChat load test — ${s.name}`, body);
}

/**
 * The combined HTML report of several runs: comparison table, cross-run
 * charts and each run's configuration and results. `links[i]` is the
 * (relative) path of run `i`'s own report.
 *
 * @example
 * ```ts
 * import { renderCombinedReport } from "@fastchat/perf/report";
 * const html = renderCombinedReport([], [], []);
 * ```
 */
export function renderCombinedReport(
  runs: RunSummary[],
  charts: Chart[],
  links: (string | undefined)[],
): string {
  const head = `<tr>${
    COMPARISON_HEADER.map((h, i) => `<th${i ? ' class="num"' : ""}>${escapeHtml(h)}</th>`).join("")
  }</tr>`;
  const rows = runs.map((s, r) => {
    const cells = comparisonCells(s);
    const lossy = s.counts.lost > 0 || s.counts.undecryptable > 0;
    return `<tr${lossy ? ' class="bad"' : ""}>` + cells.map((c, i) => {
      if (i === 0) {
        const link = links[r];
        return `<td>${
          link ? `<a href="${escapeHtml(encodeURI(link))}">${escapeHtml(c)}</a>` : escapeHtml(c)
        }</td>`;
      }
      return `<td class="num">${escapeHtml(c)}</td>`;
    }).join("") + "</tr>";
  }).join("\n");
  const details = runs.map((s) =>
    `<details><summary>${escapeHtml(`${s.name} — ${configLine(s)}`)}</summary>
<p class="meta">${escapeHtml(s.dir)}</p>
${runSections(s, 3)}
</details>`
  ).join("\n");
  const body = `<h1>FastChat load tests — ${runs.length} runs</h1>
<h2>Runs</h2>
<table>\n${head}\n${rows}\n</table>
${charts.length ? `<h2>Across runs</h2>\n${chartFigures(charts)}` : ""}
<h2>Run details</h2>
${details}`;
  return page(`FastChat load tests — ${runs.length} runs`, body);
}

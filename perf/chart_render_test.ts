import { expect } from "expect";
import { chartBase, renderSvg, svgToPng, writeCharts } from "./chart_render.ts";
import { latencyCdfSpec } from "./charts.ts";

Deno.test("renderSvg / svgToPng: CDF chart renders with axis titles; PNG signature", async () => {
  const svg = await renderSvg(latencyCdfSpec("run <1>", Float64Array.of(1, 2, 3, 500)));
  expect(svg).toContain("fraction of messages");
  expect(svg).toContain("run &lt;1&gt;");
  const png = svgToPng(svg);
  expect([...png.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
});

Deno.test("chartBase: title with subtitle, white background, the chart font", () => {
  const b = chartBase("Latency", "run1");
  expect(b.title).toEqual({ text: "Latency", subtitle: "run1" });
  expect(chartBase("Latency").title).toBe("Latency");
  expect(b.background).toBe("white");
  expect(b.config.font).toContain("DejaVu Sans");
});

Deno.test("writeCharts: SVG and PNG per chart, PNG optional", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastchat-chart-render-" });
  try {
    const spec = latencyCdfSpec("r", [1, 2, 3]);
    const [withPng] = await writeCharts(`${dir}/a`, [{ name: "cdf", title: "CDF", spec }]);
    expect(withPng.svgPath).toBe(`${dir}/a/cdf.svg`);
    expect((await Deno.stat(withPng.pngPath!)).size).toBeGreaterThan(1000);
    const [svgOnly] = await writeCharts(`${dir}/b`, [{ name: "cdf", title: "CDF", spec }], {
      png: false,
    });
    expect(svgOnly.pngPath).toBeUndefined();
    expect(await Deno.readTextFile(svgOnly.svgPath)).toBe(svgOnly.svg);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import { expect } from "expect";
import { MetricsRegistry, serveMetrics } from "./metrics.ts";

Deno.test("metrics: text format with labels, read at scrape time", () => {
  const m = new MetricsRegistry({ server: 'a"b' });
  let n = 1;
  m.counter("fc_total", "things", () => n);
  m.gauge("fc_now", "now", () => 2.5);
  n = 7;
  expect(m.render()).toBe(
    '# HELP fc_total things\n# TYPE fc_total counter\nfc_total{server="a\\"b"} 7\n' +
      '# HELP fc_now now\n# TYPE fc_now gauge\nfc_now{server="a\\"b"} 2.5\n',
  );
});

Deno.test({
  name: "metrics: served over HTTP on /metrics",
  async fn() {
    const m = new MetricsRegistry();
    m.gauge("fc_up", "up", () => 1);
    const http = serveMetrics(m, { port: 0 });
    try {
      const res = await fetch(`http://127.0.0.1:${http.addr.port}/metrics`);
      expect(res.headers.get("content-type")).toContain("text/plain");
      expect(await res.text()).toContain("fc_up 1");
      const missing = await fetch(`http://127.0.0.1:${http.addr.port}/nope`);
      expect(missing.status).toBe(404);
      await missing.body?.cancel();
    } finally {
      await http.shutdown();
    }
  },
});

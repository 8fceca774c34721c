/**
 * Prometheus text-format metrics: counters and gauges read at scrape time
 * from the component's own statistics, served on an optional
 * `--metrics-port`.
 *
 * @example
 * ```ts
 * import { MetricsRegistry, serveMetrics } from "@fastchat/lib/metrics";
 * const m = new MetricsRegistry({ server: "fc-7701" });
 * let connections = 0;
 * m.gauge("fastchat_connections", "Open client connections", () => connections);
 * const http = serveMetrics(m, { port: 0 });
 * console.log(m.render());
 * await http.shutdown();
 * ```
 * @module
 */
import { addressInUse, isAddressInUse } from "./listener.ts";

type Kind = "counter" | "gauge";

interface Metric {
  name: string;
  help: string;
  kind: Kind;
  read: () => number;
}

/**
 * A set of metrics with constant labels.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "@fastchat/lib/metrics";
 * const m = new MetricsRegistry();
 * m.counter("fastchat_messages_total", "Messages accepted", () => 42);
 * m.render(); // "# HELP fastchat_messages_total Messages accepted\n..."
 * ```
 */
export class MetricsRegistry {
  readonly #metrics: Metric[] = [];
  readonly #labels: string;

  constructor(labels: Record<string, string> = {}) {
    const parts = Object.entries(labels).map(([k, v]) =>
      `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`
    );
    this.#labels = parts.length ? `{${parts.join(",")}}` : "";
  }

  /** A monotonically increasing value read from `read` at scrape time. */
  counter(name: string, help: string, read: () => number): void {
    this.#metrics.push({ name, help, kind: "counter", read });
  }

  /** A value that goes up and down, read at scrape time. */
  gauge(name: string, help: string, read: () => number): void {
    this.#metrics.push({ name, help, kind: "gauge", read });
  }

  /** The exposition text. */
  render(): string {
    const lines: string[] = [];
    for (const m of this.#metrics) {
      let v: number;
      try {
        v = m.read();
      } catch {
        // Its source is gone (e.g. a pool closed during shutdown): leave this
        // one metric out of the scrape rather than fail the whole scrape;
        // Prometheus shows the gap.
        continue;
      }
      lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.kind}`);
      lines.push(`${m.name}${this.#labels} ${Number.isFinite(v) ? v : 0}`);
    }
    return lines.join("\n") + "\n";
  }
}

/**
 * Serves `GET /metrics` (and `/`) on `host:port` (a taken port is
 * `ADDRESS_IN_USE`, naming `--metrics-port`).
 *
 * @example
 * ```ts
 * import { MetricsRegistry, serveMetrics } from "@fastchat/lib/metrics";
 * const http = serveMetrics(new MetricsRegistry(), { port: 9464 });
 * await http.shutdown();
 * ```
 */
export function serveMetrics(
  registry: MetricsRegistry,
  opts: { port: number; host?: string },
): Deno.HttpServer<Deno.NetAddr> {
  const hostname = opts.host ?? "127.0.0.1";
  try {
    return serveOn(registry, opts.port, hostname);
  } catch (e) {
    if (isAddressInUse(e)) throw addressInUse(hostname, opts.port, "--metrics-port", e);
    throw e;
  }
}

function serveOn(
  registry: MetricsRegistry,
  port: number,
  hostname: string,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ port, hostname, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (req.method !== "GET" || (path !== "/metrics" && path !== "/")) {
      return new Response("not found\n", { status: 404 });
    }
    return new Response(registry.render(), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    });
  });
}

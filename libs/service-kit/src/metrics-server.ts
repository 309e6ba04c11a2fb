import { createServer } from "node:http";
import { splitHostPort } from "./listen-address.js";

export interface MetricsServerOptions {
  listen: string;
  /** What /metrics serves: a registry, or the primary's sum over its workers. */
  registry: { metrics(): Promise<string>; contentType: string };
  /** /readyz answers 200 only while this is true. */
  ready: () => boolean;
}

export interface MetricsServer {
  /** Returns the bound host:port. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

/** HTTP endpoints for operators: /metrics (Prometheus), /healthz (process alive), /readyz (serving). */
export function createMetricsServer(o: MetricsServerOptions): MetricsServer {
  const http = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/metrics") {
      o.registry.metrics().then(
        (body) => {
          res.writeHead(200, { "content-type": o.registry.contentType });
          res.end(body);
        },
        (err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        },
      );
    } else if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok\n");
    } else if (path === "/readyz") {
      const ok = o.ready();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" });
      res.end(ok ? "ready\n" : "not ready\n");
    } else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found: try /metrics, /healthz or /readyz\n");
    }
  });
  return {
    start: () =>
      new Promise((resolve, reject) => {
        const { host, port } = splitHostPort(o.listen);
        http.once("error", (err) =>
          reject(new Error(`cannot listen on ${o.listen} for metrics: ${err.message}`)),
        );
        http.listen(port, host, () => {
          const a = http.address();
          resolve(typeof a === "object" && a ? `${host}:${a.port}` : o.listen);
        });
      }),
    stop: () =>
      new Promise((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

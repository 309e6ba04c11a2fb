// The webhooks' HTTPS server: TLS from PEM files (re-read when they change, as a mounted Secret rotates),
// AdmissionReview bodies in and out, one handler per path, and a latency histogram per path and outcome.
import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { createServer, type Server } from "node:https";
import type { Logger } from "@metal-kube/logging";
import { Histogram, type Registry } from "prom-client";
import {
  type AdmissionRequest,
  type AdmissionResponse,
  BadReviewError,
  denyError,
  parseAdmissionReview,
  reviewBody,
} from "./admission-review.js";

/** When the apiserver stops waiting for a review's answer (epoch ms). */
export interface Budget {
  deadline: number;
}

export type WebhookHandler = (req: AdmissionRequest, budget: Budget) => Promise<AdmissionResponse>;

export interface WebhookServerOptions {
  host: string;
  port: number;
  certFile: string;
  keyFile: string;
  handlers: Record<string, WebhookHandler>;
  logger: Logger;
  registry: Registry;
  /** Largest body accepted (an OperatingSystemConfig can be large). */
  maxBodyBytes?: number;
  /** How often the PEM files are checked for a change. */
  tlsReloadIntervalMs?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
export const DEFAULT_TLS_RELOAD_INTERVAL_MS = 10_000;
/** Used when the apiserver's `timeout` query parameter is missing: its own default for webhooks. */
export const DEFAULT_REVIEW_TIMEOUT_MS = 10_000;
/** Kept open longer than Go's HTTP client keeps idle connections (90 s), so the apiserver closes them first. */
const KEEP_ALIVE_TIMEOUT_MS = 120_000;

export interface WebhookServer {
  readonly server: Server;
  /** host:port actually listened on. */
  readonly address: string;
  stop(): Promise<void>;
}

/** Go duration as the apiserver sends `?timeout=10s`. */
function timeoutMs(query: string | null): number {
  const m = query ? /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(query) : null;
  if (!m) return DEFAULT_REVIEW_TIMEOUT_MS;
  return Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "s" ? 1000 : 60_000);
}

function outcome(r: AdmissionResponse): string {
  if (!r.allowed) return r.status && r.status.code !== 422 ? "error" : "denied";
  return r.patch ? "patched" : "allowed";
}

export async function startWebhookServer(o: WebhookServerOptions): Promise<WebhookServer> {
  const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const duration = new Histogram({
    name: "extension_webhook_duration_seconds",
    help: "Time from an AdmissionReview's arrival to its answer, by path and outcome (allowed, patched, denied, error)",
    labelNames: ["path", "outcome"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [o.registry],
  });
  const tls = () => ({ cert: readFileSync(o.certFile), key: readFileSync(o.keyFile) });
  const server = createServer({ ...tls(), keepAlive: true }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://webhook");
    const handler = o.handlers[url.pathname];
    if (!handler) {
      res.writeHead(404, { "content-type": "text/plain" }).end(`no webhook at ${url.pathname}\n`);
      return;
    }
    if (req.method !== "POST") {
      res.writeHead(405, { allow: "POST", "content-type": "text/plain" }).end("POST an AdmissionReview\n");
      return;
    }
    const started = process.hrtime.bigint();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > maxBody) {
        res.writeHead(413, { "content-type": "text/plain" }).end(`body larger than ${maxBody} bytes\n`);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (res.writableEnded) return;
      let apiVersion = "admission.k8s.io/v1";
      let request: AdmissionRequest;
      try {
        ({ apiVersion, request } = parseAdmissionReview(Buffer.concat(chunks).toString("utf8")));
      } catch (err) {
        const message = err instanceof BadReviewError ? err.message : String(err);
        res.writeHead(400, { "content-type": "text/plain" }).end(`${message}\n`);
        return;
      }
      const ms = timeoutMs(url.searchParams.get("timeout"));
      // Answer a little before the apiserver gives up, so it gets our reason rather than a timeout.
      const budget = { deadline: Date.now() + Math.max(100, ms - 250) };
      handler(request, budget)
        .catch((err: unknown) =>
          denyError(request.uid, 500, `webhook failed: ${err instanceof Error ? err.message : String(err)}`),
        )
        .then((response) => {
          const body = reviewBody(apiVersion, response);
          res.writeHead(200, { "content-type": "application/json" }).end(body);
          const result = outcome(response);
          duration.observe(
            { path: url.pathname, outcome: result },
            Number(process.hrtime.bigint() - started) / 1e9,
          );
          o.logger.debug(
            {
              path: url.pathname,
              kind: request.kind.kind,
              namespace: request.namespace,
              name: request.name,
              operation: request.operation,
              outcome: result,
            },
            "review answered",
          );
          if (!response.allowed)
            o.logger.info(
              {
                path: url.pathname,
                kind: request.kind.kind,
                namespace: request.namespace,
                name: request.name,
                operation: request.operation,
                code: response.status?.code,
                message: response.status?.message,
              },
              "admission refused",
            );
        });
    });
  });
  server.on("tlsClientError", (err) => o.logger.warn({ err }, "webhook TLS handshake failed"));
  server.on("clientError", (err, socket) => {
    o.logger.warn({ err }, "webhook client error");
    socket.destroy();
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const interval = o.tlsReloadIntervalMs ?? DEFAULT_TLS_RELOAD_INTERVAL_MS;
  const reload = () => {
    try {
      server.setSecureContext(tls());
      o.logger.info({ certFile: o.certFile }, "webhook TLS certificate reloaded");
    } catch (err) {
      // A half-written rotation: the old certificate stays until both files read cleanly.
      o.logger.warn({ err, certFile: o.certFile }, "could not reload the webhook TLS certificate");
    }
  };
  watchFile(o.certFile, { interval }, reload);
  watchFile(o.keyFile, { interval }, reload);
  const addr = server.address();
  const address =
    typeof addr === "object" && addr
      ? `${o.host.includes(":") ? `[${o.host}]` : o.host}:${addr.port}`
      : `${o.host}:${o.port}`;
  return {
    server,
    address,
    async stop() {
      unwatchFile(o.certFile, reload);
      unwatchFile(o.keyFile, reload);
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeIdleConnections();
      });
    },
  };
}

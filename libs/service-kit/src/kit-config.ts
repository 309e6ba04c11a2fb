import {
  ConfigError,
  duration,
  enumOf,
  field,
  hostPort,
  integer,
  listenAddress,
  text,
  url,
} from "@metal-kube/config";
import type { TlsOptions } from "./credentials.js";

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** The variables every service reads, with defaults that differ per service only in ports. */
export function kitConfigSpec(name: string, defaults: { listen: string; metricsListen: string }) {
  return {
    listen: field("GRPC_LISTEN", listenAddress(), {
      default: defaults.listen,
      description: "gRPC listen address: host:port or unix:///path.sock",
    }),
    metricsListen: field("METRICS_LISTEN", hostPort(), {
      default: defaults.metricsListen,
      description: "HTTP address of /metrics, /healthz and /readyz",
    }),
    workers: field("GRPC_WORKERS", integer(1, 256), {
      default: "1",
      description:
        "processes serving gRPC on the one address (a primary forks them); more than 1 uses more cores",
    }),
    tlsCertFile: field("TLS_CERT_FILE", text(), {
      optional: true,
      description: "PEM server certificate; enables TLS",
    }),
    tlsKeyFile: field("TLS_KEY_FILE", text(), {
      optional: true,
      description: "PEM private key of TLS_CERT_FILE",
    }),
    tlsClientCaFile: field("TLS_CLIENT_CA_FILE", text(), {
      optional: true,
      description: "PEM CA bundle; when set, clients must present a certificate (mutual TLS)",
    }),
    logLevel: field("LOG_LEVEL", enumOf(["trace", "debug", "info", "warn", "error", "fatal"]), {
      default: "info",
      description: "log level; debug adds request and response bodies with secrets masked",
    }),
    shutdownTimeoutMs: field("SHUTDOWN_TIMEOUT", duration(), {
      default: "15s",
      description: "how long calls in flight may finish after SIGTERM",
    }),
    natsUrl: field("NATS_URL", url().or(text().regex(/^nats:\/\/.+/)), {
      default: DEFAULT_NATS_URL,
      description: "NATS server for CloudEvents (JetStream)",
    }),
    outboxDir: field("EVENTS_OUTBOX_DIR", text(), {
      default: `.work/${name}/outbox`,
      description: "directory of the durable event outbox",
    }),
  };
}

/** TLS settings from the kit config; a key without a certificate (or the reverse) is a config error. */
export function tlsFromConfig(c: {
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  tlsClientCaFile: string | undefined;
}): TlsOptions | undefined {
  if (!c.tlsCertFile && !c.tlsKeyFile) {
    if (c.tlsClientCaFile)
      throw new ConfigError([
        { variable: "TLS_CLIENT_CA_FILE", message: "needs TLS_CERT_FILE and TLS_KEY_FILE" },
      ]);
    return undefined;
  }
  if (!c.tlsCertFile)
    throw new ConfigError([{ variable: "TLS_CERT_FILE", message: "is required when TLS_KEY_FILE is set" }]);
  if (!c.tlsKeyFile)
    throw new ConfigError([{ variable: "TLS_KEY_FILE", message: "is required when TLS_CERT_FILE is set" }]);
  return { certFile: c.tlsCertFile, keyFile: c.tlsKeyFile, clientCaFile: c.tlsClientCaFile };
}

/** Workers share a TCP address through the primary; node:cluster cannot hand out a unix socket's connections. */
export function checkWorkers(c: { workers: number; listen: string }): void {
  if (c.workers > 1 && c.listen.startsWith("unix:"))
    throw new ConfigError([
      { variable: "GRPC_WORKERS", message: `more than 1 needs a TCP GRPC_LISTEN, not ${c.listen}` },
    ]);
}

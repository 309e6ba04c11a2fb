// The webhook adapter's environment variables (its own process: none of the kit's gRPC server settings).
import { type ConfigValues, duration, field, hostPort, list, listenAddress, text } from "@metal-kube/config";
import { DEFAULT_CALL_TIMEOUT_MS } from "./grpc-client.js";
import type { Side } from "./webhook-configurations.js";

export const DEFAULT_EXTENSION_ADDRESS = "127.0.0.1:50055";
export const DEFAULT_ADAPTER_METRICS_LISTEN = "0.0.0.0:9155";
export const DEFAULT_EXTENSION_TIMEOUT = `${DEFAULT_CALL_TIMEOUT_MS / 1000}s`;
export const DEFAULT_WEBHOOK_LISTEN = "0.0.0.0:9443";
export const SIDES: readonly Side[] = ["garden", "seed"];
/** How long /readyz waits for the garden caches before it reports ready anyway (reviews read through). */
export const CACHE_SYNC_TIMEOUT_MS = 60_000;

export const adapterConfigSpec = {
  extensionAddress: field("EXTENSION_ADDRESS", listenAddress(), {
    default: DEFAULT_EXTENSION_ADDRESS,
    description: "gRPC address of the extension service (host:port or unix:///path.sock)",
  }),
  callTimeoutMs: field("EXTENSION_TIMEOUT", duration(), {
    default: DEFAULT_EXTENSION_TIMEOUT,
    description: "deadline of one call to the extension service (below the webhooks' 10 s timeout)",
  }),
  webhookListen: field("WEBHOOK_LISTEN", hostPort(), {
    default: DEFAULT_WEBHOOK_LISTEN,
    description: "HTTPS address of the webhooks",
  }),
  certFile: field("TLS_CERT_FILE", text(), {
    description: "PEM certificate (chain) of the webhooks' HTTPS server; re-read when it changes",
  }),
  keyFile: field("TLS_KEY_FILE", text(), { description: "PEM private key of the webhooks' HTTPS server" }),
  sides: field(
    "WEBHOOKS",
    list().refine((l) => l.length > 0 && l.every((s) => (SIDES as readonly string[]).includes(s)), {
      error: "must be garden, seed or garden,seed",
    }),
    {
      default: "garden,seed",
      description: "which webhooks to serve: garden (admission of metal objects), seed (/controlplane)",
    },
  ),
  kubeconfig: field("KUBECONFIG", text(), {
    optional: true,
    description:
      "kubeconfig of the seed (the /controlplane webhook's reads); in-cluster ServiceAccount when unset",
  }),
  gardenKubeconfig: field("GARDEN_KUBECONFIG", text(), {
    optional: true,
    description: "kubeconfig of the garden (cloud profiles, credentials Secrets); KUBECONFIG when unset",
  }),
  metricsListen: field("ADAPTER_METRICS_LISTEN", hostPort(), {
    default: DEFAULT_ADAPTER_METRICS_LISTEN,
    description: "HTTP address of /metrics, /healthz and /readyz",
  }),
};

export type AdapterConfig = ConfigValues<typeof adapterConfigSpec>;

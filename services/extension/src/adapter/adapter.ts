import { createServer, type Server } from "node:http";
import { type ConfigValues, duration, field, hostPort, list, listenAddress, text } from "@metal-kube/config";
import { createKubeClient, createKubeMetrics, type KubeClient } from "@metal-kube/kube";
import type { Logger } from "@metal-kube/logging";
import { Registry } from "prom-client";
import { createGardenObjects, type GardenObjects } from "./garden-objects.js";
import { createGardenWebhooks } from "./garden-webhooks.js";
import { createExtensionClients, DEFAULT_CALL_TIMEOUT_MS } from "./grpc-client.js";
import { createSeedObjects } from "./seed-objects.js";
import { createSeedWebhooks } from "./seed-webhooks.js";
import { PATHS, type Side } from "./webhook-configurations.js";
import { startWebhookServer, type WebhookHandler, type WebhookServer } from "./webhook-server.js";

export const DEFAULT_EXTENSION_ADDRESS = "127.0.0.1:50055";
export const DEFAULT_ADAPTER_METRICS_LISTEN = "0.0.0.0:9155";
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
    default: `${DEFAULT_CALL_TIMEOUT_MS / 1000}s`,
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

export interface ExtensionAdapter {
  readonly webhookAddress: string;
  readonly metricsAddress: string;
  stop(): Promise<void>;
}

function splitHostPort(s: string): [string, number] {
  const i = s.lastIndexOf(":");
  return [s.slice(0, i).replace(/^\[|\]$/g, ""), Number(s.slice(i + 1))];
}

/** Starts the webhooks (HTTPS), their reads of garden and seed, and the metrics server. */
export async function startExtensionAdapter(
  config: AdapterConfig,
  logger: Logger,
): Promise<ExtensionAdapter> {
  const registry = new Registry();
  const metrics = createKubeMetrics({ registry });
  const sides = new Set(config.sides as Side[]);
  const clients = createExtensionClients({
    address: config.extensionAddress,
    timeoutMs: config.callTimeoutMs,
  });
  const kubes: KubeClient[] = [];
  const handlers: Record<string, WebhookHandler> = {};
  let garden: GardenObjects | undefined;

  if (sides.has("seed")) {
    const seedKube = createKubeClient({ kubeconfigPath: config.kubeconfig, logger, metrics });
    kubes.push(seedKube);
    const seed = createSeedWebhooks(clients, createSeedObjects(seedKube));
    handlers[PATHS.controlplane] = seed.controlplane;
  }
  if (sides.has("garden")) {
    const gardenKube = createKubeClient({
      kubeconfigPath: config.gardenKubeconfig ?? config.kubeconfig,
      logger,
      metrics,
    });
    kubes.push(gardenKube);
    garden = createGardenObjects(gardenKube, logger);
    const g = createGardenWebhooks(clients, garden);
    handlers[PATHS.validate] = g.validate;
    handlers[PATHS.validateSecrets] = g.validateSecret;
    handlers[PATHS.mutate] = g.mutate;
    garden.start();
  }

  const [host, port] = splitHostPort(config.webhookListen);
  let webhooks: WebhookServer;
  try {
    webhooks = await startWebhookServer({
      host,
      port,
      certFile: config.certFile,
      keyFile: config.keyFile,
      handlers,
      logger,
      registry,
    });
  } catch (err) {
    await garden?.stop();
    clients.close();
    await Promise.all(kubes.map((k) => k.close()));
    throw err;
  }

  let cachesReady = garden === undefined;
  if (garden)
    void garden.waitForSync(CACHE_SYNC_TIMEOUT_MS).then(
      () => {
        cachesReady = true;
      },
      (err: unknown) => {
        // Reviews read profiles from the apiserver until the caches list; say why they do not.
        logger.warn({ err }, "garden caches not synced; cloud profiles are read per review until they are");
        cachesReady = true;
      },
    );

  const metricsServer: Server = createServer((req, res) => {
    if (req.url === "/healthz") return void res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    if (req.url === "/readyz")
      return void res
        .writeHead(cachesReady ? 200 : 503, { "content-type": "text/plain" })
        .end(cachesReady ? "ok\n" : "starting\n");
    if (req.url === "/metrics") {
      registry.metrics().then(
        (body) => res.writeHead(200, { "content-type": registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    res.writeHead(404).end();
  });
  const [mhost, mport] = splitHostPort(config.metricsListen);
  await new Promise<void>((resolve, reject) => {
    metricsServer.once("error", reject);
    metricsServer.listen(mport, mhost, () => resolve());
  });
  const maddr = metricsServer.address();
  const metricsAddress = typeof maddr === "object" && maddr ? `${mhost}:${maddr.port}` : config.metricsListen;

  logger.info(
    {
      webhookAddress: webhooks.address,
      metricsAddress,
      extension: config.extensionAddress,
      webhooks: [...sides],
      paths: Object.keys(handlers),
    },
    "extension adapter running",
  );
  return {
    webhookAddress: webhooks.address,
    metricsAddress,
    async stop() {
      await webhooks.stop();
      await garden?.stop();
      clients.close();
      await Promise.all(kubes.map((k) => k.close()));
      await new Promise<void>((r) => metricsServer.close(() => r()));
    },
  };
}

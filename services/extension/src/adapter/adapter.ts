import { createServer, type Server } from "node:http";
import { createKubeClient, createKubeMetrics, type KubeClient } from "@metal-kube/kube";
import type { Logger } from "@metal-kube/logging";
import { Registry } from "prom-client";
import { type AdapterConfig, CACHE_SYNC_TIMEOUT_MS } from "./config.js";
import { createGardenObjects, type GardenObjects } from "./garden-objects.js";
import { createGardenWebhooks } from "./garden-webhooks.js";
import { createExtensionClients } from "./grpc-client.js";
import { createSeedObjects } from "./seed-objects.js";
import { createSeedWebhooks } from "./seed-webhooks.js";
import { PATHS, type Side } from "./webhook-configurations.js";
import { startWebhookServer, type WebhookHandler, type WebhookServer } from "./webhook-server.js";

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

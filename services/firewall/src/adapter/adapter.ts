// The agent's Kubernetes side: the shoot (CWNPs, Services, the FirewallMonitor) and the seed (its own
// Firewall), each through its own kubeconfig, as on a firewall machine. It reaches the service only
// through its gRPC client.
import { createServer } from "node:http";
import { hostname } from "node:os";
import {
  createEventRecorder,
  createKubeClient,
  createKubeMetrics,
  createWorkQueue,
  type KubeClient,
} from "@metal-kube/kube";
import type { Logger } from "@metal-kube/logging";
import { Counter, Gauge, Registry } from "prom-client";
import type { AdapterConfig } from "./config.js";
import { createFirewallClient } from "./firewall-client.js";
import { createReconciler, DEFAULT_INTERVAL_MS } from "./reconciler.js";
import {
  CWNP_RESOURCE,
  type CwnpObject,
  FIREWALL_RESOURCE,
  type FirewallObject,
  MONITOR_RESOURCE,
  type MonitorObject,
  SERVICE_RESOURCE,
  type ServiceObject,
  SHOOT_NAMESPACE,
} from "./resources.js";

export interface FirewallAdapter {
  readonly metricsAddress: string;
  readonly shoot: KubeClient;
  readonly seed: KubeClient;
  stop(): Promise<void>;
}

const KEY = "ruleset";

export async function startFirewallAdapter(config: AdapterConfig, logger: Logger): Promise<FirewallAdapter> {
  const registry = new Registry();
  const metrics = createKubeMetrics({ registry });
  const shoot = createKubeClient({ kubeconfigPath: config.shootKubeconfig, logger, metrics });
  const seed = createKubeClient({ kubeconfigPath: config.seedKubeconfig, logger, metrics });
  const seedNamespace = config.seedNamespace ?? seed.kubeConfig.getCurrentContext();
  if (!seedNamespace) throw new Error("SEED_NAMESPACE: unset and the seed kubeconfig has no current context");
  const firewallName = config.firewallName ?? hostname();
  const service = createFirewallClient(config.firewallAddress);

  const firewalls = seed.informers.informerFor<FirewallObject>(FIREWALL_RESOURCE, {
    namespace: seedNamespace,
    fieldSelector: `metadata.name=${firewallName}`,
  });
  const cwnps = shoot.informers.informerFor<CwnpObject>(CWNP_RESOURCE);
  const services = shoot.informers.informerFor<ServiceObject>(SERVICE_RESOURCE);
  const monitors = shoot.informers.informerFor<MonitorObject>(MONITOR_RESOURCE, {
    namespace: SHOOT_NAMESPACE,
    fieldSelector: `metadata.name=${firewallName}`,
  });

  const reconciles = new Counter({
    name: "firewall_adapter_reconciles_total",
    help: "reconciles of the firewall by result (applied, unchanged, dry-run, rolled-back, refused, no-firewall)",
    labelNames: ["result"],
    registers: [registry],
  });
  const lastReconcile = new Gauge({
    name: "firewall_adapter_last_reconcile_timestamp_seconds",
    help: "when the firewall was last reconciled",
    registers: [registry],
  });
  const reconciler = createReconciler({
    firewallName,
    seedNamespace,
    extraClusterPrefixes: config.clusterPrefixes,
    controllerVersion: config.controllerVersion,
    service,
    firewalls,
    cwnps,
    services,
    monitors,
    cwnpClient: shoot.resource<CwnpObject>(CWNP_RESOURCE),
    monitorClient: shoot.resource<MonitorObject>(MONITOR_RESOURCE),
    recorder: createEventRecorder({
      transport: shoot.transport,
      component: "metal-kube-firewall",
      instance: firewallName,
    }),
    logger,
    onResult: (r) => {
      reconciles.labels({ result: r.result }).inc();
      lastReconcile.set(r.at.getTime() / 1000);
    },
  });
  const queue = createWorkQueue({
    name: "firewall",
    concurrency: 1,
    process: (_key, signal) => reconciler.reconcile(signal),
    listKeys: () => [KEY],
    metrics,
    logger,
  });
  const enqueue = () => {
    reconciler.invalidate();
    queue.add(KEY);
  };
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  firewalls.addHandler({
    add: enqueue,
    delete: enqueue,
    update: (a, b) => {
      if (!same(a.spec, b.spec) || !same(a.status?.firewallNetworks, b.status?.firewallNetworks)) enqueue();
    },
  });
  // Our own status writes change neither a CWNP's generation nor a Service's addresses and ports.
  cwnps.addHandler({
    add: enqueue,
    delete: enqueue,
    update: (a, b) => a.metadata.generation !== b.metadata.generation && enqueue(),
  });
  services.addHandler({
    add: enqueue,
    delete: enqueue,
    update: (a, b) => {
      if (!same(a.spec, b.spec) || !same(a.status?.loadBalancer, b.status?.loadBalancer)) enqueue();
    },
  });
  // The monitor is not part of the request: its arrival only asks for a reconcile.
  monitors.addHandler({ add: () => queue.add(KEY) });

  let ready = false;
  const server = createServer((req, res) => {
    if (req.url === "/healthz" || req.url === "/readyz") {
      res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" }).end(ready ? "ok\n" : "starting\n");
      return;
    }
    if (req.url === "/metrics") {
      registry.metrics().then(
        (body) => res.writeHead(200, { "content-type": registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    res.writeHead(404).end();
  });
  const i = config.metricsListen.lastIndexOf(":");
  const host = config.metricsListen.slice(0, i).replace(/^\[|\]$/g, "");
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(config.metricsListen.slice(i + 1)), host, () => resolve());
  });
  const addr = server.address();
  const metricsAddress = typeof addr === "object" && addr ? `${host}:${addr.port}` : config.metricsListen;

  const close = async () => {
    await queue.stop();
    await Promise.all([shoot.close(), seed.close()]);
    service.close();
    await new Promise<void>((r) => server.close(() => r()));
  };
  try {
    shoot.informers.start();
    seed.informers.start();
    await Promise.all([firewalls, cwnps, services, monitors].map((inf) => inf.waitForSync(60_000)));
  } catch (err) {
    await close();
    throw err;
  }
  queue.start();
  enqueue();
  ready = true;
  logger.info(
    {
      metricsAddress,
      firewall: firewallName,
      seedNamespace,
      service: config.firewallAddress,
      defaultIntervalMs: DEFAULT_INTERVAL_MS,
    },
    "firewall adapter running",
  );
  return { metricsAddress, shoot, seed, stop: close };
}

// The ccm's Kubernetes adapter (its own process, src/adapter/main.ts): node and Service controllers, the
// MetalLB/Cilium config controller and housekeeping, all active only while this process holds the leader
// Lease; standbys keep their caches warm and take over at once. Everything it asks or tells the ccm goes
// through the CloudProvider gRPC client, so each of its steps is an RPC in the service's metrics.

import {
  createEventRecorder,
  createKubeClient,
  createKubeMetrics,
  createLeaderElector,
  createWorkQueue,
  type Informer,
  type KubeClient,
  type LeaderElector,
  objectKey,
  type Permission,
  verifyPermissions,
  type WorkQueue,
} from "@metal-kube/kube";
import type { Logger } from "@metal-kube/logging";
import type { DescribeClusterResponse } from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import type { Registry } from "prom-client";
import type { CcmClient } from "./ccm-client.js";
import { createHousekeeping, type HousekeepingReport } from "./housekeeping.js";
import { createLbConfigController, type LbConfigController } from "./lb-config-controller.js";
import { createNodeController } from "./node-controller.js";
import {
  COMPONENT,
  internalIpOf,
  LB_CONFIG_RESOURCES,
  type LbConfigResources,
  LEADER_ELECTION_LEASE,
  NODES,
  type NodeObject,
  readyStatusOf,
  SERVICES,
  type ServiceObject,
} from "./resources.js";
import { createServiceController, serviceChanged } from "./service-controller.js";

export interface CcmAdapterOptions {
  ccm: CcmClient;
  /** kubeconfig file; client-node's default chain (in-cluster ServiceAccount) when absent. */
  kubeconfigPath?: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  /** Lease timings (tests shorten them). */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  loadBalancerNamespace?: string;
  loadBalancerClass?: string;
  housekeepingIntervalMs: number;
  nodeMonitorPeriodMs: number;
  concurrency: number;
  configDebounceMs: number;
  /** Every Service is ensured again at this period (default 10 min). */
  serviceResyncMs?: number;
  /** How long to wait for the service at start (default 60 s). */
  connectTimeoutMs?: number;
  /** Where the Kubernetes client's metrics go (the adapter's /metrics). */
  registry?: Registry;
  logger: Logger;
}

export interface CcmAdapter {
  readonly kube: KubeClient;
  readonly nodes: Informer<NodeObject>;
  readonly services: Informer<ServiceObject>;
  readonly nodeQueue: WorkQueue;
  readonly serviceQueue: WorkQueue;
  readonly config: LbConfigController;
  readonly isLeader: boolean;
  /** What the service said it serves (DescribeCluster at start). */
  readonly cluster: DescribeClusterResponse;
  /** Runs housekeeping now (tests, benchmarks). */
  housekeep(): Promise<HousekeepingReport>;
  stop(): Promise<void>;
}

export const DEFAULT_SERVICE_RESYNC_MS = 10 * 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 60_000;

function nodeChanged(a: NodeObject, b: NodeObject): boolean {
  return (
    JSON.stringify(a.spec) !== JSON.stringify(b.spec) ||
    JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {}) ||
    readyStatusOf(a) !== readyStatusOf(b) ||
    JSON.stringify(a.status?.addresses ?? []) !== JSON.stringify(b.status?.addresses ?? [])
  );
}

/** What the MetalLB config reads of a node: its name, labels (the ASN) and InternalIP. */
const configInputChanged = (a: NodeObject, b: NodeObject) =>
  internalIpOf(a) !== internalIpOf(b) ||
  JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {});

/** Everything the adapter does in Kubernetes; checked before it starts (deploy/ccm grants exactly this). */
export function adapterPermissions(
  o: Pick<CcmAdapterOptions, "leaderElect" | "leaderElectionNamespace"> & {
    resources: LbConfigResources;
    /** Namespace of the config objects; "" when they are cluster-scoped. */
    configNamespace: string;
  },
): Permission[] {
  const p = (verb: string, group: string, resource: string, extra: Partial<Permission> = {}): Permission => ({
    verb,
    group,
    resource,
    ...extra,
  });
  const lbNamespace = o.configNamespace || undefined;
  return [
    ...["get", "list", "watch", "patch", "delete"].map((v) => p(v, "", "nodes")),
    p("patch", "", "nodes", { subresource: "status" }),
    ...["get", "list", "watch", "patch"].map((v) => p(v, "", "services")),
    p("patch", "", "services", { subresource: "status" }),
    p("create", "", "events"),
    ...Object.values(o.resources).flatMap((r) =>
      ["list", "create", "patch", "delete"].map((v) => p(v, r.group, r.plural, { namespace: lbNamespace })),
    ),
    ...(o.leaderElect
      ? ["get", "create", "update"].map((v) =>
          p(v, "coordination.k8s.io", "leases", { namespace: o.leaderElectionNamespace }),
        )
      : []),
  ];
}

/** Waits for the service (its container may start after ours), then asks what it serves. */
async function describeCluster(o: CcmAdapterOptions, log: Logger): Promise<DescribeClusterResponse> {
  const timeoutMs = o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await o.ccm.waitForReady(Math.max(1, deadline - Date.now()));
      return await o.ccm.describeCluster({});
    } catch (err) {
      if (Date.now() >= deadline)
        throw new Error(
          `the ccm service at ${o.ccm.address} did not answer within ${timeoutMs} ms: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      if (attempt === 1)
        log.info(
          { ccm: o.ccm.address, err: err instanceof Error ? err.message : String(err) },
          "waiting for the ccm service",
        );
      await new Promise((r) => setTimeout(r, Math.min(1000, 100 * attempt)));
    }
  }
}

export async function startCcmAdapter(o: CcmAdapterOptions): Promise<CcmAdapter> {
  const log = o.logger.child({ component: "adapter" });
  const cluster = await describeCluster(o, log);
  const resources = LB_CONFIG_RESOURCES[cluster.loadBalancerMode];
  if (!resources)
    throw new Error(`the ccm service reports an unknown load balancer mode ${cluster.loadBalancerMode}`);
  // Cilium's objects are all cluster-scoped; MetalLB's live in one namespace.
  const namespaced = Object.values(resources).some((r) => r.namespaced !== false);
  const configNamespace = namespaced ? o.loadBalancerNamespace || cluster.defaultConfigNamespace : "";
  const metrics = o.registry ? createKubeMetrics({ registry: o.registry }) : undefined;
  const kube = createKubeClient({ kubeconfigPath: o.kubeconfigPath, logger: log, metrics });
  try {
    // Fail at start with every missing permission named, not later with a 403 in the middle of work.
    await verifyPermissions(kube.transport, adapterPermissions({ ...o, resources, configNamespace }));
  } catch (err) {
    await kube.close();
    throw err;
  }
  const nodes = kube.informers.informerFor<NodeObject>(NODES);
  const services = kube.informers.informerFor<ServiceObject>(SERVICES);
  const recorder = createEventRecorder({ transport: kube.transport, component: COMPONENT, logger: log });
  const config = createLbConfigController({
    ccm: o.ccm,
    kube,
    nodes: nodes.store,
    resources,
    namespace: configNamespace,
    labelSelector: cluster.configLabelSelector,
    debounceMs: o.configDebounceMs,
    logger: log,
  });
  const onConfigInput = () => config.trigger();
  const nodeController = createNodeController({
    ccm: o.ccm,
    informer: nodes,
    client: nodes.client,
    recorder,
    monitorPeriodMs: o.nodeMonitorPeriodMs,
    onConfigInput,
    logger: log,
  });
  const serviceController = createServiceController({
    ccm: o.ccm,
    informer: services,
    client: services.client,
    recorder,
    loadBalancerClass: o.loadBalancerClass,
    onConfigInput,
    logger: log,
  });
  const nodeQueue = createWorkQueue({
    name: "ccm-nodes",
    concurrency: o.concurrency,
    resyncPeriodMs: 0,
    process: (key, signal) => nodeController.reconcile(key, signal),
    metrics,
    logger: log,
  });
  const serviceQueue = createWorkQueue({
    name: "ccm-services",
    concurrency: o.concurrency,
    resyncPeriodMs: o.serviceResyncMs ?? DEFAULT_SERVICE_RESYNC_MS,
    listKeys: () => services.store.keys(),
    process: (key, signal) => serviceController.reconcile(key, signal),
    metrics,
    logger: log,
  });
  const housekeeping = createHousekeeping({
    ccm: o.ccm,
    nodes: nodes.store,
    services: services.store,
    wantsLoadBalancer: serviceController.wantsLoadBalancer,
    requeueNodes: () => {
      for (const k of nodes.store.keys()) nodeQueue.add(k);
    },
    requeueService: (key) => serviceQueue.add(key),
    onConfigInput,
    logger: log,
  });

  const unsubscribe = [
    nodes.addHandler({
      add: (n) => {
        nodeQueue.add(objectKey(n));
        onConfigInput();
      },
      update: (a, b) => {
        if (nodeChanged(a, b)) nodeQueue.add(objectKey(b));
        if (configInputChanged(a, b)) onConfigInput();
      },
      delete: () => onConfigInput(),
    }),
    services.addHandler({
      add: (s) => serviceQueue.add(objectKey(s)),
      update: (a, b) => {
        if (serviceChanged(a, b)) serviceQueue.add(objectKey(b));
      },
      delete: () => onConfigInput(),
    }),
  ];
  nodeQueue.pause();
  serviceQueue.pause();
  nodes.start();
  services.start();
  await Promise.all([nodes.waitForSync(60_000), services.waitForSync(60_000)]);
  nodeQueue.start();
  serviceQueue.start();

  let housekeepingTimer: NodeJS.Timeout | undefined;
  let leadership: AbortController | undefined;
  let housekeepingRun: Promise<HousekeepingReport> | undefined;
  const housekeep = (): Promise<HousekeepingReport> => {
    if (housekeepingRun) return housekeepingRun;
    const signal = leadership?.signal ?? AbortSignal.abort();
    housekeepingRun = housekeeping.run(signal).finally(() => {
      housekeepingRun = undefined;
    });
    return housekeepingRun;
  };
  const scheduleHousekeeping = () => {
    housekeepingTimer = setTimeout(() => {
      housekeep()
        .catch((err: unknown) => {
          if (!leadership?.signal.aborted)
            log.warn({ err: err instanceof Error ? err.message : String(err) }, "housekeeping failed");
        })
        .finally(() => {
          if (leadership && !leadership.signal.aborted) scheduleHousekeeping();
        });
    }, o.housekeepingIntervalMs);
  };

  const lead = (leading: boolean) => {
    if (leading) {
      leadership = new AbortController();
      log.info("leading: reconciling nodes, Services and the load balancer config");
      // Whatever happened while standby is in the caches: look at everything once.
      for (const k of nodes.store.keys()) nodeQueue.add(k);
      for (const k of services.store.keys()) serviceQueue.add(k);
      nodeQueue.resume();
      serviceQueue.resume();
      config.setActive(true);
      // Orphans of Services deleted while no ccm ran are collected right away, not after an interval.
      void housekeep().catch((err: unknown) =>
        log.warn({ err: err instanceof Error ? err.message : String(err) }, "housekeeping failed"),
      );
      scheduleHousekeeping();
    } else {
      log.info("not leading: standing by");
      leadership?.abort();
      leadership = undefined;
      if (housekeepingTimer) clearTimeout(housekeepingTimer);
      nodeQueue.pause({ abortInFlight: true });
      serviceQueue.pause({ abortInFlight: true });
      config.setActive(false);
    }
  };

  let elector: LeaderElector | undefined;
  if (o.leaderElect) {
    elector = createLeaderElector({
      transport: kube.transport,
      namespace: o.leaderElectionNamespace,
      name: LEADER_ELECTION_LEASE,
      releaseOnStop: true,
      leaseDurationMs: o.leaseDurationMs,
      renewDeadlineMs: o.renewDeadlineMs,
      retryPeriodMs: o.retryPeriodMs,
      metrics,
      logger: log,
    });
    elector.onChange(lead);
    elector.start();
  } else lead(true);

  log.info(
    {
      nodes: nodes.store.size,
      services: services.store.size,
      ccm: o.ccm.address,
      cluster: cluster.clusterId,
      configNamespace,
    },
    "ccm adapter running",
  );
  return {
    kube,
    cluster,
    nodes,
    services,
    nodeQueue,
    serviceQueue,
    config,
    get isLeader() {
      return leadership !== undefined;
    },
    housekeep,
    async stop() {
      for (const u of unsubscribe) u();
      if (housekeepingTimer) clearTimeout(housekeepingTimer);
      leadership?.abort();
      await Promise.all([nodeQueue.stop(), serviceQueue.stop(), config.stop()]);
      await housekeepingRun?.catch(() => undefined);
      await elector?.stop();
      await recorder.flush();
      await kube.close();
    },
  };
}

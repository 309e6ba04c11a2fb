// The ccm's Kubernetes adapter, run in the service's process (KUBECONFIG or IN_CLUSTER): node and
// Service controllers, the MetalLB/Cilium config controller and housekeeping, all active only while
// this process holds the leader Lease; standbys keep their caches warm and take over at once.

import {
  createEventRecorder,
  createKubeClient,
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
import type { CloudProvider } from "../cloud-provider.js";
import type { CcmEventSink } from "../events.js";
import { createHousekeeping, type HousekeepingReport } from "./housekeeping.js";
import { createLbConfigController, type LbConfigController } from "./lb-config-controller.js";
import { createNodeController } from "./node-controller.js";
import {
  COMPONENT,
  internalIpOf,
  LB_CONFIG_RESOURCES,
  LEADER_ELECTION_LEASE,
  NODES,
  type NodeObject,
  readyStatusOf,
  SERVICES,
  type ServiceObject,
} from "./resources.js";
import { createServiceController, serviceChanged } from "./service-controller.js";

export interface CcmAdapterOptions {
  cp: CloudProvider;
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
  events: CcmEventSink;
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
  /** Runs housekeeping now (tests, benchmarks). */
  housekeep(): Promise<HousekeepingReport>;
  stop(): Promise<void>;
}

export const DEFAULT_SERVICE_RESYNC_MS = 10 * 60_000;

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
  o: Pick<CcmAdapterOptions, "cp" | "loadBalancerNamespace" | "leaderElect" | "leaderElectionNamespace">,
): Permission[] {
  const p = (verb: string, group: string, resource: string, extra: Partial<Permission> = {}): Permission => ({
    verb,
    group,
    resource,
    ...extra,
  });
  const mode = o.cp.loadBalancerMode;
  const lbNamespace = mode === "metallb" ? (o.loadBalancerNamespace ?? "metallb-system") : undefined;
  return [
    ...["get", "list", "watch", "patch", "delete"].map((v) => p(v, "", "nodes")),
    p("patch", "", "nodes", { subresource: "status" }),
    ...["get", "list", "watch", "patch"].map((v) => p(v, "", "services")),
    p("patch", "", "services", { subresource: "status" }),
    p("create", "", "events"),
    ...Object.values(LB_CONFIG_RESOURCES[mode]).flatMap((r) =>
      ["list", "create", "patch", "delete"].map((v) => p(v, r.group, r.plural, { namespace: lbNamespace })),
    ),
    ...(o.leaderElect
      ? ["get", "create", "update"].map((v) =>
          p(v, "coordination.k8s.io", "leases", { namespace: o.leaderElectionNamespace }),
        )
      : []),
  ];
}

export async function startCcmAdapter(o: CcmAdapterOptions): Promise<CcmAdapter> {
  const log = o.logger.child({ component: "adapter" });
  const kube = createKubeClient({ kubeconfigPath: o.kubeconfigPath, logger: log });
  try {
    // Fail at start with every missing permission named, not later with a 403 in the middle of work.
    await verifyPermissions(kube.transport, adapterPermissions(o));
  } catch (err) {
    await kube.close();
    throw err;
  }
  const nodes = kube.informers.informerFor<NodeObject>(NODES);
  const services = kube.informers.informerFor<ServiceObject>(SERVICES);
  const recorder = createEventRecorder({ transport: kube.transport, component: COMPONENT, logger: log });
  const config = createLbConfigController({
    cp: o.cp,
    kube,
    nodes: nodes.store,
    namespace: o.loadBalancerNamespace,
    debounceMs: o.configDebounceMs,
    logger: log,
  });
  const onConfigInput = () => config.trigger();
  const nodeController = createNodeController({
    cp: o.cp,
    informer: nodes,
    client: nodes.client,
    recorder,
    events: o.events,
    monitorPeriodMs: o.nodeMonitorPeriodMs,
    onConfigInput,
    logger: log,
  });
  const serviceController = createServiceController({
    cp: o.cp,
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
    logger: log,
  });
  const serviceQueue = createWorkQueue({
    name: "ccm-services",
    concurrency: o.concurrency,
    resyncPeriodMs: o.serviceResyncMs ?? DEFAULT_SERVICE_RESYNC_MS,
    listKeys: () => services.store.keys(),
    process: (key, signal) => serviceController.reconcile(key, signal),
    logger: log,
  });
  const housekeeping = createHousekeeping({
    cp: o.cp,
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
      logger: log,
    });
    elector.onChange(lead);
    elector.start();
  } else lead(true);

  log.info({ nodes: nodes.store.size, services: services.store.size }, "ccm adapter running");
  return {
    kube,
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

import {
  type Actuator,
  createEventRecorder,
  createReconciler,
  createWorkQueue,
  DEFAULT_SYNC_TIMEOUT_MS,
  defaultEnqueueOnUpdate,
  type KubeClient,
  type LeaderElector,
  objectKey,
  type Permission,
  verifyPermissions,
  type WorkQueue,
} from "@metal-kube/kube";
import type { Logger } from "@metal-kube/logging";
import { type OperatingSystemConfig, OSC_RESOURCE } from "./osc.js";
import { SECRET_RESOURCE } from "./secrets.js";

/** The finalizer Gardener's generic OSC controller (and so os-metal-extension) writes. */
export const DEFAULT_FINALIZER = "extensions.gardener.cloud/operatingsystemconfigs";
export const DEFAULT_OSC_TYPES = ["ubuntu", "debian"] as const;

export interface OscControllerOptions {
  kube: KubeClient;
  actuator: Actuator<OperatingSystemConfig>;
  /** spec.type values this adapter handles; other OSCs are left alone (no finalizer, no status). */
  types?: readonly string[];
  namespace?: string;
  finalizer?: string;
  concurrency?: number;
  resyncPeriodMs?: number;
  leaderElector?: LeaderElector;
  verifyPermissions?: boolean;
  syncTimeoutMs?: number;
  logger: Logger;
}

export interface OscController {
  readonly queue: WorkQueue;
  readonly permissions: Permission[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Informer + queue + the kit's generic reconciler, with one addition the kit's createController
 * lacks: OSCs of other types (other OS extensions' objects) never reach the reconciler, which would
 * otherwise put our finalizer on them.
 */
export function createOscController(o: OscControllerOptions): OscController {
  const types = new Set(o.types ?? DEFAULT_OSC_TYPES);
  const finalizer = o.finalizer ?? DEFAULT_FINALIZER;
  const log = o.logger.child({ controller: "operatingsystemconfigs" });
  const informer = o.kube.informers.informerFor<OperatingSystemConfig>(OSC_RESOURCE, {
    namespace: o.namespace,
  });
  const events = createEventRecorder({
    transport: o.kube.transport,
    component: "metal-kube-ignition",
    logger: log,
  });
  const reconciler = createReconciler<OperatingSystemConfig>({
    client: informer.client,
    actuator: o.actuator,
    finalizer,
    status: "lastOperation",
    events,
    logger: log,
    metrics: o.kube.metrics,
  });
  const ours = (osc: OperatingSystemConfig | undefined) => osc !== undefined && types.has(osc.spec?.type);
  const queue = createWorkQueue({
    name: "operatingsystemconfigs",
    concurrency: o.concurrency,
    resyncPeriodMs: o.resyncPeriodMs,
    listKeys: () => informer.store.keys().filter((k) => ours(informer.store.get(k))),
    metrics: o.kube.metrics,
    logger: log,
    async process(key, signal) {
      const osc = informer.store.get(key);
      // Gone objects are passed on (the reconciler treats them as done); foreign ones are skipped.
      if (osc !== undefined && !ours(osc)) return undefined;
      return reconciler.reconcile(osc, signal);
    },
  });
  const enqueueOnUpdate = defaultEnqueueOnUpdate(finalizer);
  const ns = o.namespace;
  const g = OSC_RESOURCE.group;
  const permissions: Permission[] = [
    ...["get", "list", "watch", "patch"].map((verb) => ({
      verb,
      group: g,
      resource: OSC_RESOURCE.plural,
      namespace: ns,
    })),
    { verb: "patch", group: g, resource: OSC_RESOURCE.plural, subresource: "status", namespace: ns },
    ...["get", "create", "update", "delete"].map((verb) => ({
      verb,
      group: "",
      resource: SECRET_RESOURCE.plural,
      namespace: ns,
    })),
    ...["create", "patch"].map((verb) => ({ verb, group: "", resource: "events", namespace: ns })),
    ...(o.leaderElector?.permissions ?? []),
  ];
  let unsubscribe: (() => void) | undefined;
  let unwatchLeader: (() => void) | undefined;

  return {
    queue,
    permissions,
    async start() {
      if (o.verifyPermissions !== false) await verifyPermissions(o.kube.transport, permissions);
      unsubscribe = informer.addHandler({
        add: (osc) => {
          if (ours(osc)) queue.add(objectKey(osc));
        },
        update: (a, b) => {
          if (ours(b) && enqueueOnUpdate(a, b)) queue.add(objectKey(b));
        },
      });
      informer.start();
      await informer.waitForSync(o.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS);
      const elector = o.leaderElector;
      if (elector) {
        if (!elector.isLeader) queue.pause();
        unwatchLeader = elector.onChange((leading) => {
          if (leading) {
            for (const k of informer.store.keys()) if (ours(informer.store.get(k))) queue.add(k);
            queue.resume();
          } else queue.pause({ abortInFlight: true });
        });
        elector.start();
      }
      queue.start();
      log.info({ objects: informer.store.size, types: [...types] }, "controller started");
    },
    async stop() {
      unwatchLeader?.();
      unsubscribe?.();
      await queue.stop();
      await o.leaderElector?.stop();
      await events.flush();
    },
  };
}

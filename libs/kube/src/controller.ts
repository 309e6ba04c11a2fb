import type { Logger } from "@metal-kube/logging";
import type { Backoff, BackoffOptions } from "./backoff.js";
import { createEventRecorder, type EventRecorder } from "./event-recorder.js";
import type { Informer } from "./informer.js";
import type { KubeClient } from "./kube-client.js";
import type { LeaderElector } from "./leader-election.js";
import { type Permission, verifyPermissions } from "./permissions.js";
import {
  type Actuator,
  createReconciler,
  OPERATION_ANNOTATION,
  type Reconciler,
  type StatusStyle,
} from "./reconciler.js";
import type { ResourceRef } from "./resource.js";
import type { IndexFunc } from "./store.js";
import { type KubeObject, objectKey } from "./types.js";
import { createWorkQueue, type WorkQueue } from "./work-queue.js";

/** Informer caches must be complete before the first reconcile, or deletions look like absent objects. */
export const DEFAULT_SYNC_TIMEOUT_MS = 60_000;

export interface ControllerOptions<T extends KubeObject> {
  kube: KubeClient;
  resource: ResourceRef;
  actuator: Actuator<T>;
  finalizer: string;
  /** Name for logs, metrics and the queue; the resource's plural by default. */
  name?: string;
  /** Watch only this namespace (all when absent). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  indexers?: Record<string, IndexFunc<T>>;
  /**
   * The objects this controller is responsible for (e.g. Gardener extension objects of its own
   * `spec.type`); others are never reconciled, so they get no finalizer and no status from us.
   */
  filter?: (obj: T) => boolean;
  status?: StatusStyle;
  conditionType?: string;
  reportProcessing?: boolean;
  processingDelayMs?: number;
  statusSubresource?: boolean;
  concurrency?: number;
  resyncPeriodMs?: number;
  backoff?: Backoff | BackoffOptions;
  /** Only the leader reconciles; standbys keep their caches warm. */
  leaderElector?: LeaderElector;
  /** An EventRecorder, `false` for none, or absent for one named after `component`. */
  events?: EventRecorder | false;
  /** Event source component (default "metal-kube"). */
  component?: string;
  /**
   * Which updates start a reconcile. Default: the spec changed (metadata.generation), deletion started,
   * Gardener's operation annotation was set, or our finalizer was removed; status-only and our own
   * writes do not, so the controller never feeds itself. Resync reconciles everything anyway.
   */
  enqueueOnUpdate?: (oldObj: T, newObj: T) => boolean;
  /** Check RBAC (SelfSubjectAccessReview) before starting, and fail with every missing permission named. */
  verifyPermissions?: boolean;
  /** Further permissions the actuator needs, checked with the controller's own. */
  extraPermissions?: Permission[];
  syncTimeoutMs?: number;
  logger?: Logger;
}

export interface Controller<T extends KubeObject> {
  readonly name: string;
  readonly informer: Informer<T>;
  readonly queue: WorkQueue;
  readonly reconciler: Reconciler<T>;
  /** Permissions this controller needs (RBAC rules for its deploy manifests). */
  readonly permissions: Permission[];
  /** Verifies permissions, starts the informer, waits for its cache, then starts reconciling. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function defaultEnqueueOnUpdate(finalizer: string) {
  return (oldObj: KubeObject, newObj: KubeObject): boolean => {
    const a = oldObj.metadata;
    const b = newObj.metadata;
    if (b.generation === undefined) return a.resourceVersion !== b.resourceVersion;
    if (a.generation !== b.generation) return true;
    if (!a.deletionTimestamp && b.deletionTimestamp) return true;
    const op = b.annotations?.[OPERATION_ANNOTATION];
    if (op && op !== a.annotations?.[OPERATION_ANNOTATION]) return true;
    return (a.finalizers?.includes(finalizer) ?? false) && !(b.finalizers?.includes(finalizer) ?? false);
  };
}

/**
 * Informer + work queue + generic reconciler for one resource: the whole adapter of one kind. Events
 * enqueue `namespace/name`; the queue runs the reconciler on the cached object (one reconcile per key at
 * a time, coalesced, backed off, resynced); with a leader elector only the leader's queue runs, and
 * losing the lease aborts in-flight reconciles.
 */
export function createController<T extends KubeObject>(options: ControllerOptions<T>): Controller<T> {
  const o = options;
  const name = o.name ?? o.resource.plural;
  const log = o.logger ?? o.kube.logger.child({ controller: name });
  const metrics = o.kube.metrics;
  const informer = o.kube.informers.informerFor<T>(o.resource, {
    namespace: o.namespace,
    labelSelector: o.labelSelector,
    fieldSelector: o.fieldSelector,
    indexers: o.indexers,
  });
  const events =
    o.events === false
      ? undefined
      : (o.events ??
        createEventRecorder({
          transport: o.kube.transport,
          component: o.component ?? "metal-kube",
          logger: log,
        }));
  const reconciler = createReconciler<T>({
    client: informer.client,
    actuator: o.actuator,
    finalizer: o.finalizer,
    status: o.status,
    conditionType: o.conditionType,
    reportProcessing: o.reportProcessing,
    processingDelayMs: o.processingDelayMs,
    statusSubresource: o.statusSubresource,
    events,
    logger: log,
    metrics,
  });
  const filter = o.filter ?? (() => true);
  const ours = (key: string) => {
    const obj = informer.store.get(key);
    return obj !== undefined && filter(obj);
  };
  const queue = createWorkQueue({
    name,
    concurrency: o.concurrency,
    resyncPeriodMs: o.resyncPeriodMs,
    backoff: o.backoff,
    listKeys: () => informer.store.keys().filter(ours),
    metrics,
    logger: log,
    process: async (key, signal) => {
      const obj = informer.store.get(key);
      // Gone objects pass (gone = done); foreign ones are skipped.
      if (obj !== undefined && !filter(obj)) return undefined;
      return reconciler.reconcile(obj, signal);
    },
  });
  const enqueueOnUpdate = o.enqueueOnUpdate ?? defaultEnqueueOnUpdate(o.finalizer);
  const g = o.resource.group;
  const ns = o.namespace;
  const permissions: Permission[] = [
    ...["get", "list", "watch", "patch"].map((verb) => ({
      verb,
      group: g,
      resource: o.resource.plural,
      namespace: ns,
    })),
    ...(o.status !== "none" && o.statusSubresource !== false
      ? [{ verb: "patch", group: g, resource: o.resource.plural, subresource: "status", namespace: ns }]
      : []),
    ...(events
      ? ["create", "patch"].map((verb) => ({ verb, group: "", resource: "events", namespace: ns }))
      : []),
    ...(o.leaderElector?.permissions ?? []),
    ...(o.extraPermissions ?? []),
  ];
  let unsubscribe: (() => void) | undefined;
  let unwatchLeader: (() => void) | undefined;

  return {
    name,
    informer,
    queue,
    reconciler,
    permissions,
    async start() {
      if (o.verifyPermissions !== false) await verifyPermissions(o.kube.transport, permissions);
      unsubscribe = informer.addHandler({
        add: (obj) => {
          if (filter(obj)) queue.add(objectKey(obj));
        },
        update: (a, b) => {
          if (filter(b) && enqueueOnUpdate(a, b)) queue.add(objectKey(b));
        },
        // A deletion with our finalizer shows up as an update (deletionTimestamp); a final delete needs nothing.
      });
      informer.start();
      await informer.waitForSync(o.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS);
      const elector = o.leaderElector;
      if (elector) {
        if (!elector.isLeader) queue.pause();
        unwatchLeader = elector.onChange((leading) => {
          if (leading) {
            // Whatever happened while we were standby is in the cache: look at everything once.
            for (const k of informer.store.keys()) if (ours(k)) queue.add(k);
            queue.resume();
          } else queue.pause({ abortInFlight: true });
        });
        elector.start();
      }
      queue.start();
      log.info({ objects: informer.store.size }, "controller started");
    },
    async stop() {
      unwatchLeader?.();
      unsubscribe?.();
      await queue.stop();
      await events?.flush();
    },
  };
}

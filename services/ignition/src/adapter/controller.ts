import {
  type Actuator,
  createController,
  type KubeClient,
  type LeaderElector,
  type Permission,
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
 * The kit's controller for OperatingSystemConfigs of our types: OSCs of other types (other OS extensions'
 * objects) never reach the reconciler, which would otherwise put our finalizer on them.
 */
export function createOscController(o: OscControllerOptions): OscController {
  const types = new Set(o.types ?? DEFAULT_OSC_TYPES);
  const ns = o.namespace;
  const controller = createController<OperatingSystemConfig>({
    kube: o.kube,
    resource: OSC_RESOURCE,
    actuator: o.actuator,
    finalizer: o.finalizer ?? DEFAULT_FINALIZER,
    name: "operatingsystemconfigs",
    namespace: ns,
    filter: (osc) => types.has(osc.spec?.type),
    status: "lastOperation",
    concurrency: o.concurrency,
    resyncPeriodMs: o.resyncPeriodMs,
    leaderElector: o.leaderElector,
    component: "metal-kube-ignition",
    verifyPermissions: o.verifyPermissions,
    // The user data Secret the actuator writes.
    extraPermissions: ["get", "create", "update", "delete"].map((verb) => ({
      verb,
      group: "",
      resource: SECRET_RESOURCE.plural,
      namespace: ns,
    })),
    syncTimeoutMs: o.syncTimeoutMs,
    logger: o.logger.child({ controller: "operatingsystemconfigs", types: [...types] }),
  });
  return {
    queue: controller.queue,
    permissions: controller.permissions,
    start: () => controller.start(),
    async stop() {
      await controller.stop();
      // The kit's controller leaves the elector to its owner; this adapter owns it.
      await o.leaderElector?.stop();
    },
  };
}

// Node controller and node lifecycle: uninitialized nodes get providerID, addresses, the
// instance-type/zone/region labels and lose the taint; addresses and machine-tag labels are kept
// current; a NotReady node whose machine is gone is deleted, a shut-down one tainted.

import {
  type EventRecorder,
  type Informer,
  isNotFound,
  mutateWithRetry,
  type ResourceClient,
} from "@metal-kube/kube";
import type { Logger } from "@metal-kube/logging";
import { isMetalProviderId } from "@metal-kube/metal-stack";
import {
  AddressType,
  type InstanceMetadataResponse,
  NodeEventType,
  type NodeRef,
} from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import { Code, ServiceError } from "@metal-kube/service-kit";
import type { CcmClient } from "./ccm-client.js";
import {
  LABEL_INSTANCE_TYPE,
  LABEL_REGION,
  LABEL_ZONE,
  type NodeObject,
  readyStatusOf,
  SHUTDOWN_TAINT,
  UNINITIALIZED_TAINT,
} from "./resources.js";

export interface NodeControllerOptions {
  ccm: CcmClient;
  informer: Informer<NodeObject>;
  client: ResourceClient<NodeObject>;
  recorder: EventRecorder;
  /** How soon a NotReady node is looked at again. */
  monitorPeriodMs: number;
  /** Called when something the MetalLB config depends on changed (labels, addresses). */
  onConfigInput: () => void;
  logger: Logger;
}

const ADDRESS_TYPES: Record<number, string> = {
  [AddressType.ADDRESS_TYPE_INTERNAL_IP]: "InternalIP",
  [AddressType.ADDRESS_TYPE_EXTERNAL_IP]: "ExternalIP",
  [AddressType.ADDRESS_TYPE_HOSTNAME]: "Hostname",
};

const refOf = (n: NodeObject): NodeRef => ({
  providerId: n.spec?.providerID ?? "",
  nodeName: n.metadata.name ?? "",
});
const hasTaint = (n: NodeObject, key: string) => (n.spec?.taints ?? []).some((t) => t.key === key);
const isNotFoundError = (err: unknown) => err instanceof ServiceError && err.code === Code.NOT_FOUND;

function wantedLabels(md: InstanceMetadataResponse): Record<string, string> {
  return {
    ...md.labels,
    [LABEL_INSTANCE_TYPE]: md.instanceType,
    [LABEL_ZONE]: md.zone,
    [LABEL_REGION]: md.region,
  };
}

export function createNodeController(o: NodeControllerOptions) {
  const log = o.logger.child({ controller: "nodes" });
  // The service publishes the CloudEvent (its outbox, its metrics); a failure is logged, never retried
  // by reconciling the node again: the node itself is done.
  const recordEvent = (req: Parameters<CcmClient["recordNodeEvent"]>[0]) =>
    void o.ccm
      .recordNodeEvent(req)
      .catch((err: unknown) =>
        log.warn(
          { node: req.nodeName, err: err instanceof Error ? err.message : String(err) },
          "event not published",
        ),
      );

  /** Applies metadata: labels and providerID on the object, addresses on status; drops `dropTaint`. */
  /** Writes the metadata; `initialized` is true when this call removed the taint (not a stale-cache rerun). */
  async function apply(
    node: NodeObject,
    md: InstanceMetadataResponse,
    dropTaint: boolean,
  ): Promise<{ changed: boolean; initialized: boolean }> {
    let initialized = false;
    const ref = { name: node.metadata.name ?? "" };
    const labels = wantedLabels(md);
    const addresses = md.nodeAddresses.map((a) => ({
      type: ADDRESS_TYPES[a.type] ?? "InternalIP",
      address: a.address,
    }));
    // Addresses first: once the taint is gone the node counts as initialized and must be complete.
    const withStatus = await mutateWithRetry(
      o.client,
      ref,
      (c) => {
        c.status ??= {};
        c.status.addresses = addresses;
      },
      { current: node, subresource: "status" },
    );
    const written = await mutateWithRetry(
      o.client,
      ref,
      (c) => {
        c.metadata.labels = { ...c.metadata.labels, ...labels };
        c.spec ??= {};
        if (!c.spec.providerID) c.spec.providerID = md.providerId;
        if (dropTaint) {
          // Decided on the copy actually written: a retry after a conflict sees the fresh object.
          initialized = (c.spec.taints ?? []).some((t) => t.key === UNINITIALIZED_TAINT);
          const rest = (c.spec.taints ?? []).filter((t) => t.key !== UNINITIALIZED_TAINT);
          if (rest.length > 0) c.spec.taints = rest;
          else delete c.spec.taints;
        }
      },
      { current: withStatus },
    );
    return { changed: withStatus !== node || written !== withStatus, initialized };
  }

  async function setShutdownTaint(node: NodeObject, on: boolean) {
    await mutateWithRetry(
      o.client,
      { name: node.metadata.name ?? "" },
      (c) => {
        c.spec ??= {};
        const rest = (c.spec.taints ?? []).filter((t) => t.key !== SHUTDOWN_TAINT);
        if (on) rest.push({ key: SHUTDOWN_TAINT, effect: "NoSchedule" });
        if (rest.length > 0) c.spec.taints = rest;
        else delete c.spec.taints;
      },
      { current: node },
    );
  }

  return {
    async reconcile(name: string, signal: AbortSignal): Promise<{ requeueAfterMs: number } | undefined> {
      const node = o.informer.store.get(name);
      if (!node) return undefined;
      const ref = refOf(node);
      // Another provider's node (e.g. a mixed cluster) is none of our business.
      if (ref.providerId !== "" && !isMetalProviderId(ref.providerId)) return undefined;
      if (hasTaint(node, UNINITIALIZED_TAINT)) {
        const md = await o.ccm.instanceMetadata({ node: ref }, { signal });
        signal.throwIfAborted();
        const { initialized } = await apply(node, md, true);
        if (initialized) {
          log.info({ node: name, providerId: md.providerId }, "node initialized");
          o.recorder.event(
            node,
            "Normal",
            "Initialized",
            `providerID ${md.providerId}, zone ${md.zone}, type ${md.instanceType}`,
          );
          recordEvent({
            type: NodeEventType.NODE_EVENT_TYPE_INITIALIZED,
            nodeName: name,
            providerId: md.providerId,
            reason: "",
          });
        }
        o.onConfigInput();
        return undefined;
      }
      // Lifecycle: only nodes whose kubelet reports NotReady (no Ready condition = not ours to judge).
      const ready = readyStatusOf(node);
      if (ready !== undefined && ready !== "True") {
        const { exists } = await o.ccm.instanceExists({ node: ref }, { signal });
        signal.throwIfAborted();
        if (!exists) {
          try {
            await o.client.delete({ name, preconditions: { uid: node.metadata.uid } });
          } catch (err) {
            if (!isNotFound(err)) throw err;
          }
          log.info({ node: name }, "node deleted: its machine is gone");
          recordEvent({
            type: NodeEventType.NODE_EVENT_TYPE_DELETED,
            nodeName: name,
            providerId: ref.providerId,
            reason: "machine no longer allocated",
          });
          o.onConfigInput();
          return undefined;
        }
        const { shutdown } = await o.ccm.instanceShutdown({ node: ref }, { signal }).catch((err: unknown) => {
          if (isNotFoundError(err)) return { shutdown: false };
          throw err;
        });
        if (shutdown !== hasTaint(node, SHUTDOWN_TAINT)) await setShutdownTaint(node, shutdown);
        return { requeueAfterMs: o.monitorPeriodMs };
      }
      if (ready === "True" && hasTaint(node, SHUTDOWN_TAINT)) await setShutdownTaint(node, false);
      // Keep addresses and machine-tag labels current.
      try {
        const md = await o.ccm.instanceMetadata({ node: ref }, { signal });
        signal.throwIfAborted();
        if ((await apply(o.informer.store.get(name) ?? node, md, false)).changed) o.onConfigInput();
      } catch (err) {
        if (!isNotFoundError(err)) throw err;
        log.debug({ node: name }, "no machine for node");
      }
      return undefined;
    },
  };
}

// Service controller: LoadBalancer Services without a foreign loadBalancerClass get the
// cleanup finalizer, an IP and status.loadBalancer.ingress; deletion or a type change releases the IP,
// then the finalizer. The finalizer goes on before any IP is taken, so no IP outlives its Service
// unnoticed; IPs of Services removed while the ccm was down are collected by housekeeping.

import {
  addFinalizer,
  type EventRecorder,
  hasFinalizer,
  type Informer,
  mutateWithRetry,
  type ResourceClient,
  removeFinalizer,
} from "@metal-kube/kube";
import type { Logger } from "@metal-kube/logging";
import type { LoadBalancerService } from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import type { CcmClient } from "./ccm-client.js";
import { LB_FINALIZER, LB_IPS_ANNOTATIONS, type ServiceObject } from "./resources.js";

export interface ServiceControllerOptions {
  ccm: CcmClient;
  informer: Informer<ServiceObject>;
  client: ResourceClient<ServiceObject>;
  recorder: EventRecorder;
  /** Our loadBalancerClass besides the default (none). */
  loadBalancerClass?: string;
  onConfigInput: () => void;
  logger: Logger;
}

/** The request of a Service: spec.loadBalancerIP, else the first of MetalLB's loadBalancerIPs. */
export function toLoadBalancerService(svc: ServiceObject): LoadBalancerService {
  const annotations = svc.metadata.annotations ?? {};
  let requested = svc.spec?.loadBalancerIP ?? "";
  if (requested === "")
    for (const a of LB_IPS_ANNOTATIONS) {
      const v = annotations[a];
      if (v) {
        requested = v.split(",")[0]!.trim();
        break;
      }
    }
  return {
    namespace: svc.metadata.namespace ?? "",
    name: svc.metadata.name ?? "",
    uid: svc.metadata.uid ?? "",
    loadBalancerIp: requested,
    annotations,
    ports: (svc.spec?.ports ?? []).map((p) => ({
      name: p.name ?? "",
      protocol: p.protocol ?? "TCP",
      port: p.port,
      nodePort: p.nodePort ?? 0,
    })),
    loadBalancerClass: svc.spec?.loadBalancerClass ?? "",
  };
}

export function createServiceController(o: ServiceControllerOptions) {
  const log = o.logger.child({ controller: "services" });
  const ours = (svc: ServiceObject) => {
    if (svc.spec?.type !== "LoadBalancer") return false;
    const cls = svc.spec.loadBalancerClass;
    return cls === undefined || cls === "" || cls === o.loadBalancerClass;
  };

  return {
    /** True when the Service is one this controller gives an IP (exposed for orphan collection). */
    wantsLoadBalancer: (svc: ServiceObject) => ours(svc) && !svc.metadata.deletionTimestamp,

    async reconcile(key: string, signal: AbortSignal): Promise<undefined> {
      let svc = o.informer.store.get(key);
      if (!svc) return undefined;
      const ref = { name: svc.metadata.name ?? "", namespace: svc.metadata.namespace };
      const request = toLoadBalancerService(svc);
      try {
        if (ours(svc) && !svc.metadata.deletionTimestamp) {
          svc = await addFinalizer(o.client, svc, LB_FINALIZER);
          signal.throwIfAborted();
          const r = await o.ccm.ensureLoadBalancer({ service: request, nodes: [] }, { signal });
          signal.throwIfAborted();
          const want = r.status?.ingress.map((i) => i.ip) ?? [];
          const have = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? "");
          if (want.join(",") !== have.join(",")) {
            // Decided on the copy actually written: a rerun on a stale cache finds it done already.
            let wrote = false;
            await mutateWithRetry(
              o.client,
              ref,
              (c) => {
                const current = (c.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? "");
                wrote = current.join(",") !== want.join(",");
                c.status = { ...c.status, loadBalancer: { ingress: want.map((ip) => ({ ip })) } };
              },
              { current: svc, subresource: "status" },
            );
            if (wrote)
              o.recorder.event(
                svc,
                "Normal",
                "EnsuredLoadBalancer",
                `${r.allocated ? "allocated" : "using"} IP ${want.join(", ")}${r.released.length ? `; released ${r.released.join(", ")}` : ""}`,
              );
            o.onConfigInput();
          } else if (r.allocated || r.released.length > 0) o.onConfigInput();
          return undefined;
        }
        if (!hasFinalizer(svc, LB_FINALIZER)) return undefined;
        const r = await o.ccm.ensureLoadBalancerDeleted({ service: request }, { signal });
        signal.throwIfAborted();
        if (!svc.metadata.deletionTimestamp && (svc.status?.loadBalancer?.ingress ?? []).length > 0) {
          svc = await mutateWithRetry(
            o.client,
            ref,
            (c) => {
              c.status = { ...c.status, loadBalancer: {} };
            },
            { current: svc, subresource: "status" },
          );
        }
        await removeFinalizer(o.client, svc, LB_FINALIZER);
        const released = [...r.untagged, ...r.freed];
        if (released.length > 0)
          o.recorder.event(svc, "Normal", "DeletedLoadBalancer", `released IP ${released.join(", ")}`);
        log.info({ service: key, untagged: r.untagged, freed: r.freed }, "load balancer released");
        o.onConfigInput();
        return undefined;
      } catch (err) {
        if (!signal.aborted) {
          const message = err instanceof Error ? err.message : String(err);
          o.recorder.event(svc, "Warning", "SyncLoadBalancerFailed", message);
        }
        throw err;
      }
    },
  };
}

/** Which Service updates need a reconcile: not our own status writes or finalizer adds. */
export function serviceChanged(a: ServiceObject, b: ServiceObject): boolean {
  if (JSON.stringify(a.spec) !== JSON.stringify(b.spec)) return true;
  if (JSON.stringify(a.metadata.annotations ?? {}) !== JSON.stringify(b.metadata.annotations ?? {}))
    return true;
  if (Boolean(a.metadata.deletionTimestamp) !== Boolean(b.metadata.deletionTimestamp)) return true;
  return hasFinalizer(a, LB_FINALIZER) && !hasFinalizer(b, LB_FINALIZER);
}

// Housekeeping, every HOUSEKEEPING_INTERVAL while leading: machine tags to node labels (by
// re-queuing every node), the cluster tag and SSH key on the machines, and orphan-IP collection: IPs
// tagged for Services of this cluster that no longer exist (deleted while the ccm was down, or whose
// finalizer was removed by hand) lose the tag and, if ephemeral, are freed.

import type { Store } from "@metal-kube/kube";
import type { Logger } from "@metal-kube/logging";
import type { CcmClient } from "./ccm-client.js";
import type { NodeObject, ServiceObject } from "./resources.js";

export interface HousekeepingOptions {
  ccm: CcmClient;
  nodes: Store<NodeObject>;
  services: Store<ServiceObject>;
  /** True for Services that should hold an IP. */
  wantsLoadBalancer: (svc: ServiceObject) => boolean;
  requeueNodes: () => void;
  /** Reconcile this Service again (it appeared while its orphaned IP was being released). */
  requeueService: (key: string) => void;
  onConfigInput: () => void;
  logger: Logger;
}

export interface HousekeepingReport {
  machinesUpdated: string[];
  machineFailures: string[];
  orphansReleased: string[];
}

export function createHousekeeping(o: HousekeepingOptions) {
  const log = o.logger.child({ component: "housekeeping" });
  let reportedFailures = "";

  async function collectOrphans(signal: AbortSignal): Promise<string[]> {
    const { ips } = await o.ccm.listLoadBalancerIps({}, { signal });
    const released: string[] = [];
    for (const ip of ips) {
      for (const key of ip.services) {
        const svc = o.services.get(key);
        // A Service still being torn down keeps its tag for the service controller to release.
        if (svc && (o.wantsLoadBalancer(svc) || svc.metadata.deletionTimestamp)) continue;
        const [namespace, ...rest] = key.split("/");
        signal.throwIfAborted();
        const r = await o.ccm.ensureLoadBalancerDeleted(
          {
            service: {
              namespace: namespace ?? "",
              name: rest.join("/"),
              uid: "",
              loadBalancerIp: "",
              annotations: {},
              ports: [],
              loadBalancerClass: "",
            },
          },
          { signal },
        );
        released.push(...r.untagged, ...r.freed);
        // Created in the meantime: its controller may have used the tag we just removed; look again.
        if (o.services.get(key)) o.requeueService(key);
        log.info({ service: key, untagged: r.untagged, freed: r.freed }, "orphan IP released");
      }
    }
    if (released.length > 0) o.onConfigInput();
    return released;
  }

  return {
    async run(signal: AbortSignal): Promise<HousekeepingReport> {
      o.requeueNodes();
      const nodes = o.nodes
        .list()
        .map((n) => ({ providerId: n.spec?.providerID ?? "", nodeName: n.metadata.name ?? "" }));
      const sync = await o.ccm.syncMachines({ nodes }, { signal });
      const failures = sync.failed.join("; ");
      if (failures !== "" && failures !== reportedFailures)
        log.warn({ failed: sync.failed }, "machine housekeeping failed");
      reportedFailures = failures;
      const orphans = await collectOrphans(signal);
      o.onConfigInput();
      return { machinesUpdated: sync.updated, machineFailures: sync.failed, orphansReleased: orphans };
    },
  };
}

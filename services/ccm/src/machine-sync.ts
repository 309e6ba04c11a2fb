// The machine side of housekeeping: the cluster tag on every machine of the cluster's nodes and the
// configured SSH key in their allocation. A machine is written only when something is missing.

import type { Logger } from "@metal-kube/logging";
import { machineIdOf, TAG_CLUSTER } from "@metal-kube/metal-stack";
import type { NodeRef, SyncMachinesResponse } from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import type { MachineDirectory, MachinesApi } from "./machine-directory.js";

export interface MachineSyncOptions {
  machines: MachinesApi;
  directory: MachineDirectory;
  clusterId: string;
  sshPublicKey?: string;
  logger: Logger;
  timeoutMs?: number;
}

export function createMachineSync(o: MachineSyncOptions) {
  const clusterTag = `${TAG_CLUSTER}=${o.clusterId}`;
  return async function syncMachines(
    nodes: readonly NodeRef[],
    signal?: AbortSignal,
  ): Promise<SyncMachinesResponse> {
    const updated: string[] = [];
    const failed: string[] = [];
    for (const node of nodes) {
      let id = node.nodeName;
      try {
        const m = await o.directory.lookup(
          node.providerId !== ""
            ? { machineId: machineIdOf(node.providerId, "node.provider_id") }
            : { hostname: node.nodeName },
          { signal },
        );
        if (!m) continue;
        id = m.id;
        // Another cluster's machine (same project) is never re-tagged.
        const otherCluster = m.tags.some((t) => t.startsWith(`${TAG_CLUSTER}=`) && t !== clusterTag);
        if (otherCluster) continue;
        const keys = m.allocation?.ssh_pub_keys ?? [];
        const needTag = !m.tags.includes(clusterTag);
        const needKey =
          o.sshPublicKey !== undefined && o.sshPublicKey !== "" && !keys.includes(o.sshPublicKey);
        if (!needTag && !needKey) continue;
        await o.machines.update(
          {
            id: m.id,
            description: m.description ?? "",
            tags: needTag ? [...m.tags, clusterTag] : m.tags,
            ssh_pub_keys: needKey ? [...keys, o.sshPublicKey!] : keys,
          },
          { signal, timeoutMs: o.timeoutMs },
        );
        updated.push(m.id);
        o.logger.info({ machine: m.id, tag: needTag, sshKey: needKey }, "machine housekeeping");
      } catch (err) {
        failed.push(`${id}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (updated.length > 0) o.directory.invalidate();
    return { updated, failed };
  };
}

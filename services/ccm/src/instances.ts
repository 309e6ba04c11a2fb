// Instances and zones (anchors §4, plus the topology labels metal-ccm never set).

import type { MachineResponse } from "@metal-kube/metal-api";
import { formatProviderId, machineIdOf, tagsToLabels } from "@metal-kube/metal-stack";
import {
  AddressType,
  type GetZoneResponse,
  type InstanceMetadataResponse,
  type NodeAddress,
  type NodeRef,
} from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import { ServiceError } from "@metal-kube/service-kit";
import type { MachineDirectory } from "./machine-directory.js";

export interface InstancesOptions {
  directory: MachineDirectory;
  defaultExternalNetworkId: string;
  additionalNetworks?: readonly string[];
}

export interface Instances {
  metadata(node: NodeRef | undefined, signal?: AbortSignal): Promise<InstanceMetadataResponse>;
  exists(node: NodeRef | undefined, signal?: AbortSignal): Promise<boolean>;
  shutdown(node: NodeRef | undefined, signal?: AbortSignal): Promise<boolean>;
  zone(node: NodeRef | undefined, signal?: AbortSignal): Promise<GetZoneResponse>;
}

/** Region = partition id up to its first `-` (fra-equ01 -> fra). */
export const regionOf = (partition: string) => {
  const i = partition.indexOf("-");
  return i < 0 ? partition : partition.slice(0, i);
};

function refOf(node: NodeRef | undefined) {
  if (!node || (node.providerId === "" && node.nodeName === ""))
    throw ServiceError.invalidArgument("node", "needs provider_id or node_name");
  return node.providerId !== ""
    ? { machineId: machineIdOf(node.providerId, "node.provider_id") }
    : { hostname: node.nodeName };
}

const describeRef = (node: NodeRef) =>
  node.providerId !== "" ? `providerID ${node.providerId}` : `node name ${node.nodeName}`;

const SHUTDOWN_EVENTS = new Set(["Machine Reclaim", "Planned Reboot"]);

export function createInstances(o: InstancesOptions): Instances {
  const external = new Set([o.defaultExternalNetworkId, ...(o.additionalNetworks ?? [])]);

  async function mustFind(node: NodeRef | undefined, signal?: AbortSignal): Promise<MachineResponse> {
    const ref = refOf(node);
    const m = await o.directory.lookup(ref, { signal });
    if (!m) throw ServiceError.notFound(`no machine of the project is allocated with ${describeRef(node!)}`);
    return m;
  }

  function addresses(m: MachineResponse): NodeAddress[] {
    const nets = m.allocation?.networks ?? [];
    const out: NodeAddress[] = [];
    const primary =
      nets.find((n) => n.networktypev2 === "private-primary") ??
      nets.find((n) => n.networktype.startsWith("privateprimary")) ??
      nets.find((n) => n.private && !n.underlay);
    const internal = primary?.ips[0];
    if (internal) out.push({ type: AddressType.ADDRESS_TYPE_INTERNAL_IP, address: internal });
    for (const n of nets)
      if (external.has(n.networkid))
        for (const ip of n.ips) out.push({ type: AddressType.ADDRESS_TYPE_EXTERNAL_IP, address: ip });
    const host = m.allocation?.hostname;
    if (host) out.push({ type: AddressType.ADDRESS_TYPE_HOSTNAME, address: host });
    return out;
  }

  return {
    async metadata(node, signal) {
      const m = await mustFind(node, signal);
      const partition = m.partition?.id ?? "";
      return {
        providerId: formatProviderId(partition, m.id),
        instanceType: m.size?.id ?? "",
        nodeAddresses: addresses(m),
        zone: partition,
        region: regionOf(partition),
        machineId: m.id,
        hostname: m.allocation?.hostname ?? "",
        labels: tagsToLabels(m.tags),
      };
    },
    async exists(node, signal) {
      const ref = refOf(node);
      // A positive answer may come from the cache; "gone" is always read afresh.
      if (await o.directory.lookup(ref, { signal })) return true;
      return (await o.directory.lookup(ref, { signal, fresh: true })) !== undefined;
    },
    async shutdown(node, signal) {
      const ref = refOf(node);
      const m = await o.directory.lookup(ref, { signal, fresh: true });
      if (!m)
        throw ServiceError.notFound(`no machine of the project is allocated with ${describeRef(node!)}`);
      if (m.liveliness === "Dead") return true;
      const last = m.events?.log?.[0]?.event;
      return last !== undefined && SHUTDOWN_EVENTS.has(last);
    },
    async zone(node, signal) {
      const m = await mustFind(node, signal);
      const partition = m.partition?.id ?? "";
      return { zone: partition, region: regionOf(partition) };
    },
  };
}

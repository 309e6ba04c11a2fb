// What the driver reads from a metal-api machine: ownership, the MCM view (providerID, node name,
// addresses) and the provisioning outcome.

import type { MachineNetwork, MachineResponse, MachineSummary } from "@metal-kube/metal-api";
import { formatProviderId } from "@metal-kube/metal-stack";
import type { NodeAddress } from "@metal-kube/proto/metalstack/machinedriver/v1/machine_driver";
import { ServiceError } from "@metal-kube/service-kit";
import type { ProviderSpec } from "./provider-spec.js";

export interface MachineView {
  id: string;
  providerId: string;
  nodeName: string;
  addresses: NodeAddress[];
  partition: string;
  size: string;
}

/** Allocated in the spec's project, to this cluster, as a worker (not a firewall). */
export function ownedBy(m: MachineSummary, spec: ProviderSpec): boolean {
  const a = m.allocation;
  if (!a) return false;
  if (a.project !== spec.project) return false;
  if (a.role && a.role !== "machine") return false;
  return (m.tags ?? []).includes(spec.clusterTag);
}

/**
 * The private primary network: the one the providerSpec put the machine into; failing that, the one
 * metal-api types as private primary (metal-lib's names, then the v2 names), then any private one.
 */
function privatePrimary(
  networks: MachineNetwork[],
  specNetwork: string | undefined,
): MachineNetwork | undefined {
  const withIp = networks.filter((n) => (n.ips ?? []).length > 0);
  return (
    withIp.find((n) => specNetwork !== undefined && n.networkid === specNetwork) ??
    withIp.find((n) => (n.networktype ?? "").startsWith("privateprimary")) ??
    withIp.find((n) => n.networktypev2 === "private-primary" || n.networktypev2 === "child") ??
    withIp.find((n) => n.private && !n.underlay)
  );
}

/** The node name MCM and the kubelet use: the allocation's hostname (the Machine's name). */
export function nodeNameOf(m: MachineSummary): string {
  const name = m.allocation?.hostname || m.allocation?.name || "";
  if (name === "") throw ServiceError.internal(`machine ${m.id} has an allocation without a hostname`);
  return name;
}

/** specNetwork: the providerSpec's network, the machine's private primary network. */
export function viewOf(m: MachineResponse, specNetwork?: string): MachineView {
  const partition = m.partition?.id ?? "";
  const providerId = formatProviderId(partition, m.id);
  const nodeName = nodeNameOf(m);
  const addresses: NodeAddress[] = [];
  const primary = privatePrimary(m.allocation?.networks ?? [], specNetwork);
  const ip = primary?.ips?.[0];
  if (ip) addresses.push({ type: "InternalIP", address: ip });
  addresses.push({ type: "Hostname", address: nodeName });
  return { id: m.id, providerId, nodeName, addresses, partition, size: m.size?.id ?? "" };
}

/** Why provisioning failed for good, as metal-api reports it; undefined while it is healthy. */
export function provisioningFailure(m: MachineResponse): string | undefined {
  const ev = m.events;
  if (!ev) return undefined;
  const reason = ev.crash_loop
    ? "is in a provisioning crash loop"
    : ev.failed_machine_reclaim
      ? "failed its reclaim"
      : "";
  if (!reason) return undefined;
  const last = ev.last_error_event ?? ev.log?.[0];
  const detail = last ? `; last event: ${last.event}${last.message ? ` (${last.message})` : ""}` : "";
  return `${reason}${detail}`;
}

/** Provisioning finished: the machine phoned home (metal-api sets allocation.succeeded). */
export function provisioned(m: MachineResponse): boolean {
  return m.allocation?.succeeded === true || m.events?.log?.[0]?.event === "Phoned Home";
}

/** The last provisioning event, for messages. */
export function lastEvent(m: MachineResponse): string {
  return m.events?.log?.[0]?.event ?? "none";
}

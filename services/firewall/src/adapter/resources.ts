// The Kubernetes objects the agent reads and writes, as far as it uses them.
import type { KubeObject, ResourceRef } from "@metal-kube/kube";

/** metal-stack.io/v1 ClusterwideNetworkPolicy (shoot). */
export const CWNP_RESOURCE: ResourceRef = {
  group: "metal-stack.io",
  version: "v1",
  plural: "clusterwidenetworkpolicies",
  kind: "ClusterwideNetworkPolicy",
};
export const SERVICE_RESOURCE: ResourceRef = {
  group: "",
  version: "v1",
  plural: "services",
  kind: "Service",
};
/** firewall.metal-stack.io/v2 FirewallMonitor (shoot, namespace firewall; no status subresource). */
export const MONITOR_RESOURCE: ResourceRef = {
  group: "firewall.metal-stack.io",
  version: "v2",
  plural: "firewallmonitors",
  kind: "FirewallMonitor",
};
/** firewall.metal-stack.io/v2 Firewall (seed; read only). */
export const FIREWALL_RESOURCE: ResourceRef = {
  group: "firewall.metal-stack.io",
  version: "v2",
  plural: "firewalls",
  kind: "Firewall",
};

/** Where CWNPs take effect and the FirewallMonitor lives. */
export const SHOOT_NAMESPACE = "firewall";

export interface IpBlockObject {
  cidr?: string;
  except?: string[];
}
export interface PortObject {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export interface CwnpObject extends KubeObject {
  spec?: {
    description?: string;
    ingress?: Array<{ from?: IpBlockObject[]; ports?: PortObject[] }>;
    egress?: Array<{
      to?: IpBlockObject[];
      toFQDNs?: Array<{ matchName?: string; matchPattern?: string }>;
      ports?: PortObject[];
    }>;
  };
  status?: { state?: string; message?: string };
}

export interface ServiceObject extends KubeObject {
  spec?: {
    type?: string;
    loadBalancerIP?: string;
    loadBalancerSourceRanges?: string[];
    ports?: Array<{ protocol?: string; port: number }>;
  };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } };
}

export interface FirewallNetworkObject {
  networkID?: string;
  networkType?: string;
  vrf?: number;
  prefixes?: string[];
  destinationPrefixes?: string[];
  ips?: string[];
  nat?: boolean;
  asn?: number;
}

export interface FirewallObject extends KubeObject {
  spec?: {
    interval?: string;
    dryRun?: boolean;
    internalPrefixes?: string[];
    rateLimits?: Array<{ networkID?: string; rate?: number }>;
    egressRules?: Array<{ networkID?: string; ips?: string[] }>;
    allowedNetworks?: { ingress?: string[]; egress?: string[] };
    logAcceptedConnections?: boolean;
  };
  status?: { firewallNetworks?: FirewallNetworkObject[] };
}

export interface MonitorObject extends KubeObject {
  controllerStatus?: Record<string, unknown>;
}

// The Kubernetes resources and well-known names the adapter works with.

import type { KubeObject, ResourceRef } from "@metal-kube/kube";
import { LoadBalancerMode } from "@metal-kube/proto/metalstack/ccm/v1/ccm";

export const NODES: ResourceRef = {
  group: "",
  version: "v1",
  plural: "nodes",
  kind: "Node",
  namespaced: false,
};
export const SERVICES: ResourceRef = { group: "", version: "v1", plural: "services", kind: "Service" };

/** The kinds of objects the config controller owns in one mode, by kind. */
export type LbConfigResources = Record<string, ResourceRef>;

/** The objects the config controller owns, per mode (the service's, from DescribeCluster). */
export const LB_CONFIG_RESOURCES: Partial<Record<LoadBalancerMode, LbConfigResources>> = {
  [LoadBalancerMode.LOAD_BALANCER_MODE_METALLB]: {
    IPAddressPool: {
      group: "metallb.io",
      version: "v1beta1",
      plural: "ipaddresspools",
      kind: "IPAddressPool",
    },
    BGPAdvertisement: {
      group: "metallb.io",
      version: "v1beta1",
      plural: "bgpadvertisements",
      kind: "BGPAdvertisement",
    },
    BGPPeer: { group: "metallb.io", version: "v1beta2", plural: "bgppeers", kind: "BGPPeer" },
  },
  [LoadBalancerMode.LOAD_BALANCER_MODE_CILIUM]: {
    CiliumLoadBalancerIPPool: {
      group: "cilium.io",
      version: "v2alpha1",
      plural: "ciliumloadbalancerippools",
      kind: "CiliumLoadBalancerIPPool",
      namespaced: false,
    },
    CiliumBGPPeeringPolicy: {
      group: "cilium.io",
      version: "v2alpha1",
      plural: "ciliumbgppeeringpolicies",
      kind: "CiliumBGPPeeringPolicy",
      namespaced: false,
    },
  },
  [LoadBalancerMode.LOAD_BALANCER_MODE_CILIUM_BGP_V2]: {
    CiliumLoadBalancerIPPool: {
      group: "cilium.io",
      version: "v2",
      plural: "ciliumloadbalancerippools",
      kind: "CiliumLoadBalancerIPPool",
      namespaced: false,
    },
    CiliumBGPClusterConfig: {
      group: "cilium.io",
      version: "v2",
      plural: "ciliumbgpclusterconfigs",
      kind: "CiliumBGPClusterConfig",
      namespaced: false,
    },
    CiliumBGPPeerConfig: {
      group: "cilium.io",
      version: "v2",
      plural: "ciliumbgppeerconfigs",
      kind: "CiliumBGPPeerConfig",
      namespaced: false,
    },
    CiliumBGPAdvertisement: {
      group: "cilium.io",
      version: "v2",
      plural: "ciliumbgpadvertisements",
      kind: "CiliumBGPAdvertisement",
      namespaced: false,
    },
  },
};

export const UNINITIALIZED_TAINT = "node.cloudprovider.kubernetes.io/uninitialized";
export const SHUTDOWN_TAINT = "node.cloudprovider.kubernetes.io/shutdown";
export const LB_FINALIZER = "service.kubernetes.io/load-balancer-cleanup";
export const LABEL_INSTANCE_TYPE = "node.kubernetes.io/instance-type";
export const LABEL_ZONE = "topology.kubernetes.io/zone";
export const LABEL_REGION = "topology.kubernetes.io/region";
/** MetalLB's requested-IP annotations, newest first (spec.loadBalancerIP is deprecated upstream). */
export const LB_IPS_ANNOTATIONS = ["metallb.io/loadBalancerIPs", "metallb.universe.tf/loadBalancerIPs"];
export const FIELD_MANAGER = "metal-kube-ccm";
export const COMPONENT = "metal-kube-ccm";
export const LEADER_ELECTION_LEASE = "metal-kube-ccm";

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface NodeObject extends KubeObject {
  spec?: { providerID?: string; taints?: Taint[]; unschedulable?: boolean };
  status?: {
    addresses?: { type: string; address: string }[];
    conditions?: { type: string; status: string }[];
  };
}

export interface ServiceObject extends KubeObject {
  spec?: {
    type?: string;
    loadBalancerIP?: string;
    loadBalancerClass?: string;
    ports?: { name?: string; protocol?: string; port: number; nodePort?: number }[];
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export const internalIpOf = (n: NodeObject) =>
  n.status?.addresses?.find((a) => a.type === "InternalIP")?.address ?? "";

export const readyStatusOf = (n: NodeObject) => n.status?.conditions?.find((c) => c.type === "Ready")?.status;

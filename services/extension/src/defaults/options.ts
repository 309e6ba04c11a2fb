// Shoot defaults (the reference's DEFAULTER_* values), each overridable through the service's config.

export interface CalicoDefaults {
  kubeProxyEnabled: boolean;
  backend: string;
  poolMode: string;
  typhaEnabled: boolean;
}

export interface CiliumDefaults {
  kubeProxyEnabled: boolean;
  hubbleEnabled: boolean;
  tunnel: string;
  devices: string[];
  directRoutingDevice: string;
  bgpControlPlane: boolean;
  ipv4NativeRoutingCIDREnabled: boolean;
  loadBalancingMode: string;
  mtu: number;
}

export interface ShootDefaults {
  nodeCIDRMaskSize: number;
  maxPods: number;
  networkType: string;
  podsCIDR: string;
  servicesCIDR: string;
  calico: CalicoDefaults;
  cilium: CiliumDefaults;
}

export const DEFAULT_SHOOT_DEFAULTS: ShootDefaults = {
  nodeCIDRMaskSize: 23,
  maxPods: 250,
  networkType: "calico",
  podsCIDR: "10.240.0.0/13",
  servicesCIDR: "10.248.0.0/18",
  calico: { kubeProxyEnabled: true, backend: "none", poolMode: "Never", typhaEnabled: false },
  cilium: {
    kubeProxyEnabled: false,
    hubbleEnabled: true,
    tunnel: "disabled",
    devices: ["lan+", "lo"],
    directRoutingDevice: "lo",
    bgpControlPlane: true,
    ipv4NativeRoutingCIDREnabled: true,
    loadBalancingMode: "dsr",
    mtu: 1440,
  },
};

export const CALICO_API_VERSION = "calico.networking.extensions.gardener.cloud/v1alpha1";
export const CILIUM_API_VERSION = "cilium.networking.extensions.gardener.cloud/v1alpha1";

// The extension service's own environment variables (the kit adds GRPC_LISTEN, METRICS_LISTEN, TLS_*,
// NATS_URL, ...). The DEFAULTER_* names are the reference's, so an existing admission chart's values keep
// working; unlike the reference, a bad value stops the service (exit 2 naming it) instead of silently
// falling back.
import { bool, type ConfigValues, field, integer, list, text } from "@metal-kube/config";
import { DEFAULT_SHOOT_DEFAULTS as D, type ShootDefaults } from "./defaults/options.js";
import { isCidr } from "./ip.js";
import { DEFAULT_SIDECAR_OPTIONS, type SidecarOptions } from "./seed/mcm-sidecars.js";

export const DEFAULT_LISTEN = "0.0.0.0:50055";
export const DEFAULT_METRICS_LISTEN = "0.0.0.0:9055";

const cidr = () => text().refine(isCidr, { error: "must be a CIDR such as 10.240.0.0/13" });
const nonEmpty = () => text().refine((v) => v.trim() !== "", { error: "must not be empty" });

export const extensionConfigSpec = {
  nodeCIDRMaskSize: field("DEFAULTER_NODECIDRMASKSIZE", integer(8, 30), {
    default: String(D.nodeCIDRMaskSize),
    description: "default spec.kubernetes.kubeControllerManager.nodeCIDRMaskSize of a metal Shoot",
  }),
  maxPods: field("DEFAULTER_MAXPODS", integer(1, 10_000), {
    default: String(D.maxPods),
    description: "default spec.kubernetes.kubelet.maxPods",
  }),
  networkType: field("DEFAULTER_NETWORKTYPE", nonEmpty(), {
    default: D.networkType,
    description:
      "default spec.networking.type of a Shoot with workers (calico or cilium get a providerConfig)",
  }),
  podsCIDR: field("DEFAULTER_PODSCIDR", cidr(), {
    default: D.podsCIDR,
    description: "default spec.networking.pods",
  }),
  servicesCIDR: field("DEFAULTER_SERVICESCIDR", cidr(), {
    default: D.servicesCIDR,
    description: "default spec.networking.services",
  }),
  calicoKubeProxyEnabled: field("DEFAULTER_CALICOKUBEPROXYENABLED", bool(), {
    default: String(D.calico.kubeProxyEnabled),
    description: "default spec.kubernetes.kubeProxy.enabled with calico",
  }),
  calicoBackend: field("DEFAULTER_CALICOBACKEND", nonEmpty(), {
    default: D.calico.backend,
    description: "calico NetworkConfig backend",
  }),
  calicoPoolMode: field("DEFAULTER_CALICOPOOLMODE", nonEmpty(), {
    default: D.calico.poolMode,
    description: "calico NetworkConfig ipv4.mode",
  }),
  calicoTyphaEnabled: field("DEFAULTER_CALICOTYPHAENABLED", bool(), {
    default: String(D.calico.typhaEnabled),
    description: "calico NetworkConfig typha.enabled",
  }),
  ciliumKubeProxyEnabled: field("DEFAULTER_CILIUMKUBEPROXYENABLED", bool(), {
    default: String(D.cilium.kubeProxyEnabled),
    description: "default spec.kubernetes.kubeProxy.enabled with cilium",
  }),
  ciliumHubbleEnabled: field("DEFAULTER_CILIUMHUBBLEENABLED", bool(), {
    default: String(D.cilium.hubbleEnabled),
    description: "cilium NetworkConfig hubble.enabled",
  }),
  ciliumTunnel: field("DEFAULTER_CILIUMTUNNEL", nonEmpty(), {
    default: D.cilium.tunnel,
    description: "cilium NetworkConfig tunnel",
  }),
  ciliumDevices: field("DEFAULTER_CILIUMDEVICES", list(), {
    default: D.cilium.devices.join(","),
    description: "cilium NetworkConfig devices (comma-separated)",
  }),
  ciliumDirectRoutingDevice: field("DEFAULTER_CILIUMDIRECTROUTINGDEVICE", nonEmpty(), {
    default: D.cilium.directRoutingDevice,
    description: "cilium NetworkConfig directRoutingDevice",
  }),
  ciliumBgpControlPlane: field("DEFAULTER_CILIUMBGPCONTROLPLANE", bool(), {
    default: String(D.cilium.bgpControlPlane),
    description: "cilium NetworkConfig bgpControlPlane.enabled",
  }),
  ciliumIpv4NativeRoutingCidrEnabled: field("DEFAULTER_CILIUMIPV4NATIVEROUTINGCIDRENABLED", bool(), {
    default: String(D.cilium.ipv4NativeRoutingCIDREnabled),
    description: "cilium NetworkConfig ipv4NativeRoutingCIDREnabled",
  }),
  ciliumLoadBalancingMode: field("DEFAULTER_CILIUMLOADBALANCINGMODE", nonEmpty(), {
    default: D.cilium.loadBalancingMode,
    description: "cilium NetworkConfig loadBalancingMode",
  }),
  ciliumMtu: field("DEFAULTER_CILIUMMTU", integer(576, 65_535), {
    default: String(D.cilium.mtu),
    description: "cilium NetworkConfig mtu",
  }),
  bridgeImage: field("MCM_BRIDGE_IMAGE", nonEmpty(), {
    default: DEFAULT_SIDECAR_OPTIONS.bridgeImage,
    description: "image of the MCM bridge sidecar put into machine-controller-manager Deployments",
  }),
  driverImage: field("MACHINE_DRIVER_IMAGE", nonEmpty(), {
    default: DEFAULT_SIDECAR_OPTIONS.driverImage,
    description: "image of the machine-driver sidecar put into machine-controller-manager Deployments",
  }),
  driverNatsUrl: field("MACHINE_DRIVER_NATS_URL", nonEmpty(), {
    default: DEFAULT_SIDECAR_OPTIONS.natsUrl,
    description: "NATS_URL of the machine-driver sidecar",
  }),
};

export type ExtensionConfig = ConfigValues<typeof extensionConfigSpec>;

export function shootDefaultsFrom(c: ExtensionConfig): ShootDefaults {
  return {
    nodeCIDRMaskSize: c.nodeCIDRMaskSize,
    maxPods: c.maxPods,
    networkType: c.networkType,
    podsCIDR: c.podsCIDR,
    servicesCIDR: c.servicesCIDR,
    calico: {
      kubeProxyEnabled: c.calicoKubeProxyEnabled,
      backend: c.calicoBackend,
      poolMode: c.calicoPoolMode,
      typhaEnabled: c.calicoTyphaEnabled,
    },
    cilium: {
      kubeProxyEnabled: c.ciliumKubeProxyEnabled,
      hubbleEnabled: c.ciliumHubbleEnabled,
      tunnel: c.ciliumTunnel,
      devices: c.ciliumDevices,
      directRoutingDevice: c.ciliumDirectRoutingDevice,
      bgpControlPlane: c.ciliumBgpControlPlane,
      ipv4NativeRoutingCIDREnabled: c.ciliumIpv4NativeRoutingCidrEnabled,
      loadBalancingMode: c.ciliumLoadBalancingMode,
      mtu: c.ciliumMtu,
    },
  };
}

export function sidecarOptionsFrom(c: ExtensionConfig): SidecarOptions {
  return { bridgeImage: c.bridgeImage, driverImage: c.driverImage, natsUrl: c.driverNatsUrl };
}

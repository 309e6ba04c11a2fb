import type { FieldError } from "@metal-kube/proto/metalstack/extension/v1/admission";
import type { EffectiveCloudProfile } from "../gardener/cloud-profile.js";
import { arr, at, cloneJson, isObject, type JsonObject } from "../gardener/json.js";
import { isDeleting } from "../gardener/objects.js";
import { findPartition } from "../provider-config/cloud-profile-config.js";
import {
  decodeInfrastructureConfig,
  type InfrastructureConfig,
} from "../provider-config/infrastructure-config.js";
import { INFRASTRUCTURE_CONFIG_PATH, isMetalShoot, shootProfileConfig } from "../rules/shoot.js";
import { latestFirewallImage } from "./firewall-image.js";
import { CALICO_API_VERSION, CILIUM_API_VERSION, type ShootDefaults } from "./options.js";

export interface DefaultedShoot {
  shoot: JsonObject;
  /** Paths given a default, in the order they were set. */
  fieldsSet: string[];
  infrastructureConfig?: InfrastructureConfig;
}

/** Sets `keys` under `root` when absent or null (creating parents), recording the path. */
function setDefault(root: JsonObject, keys: string[], value: unknown, set: string[]): void {
  let o = root;
  for (const k of keys.slice(0, -1)) {
    if (!isObject(o[k])) o[k] = {};
    o = o[k] as JsonObject;
  }
  const last = keys.at(-1) as string;
  if (o[last] != null) return;
  o[last] = value;
  set.push(keys.join("."));
}

const isEmpty = (v: unknown) => v == null || v === "";

function calicoConfig(d: ShootDefaults): JsonObject {
  return {
    apiVersion: CALICO_API_VERSION,
    kind: "NetworkConfig",
    backend: d.calico.backend,
    ipv4: { mode: d.calico.poolMode },
    typha: { enabled: d.calico.typhaEnabled },
  };
}

function ciliumConfig(d: ShootDefaults): JsonObject {
  const c = d.cilium;
  return {
    apiVersion: CILIUM_API_VERSION,
    kind: "NetworkConfig",
    hubble: { enabled: c.hubbleEnabled },
    tunnel: c.tunnel,
    devices: [...c.devices],
    directRoutingDevice: c.directRoutingDevice,
    bgpControlPlane: { enabled: c.bgpControlPlane },
    ipv4NativeRoutingCIDREnabled: c.ipv4NativeRoutingCIDREnabled,
    loadBalancingMode: c.loadBalancingMode,
    mtu: c.mtu,
  };
}

/**
 * The reference's defaults for a metal Shoot. Only unset values are set (so the result defaults to
 * itself), and only the fields set change: the infrastructureConfig keeps its other keys as they were.
 * A config that does not decode cleanly, or whose partition the profile lacks, gets no firewall
 * defaults: ValidateShoot names what is wrong with it.
 */
export function defaultShoot(
  shoot: JsonObject,
  profile: EffectiveCloudProfile,
  d: ShootDefaults,
): DefaultedShoot {
  if (!isMetalShoot(shoot) || isDeleting(shoot)) return { shoot, fieldsSet: [] };
  const out = cloneJson(shoot);
  const set: string[] = [];
  const spec = out.spec as JsonObject;

  setDefault(
    out,
    ["spec", "kubernetes", "kubeControllerManager", "nodeCIDRMaskSize"],
    d.nodeCIDRMaskSize,
    set,
  );
  setDefault(out, ["spec", "kubernetes", "kubelet", "maxPods"], d.maxPods, set);

  let infrastructureConfig: InfrastructureConfig | undefined;
  const raw = at(spec, "provider", "infrastructureConfig");
  if (isObject(raw)) {
    const decodeErrors: FieldError[] = [];
    const infra = decodeInfrastructureConfig(raw, INFRASTRUCTURE_CONFIG_PATH, decodeErrors);
    const profileErrors: FieldError[] = [];
    const config = decodeErrors.length === 0 ? shootProfileConfig(shoot, profile, profileErrors) : undefined;
    const found =
      infra && config && infra.partitionID !== "" ? findPartition(config, infra.partitionID) : undefined;
    if (infra && found) {
      const base = ["spec", "provider", "infrastructureConfig", "firewall"];
      const image = latestFirewallImage(found.controlPlane.firewallImages);
      if (isEmpty(infra.firewall.image) && image !== undefined) {
        if (!isObject(raw.firewall)) raw.firewall = {};
        (raw.firewall as JsonObject).image = image;
        infra.firewall.image = image;
        set.push([...base, "image"].join("."));
      }
      const size = found.partition.firewallTypes[0];
      if (isEmpty(infra.firewall.size) && size !== undefined) {
        if (!isObject(raw.firewall)) raw.firewall = {};
        (raw.firewall as JsonObject).size = size;
        infra.firewall.size = size;
        set.push([...base, "size"].join("."));
      }
    }
    if (infra && decodeErrors.length === 0) infrastructureConfig = infra;
  }

  // Workerless shoots have no pod network to configure.
  if (arr(at(spec, "provider", "workers")).length > 0) {
    if (isEmpty(at(spec, "networking", "type"))) {
      if (!isObject(spec.networking)) spec.networking = {};
      (spec.networking as JsonObject).type = d.networkType;
      set.push("spec.networking.type");
    }
    setDefault(out, ["spec", "networking", "pods"], d.podsCIDR, set);
    setDefault(out, ["spec", "networking", "services"], d.servicesCIDR, set);
    const type = at(spec, "networking", "type");
    if (at(spec, "networking", "providerConfig") == null && (type === "calico" || type === "cilium")) {
      const kubeProxy = type === "calico" ? d.calico.kubeProxyEnabled : d.cilium.kubeProxyEnabled;
      setDefault(out, ["spec", "kubernetes", "kubeProxy", "enabled"], kubeProxy, set);
      setDefault(
        out,
        ["spec", "networking", "providerConfig"],
        type === "calico" ? calicoConfig(d) : ciliumConfig(d),
        set,
      );
    }
  }
  return { shoot: set.length === 0 ? shoot : out, fieldsSet: set, infrastructureConfig };
}

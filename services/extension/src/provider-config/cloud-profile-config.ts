import type { FieldError } from "@metal-kube/proto/metalstack/extension/v1/admission";
import type {
  CloudProfileConfig as CloudProfileConfigMessage,
  NetworkIsolation as NetworkIsolationMessage,
} from "@metal-kube/proto/metalstack/extension/v1/provider_config";
import type { FieldPath } from "../field-errors.js";
import { decodeProviderConfig, type Schema, s } from "./strict-decoder.js";

export const FIREWALL_CONTROLLER_CLASSIFICATIONS = ["preview", "supported", "deprecated"] as const;

/** spec.providerConfig of a metal CloudProfile or NamespacedCloudProfile. */
export interface CloudProfileConfig {
  metalControlPlanes: Record<string, MetalControlPlane>;
}

export interface MetalControlPlane {
  endpoint: string;
  partitions: Record<string, PartitionConfig>;
  firewallImages: string[];
  firewallControllerVersions: Array<{ version: string; url: string; classification?: string }>;
  nftablesExporter: { version: string; url: string };
}

export interface PartitionConfig {
  firewallTypes: string[];
  networkIsolation?: NetworkIsolation;
}

export interface NetworkIsolation {
  allowedNetworks: { ingress: string[]; egress: string[] };
  dnsServers: string[];
  ntpServers: string[];
  registryMirrors: RegistryMirror[];
}

export interface RegistryMirror {
  name: string;
  endpoint: string;
  ip: string;
  port: number;
  mirrorOf: string[];
}

export const CLOUD_PROFILE_CONFIG_KIND = "CloudProfileConfig";

const networkIsolationSchema = s.object({
  // NetworkIsolation embeds TypeMeta in the reference's API, so configs written with it stay readable.
  apiVersion: s.optional(s.string()),
  kind: s.optional(s.string()),
  allowedNetworks: s.object({ ingress: s.array(s.string()), egress: s.array(s.string()) }),
  dnsServers: s.array(s.string()),
  ntpServers: s.array(s.string()),
  registryMirrors: s.array(
    s.object({
      name: s.string(),
      endpoint: s.string(),
      ip: s.string(),
      port: s.int32(),
      mirrorOf: s.array(s.string()),
    }),
  ),
});

export const cloudProfileConfigSchema = s.object({
  metalControlPlanes: s.map(
    s.object({
      endpoint: s.string(),
      partitions: s.map(
        s.object({
          firewallTypes: s.array(s.string()),
          networkIsolation: s.optional(networkIsolationSchema),
        }),
      ),
      firewallImages: s.array(s.string()),
      firewallControllerVersions: s.array(
        s.object({ version: s.string(), url: s.string(), classification: s.optional(s.string()) }),
      ),
      nftablesExporter: s.object({ version: s.string(), url: s.string() }),
    }),
  ),
}) as Extract<Schema, { kind: "object" }>;

export function decodeCloudProfileConfig(
  raw: unknown,
  path: FieldPath,
  errors: FieldError[],
): CloudProfileConfig | undefined {
  const c = decodeProviderConfig<CloudProfileConfig>(
    raw,
    CLOUD_PROFILE_CONFIG_KIND,
    cloudProfileConfigSchema,
    path,
    errors,
  );
  if (c) {
    for (const mcp of Object.values(c.metalControlPlanes))
      for (const p of Object.values(mcp.partitions)) {
        const iso = p.networkIsolation as
          | (NetworkIsolation & { apiVersion?: string; kind?: string })
          | undefined;
        if (iso) {
          delete iso.apiVersion;
          delete iso.kind;
        }
      }
  }
  return c;
}

export interface PartitionLookup {
  controlPlaneName: string;
  controlPlane: MetalControlPlane;
  partition: PartitionConfig;
}

/**
 * The control plane holding a partition. Control planes are searched in name order, so the answer is
 * the same every time even if a (refused) profile lists a partition twice; the reference's map order
 * made it random.
 */
export function findPartition(config: CloudProfileConfig, partitionID: string): PartitionLookup | undefined {
  for (const name of Object.keys(config.metalControlPlanes).sort()) {
    const controlPlane = config.metalControlPlanes[name] as MetalControlPlane;
    const partition = controlPlane.partitions[partitionID];
    if (partition) return { controlPlaneName: name, controlPlane, partition };
  }
  return undefined;
}

export function networkIsolationMessage(n: NetworkIsolation): NetworkIsolationMessage {
  return {
    allowedNetworks: { ingress: n.allowedNetworks.ingress, egress: n.allowedNetworks.egress },
    dnsServers: n.dnsServers,
    ntpServers: n.ntpServers,
    registryMirrors: n.registryMirrors.map((m) => ({ ...m, mirrorOf: m.mirrorOf })),
  };
}

export function cloudProfileConfigMessage(c: CloudProfileConfig): CloudProfileConfigMessage {
  return {
    metalControlPlanes: Object.fromEntries(
      Object.entries(c.metalControlPlanes).map(([name, mcp]) => [
        name,
        {
          endpoint: mcp.endpoint,
          firewallImages: mcp.firewallImages,
          firewallControllerVersions: mcp.firewallControllerVersions.map((v) => ({
            version: v.version,
            url: v.url,
            classification: v.classification ?? "",
          })),
          nftablesExporter: { ...mcp.nftablesExporter },
          partitions: Object.fromEntries(
            Object.entries(mcp.partitions).map(([id, p]) => [
              id,
              {
                firewallTypes: p.firewallTypes,
                networkIsolation: p.networkIsolation
                  ? networkIsolationMessage(p.networkIsolation)
                  : undefined,
              },
            ]),
          ),
        },
      ]),
    ),
  };
}

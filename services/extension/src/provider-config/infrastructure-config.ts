import type { FieldError } from "@metal-kube/proto/metalstack/extension/v1/admission";
import type { InfrastructureConfig as InfrastructureConfigMessage } from "@metal-kube/proto/metalstack/extension/v1/provider_config";
import type { FieldPath } from "../field-errors.js";
import { decodeProviderConfig, type Schema, s } from "./strict-decoder.js";

/** spec.provider.infrastructureConfig of a metal Shoot (JSON names as Gardener stores them). */
export interface InfrastructureConfig {
  firewall: FirewallConfig;
  partitionID: string;
  projectID: string;
}

export interface FirewallConfig {
  size: string;
  image: string;
  networks: string[];
  rateLimits: Array<{ networkID: string; rateLimit: number }>;
  egressRules: Array<{ networkID: string; ips: string[] }>;
  logAcceptedConnections: boolean;
  controllerVersion: string;
  autoUpdateMachineImage?: boolean;
  firewallHealthTimeout?: string;
  firewallCreateTimeout?: string;
}

export const INFRASTRUCTURE_CONFIG_KIND = "InfrastructureConfig";

export const infrastructureConfigSchema = s.object({
  firewall: s.object({
    size: s.string(),
    image: s.string(),
    networks: s.array(s.string()),
    rateLimits: s.array(s.object({ networkID: s.string(), rateLimit: s.uint32() })),
    egressRules: s.array(s.object({ networkID: s.string(), ips: s.array(s.string()) })),
    logAcceptedConnections: s.bool(),
    controllerVersion: s.string(),
    autoUpdateMachineImage: s.optional(s.bool()),
    firewallHealthTimeout: s.optional(s.duration()),
    firewallCreateTimeout: s.optional(s.duration()),
  }),
  partitionID: s.string(),
  projectID: s.string(),
}) as Extract<Schema, { kind: "object" }>;

export function decodeInfrastructureConfig(
  raw: unknown,
  path: FieldPath,
  errors: FieldError[],
): InfrastructureConfig | undefined {
  return decodeProviderConfig<InfrastructureConfig>(
    raw,
    INFRASTRUCTURE_CONFIG_KIND,
    infrastructureConfigSchema,
    path,
    errors,
  );
}

export function infrastructureConfigMessage(c: InfrastructureConfig): InfrastructureConfigMessage {
  const f = c.firewall;
  return {
    partitionId: c.partitionID,
    projectId: c.projectID,
    firewall: {
      size: f.size,
      image: f.image,
      networks: f.networks,
      rateLimits: f.rateLimits.map((r) => ({ networkId: r.networkID, rateLimit: r.rateLimit })),
      egressRules: f.egressRules.map((r) => ({ networkId: r.networkID, ips: r.ips })),
      logAcceptedConnections: f.logAcceptedConnections,
      controllerVersion: f.controllerVersion,
      autoUpdateMachineImage: f.autoUpdateMachineImage ?? false,
      firewallHealthTimeout: f.firewallHealthTimeout ?? "",
      firewallCreateTimeout: f.firewallCreateTimeout ?? "",
    },
  };
}

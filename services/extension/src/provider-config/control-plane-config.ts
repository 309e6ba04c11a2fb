import type { FieldError } from "@metal-kube/proto/metalstack/extension/v1/admission";
import type { ControlPlaneConfig as ControlPlaneConfigMessage } from "@metal-kube/proto/metalstack/extension/v1/provider_config";
import type { FieldPath } from "../field-errors.js";
import { decodeProviderConfig, type Schema, s } from "./strict-decoder.js";

export const NETWORK_ACCESS_TYPES = ["baseline", "restricted", "forbidden"] as const;
export type NetworkAccessType = (typeof NETWORK_ACCESS_TYPES)[number];
export const DEFAULT_NETWORK_ACCESS_TYPE: NetworkAccessType = "baseline";

/** spec.provider.controlPlaneConfig of a metal Shoot. */
export interface ControlPlaneConfig {
  cloudControllerManager?: { featureGates?: Record<string, boolean>; defaultExternalNetwork?: string };
  featureGates: {
    machineControllerManagerOOT?: boolean;
    durosStorageEncryption?: boolean;
    clusterAudit?: boolean;
    auditToSplunk?: boolean;
    disableCsiLvm?: boolean;
  };
  customDefaultStorageClass?: { className: string };
  networkAccessType?: string;
}

export const CONTROL_PLANE_CONFIG_KIND = "ControlPlaneConfig";

export const controlPlaneConfigSchema = s.object({
  cloudControllerManager: s.optional(
    s.object({
      featureGates: s.optional(s.map(s.bool())),
      defaultExternalNetwork: s.optional(s.string()),
    }),
  ),
  featureGates: s.object({
    machineControllerManagerOOT: s.optional(s.bool()),
    durosStorageEncryption: s.optional(s.bool()),
    clusterAudit: s.optional(s.bool()),
    auditToSplunk: s.optional(s.bool()),
    disableCsiLvm: s.optional(s.bool()),
  }),
  customDefaultStorageClass: s.optional(s.object({ className: s.string() })),
  networkAccessType: s.optional(s.string()),
}) as Extract<Schema, { kind: "object" }>;

export function decodeControlPlaneConfig(
  raw: unknown,
  path: FieldPath,
  errors: FieldError[],
): ControlPlaneConfig | undefined {
  return decodeProviderConfig<ControlPlaneConfig>(
    raw,
    CONTROL_PLANE_CONFIG_KIND,
    controlPlaneConfigSchema,
    path,
    errors,
  );
}

/** The effective access type: unset means baseline. */
export function networkAccessType(c: ControlPlaneConfig | undefined): string {
  return c?.networkAccessType ?? DEFAULT_NETWORK_ACCESS_TYPE;
}

export const isIsolated = (type: string): boolean => type === "restricted" || type === "forbidden";

export function controlPlaneConfigMessage(c: ControlPlaneConfig): ControlPlaneConfigMessage {
  return {
    cloudControllerManager: c.cloudControllerManager
      ? {
          featureGates: c.cloudControllerManager.featureGates ?? {},
          defaultExternalNetwork: c.cloudControllerManager.defaultExternalNetwork,
        }
      : undefined,
    featureGates: { ...c.featureGates },
    customDefaultStorageClass: c.customDefaultStorageClass?.className,
    networkAccessType: networkAccessType(c),
  };
}

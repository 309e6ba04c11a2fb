import type { FieldError } from "@metal-kube/proto/metalstack/extension/v1/admission";
import { type FieldPath, fieldError } from "../field-errors.js";
import type { PartitionLookup } from "../provider-config/cloud-profile-config.js";
import {
  type ControlPlaneConfig,
  isIsolated,
  NETWORK_ACCESS_TYPES,
  networkAccessType,
} from "../provider-config/control-plane-config.js";
import type { InfrastructureConfig } from "../provider-config/infrastructure-config.js";

/**
 * The ControlPlaneConfig against the Shoot's firewall and partition: a known network access type, an
 * isolated one only where the partition has a networkIsolation, and a default external network that is
 * one of the firewall's networks (the reference finds that out only when the ControlPlane reconciles).
 */
export function validateControlPlaneConfig(
  c: ControlPlaneConfig,
  infra: InfrastructureConfig | undefined,
  partition: PartitionLookup | undefined,
  p: FieldPath,
): FieldError[] {
  const errors: FieldError[] = [];
  const type = networkAccessType(c);
  const typePath = p.child("networkAccessType");
  if (!(NETWORK_ACCESS_TYPES as readonly string[]).includes(type))
    errors.push(fieldError.notSupported(typePath, type, NETWORK_ACCESS_TYPES));
  else if (isIsolated(type) && partition && !partition.partition.networkIsolation)
    errors.push(
      fieldError.invalid(
        typePath,
        type,
        `network access type requires partition's networkIsolation to be set (partition ${JSON.stringify(infra?.partitionID ?? "")} of metal control plane ${JSON.stringify(partition.controlPlaneName)} has none)`,
      ),
    );
  const external = c.cloudControllerManager?.defaultExternalNetwork;
  if (external !== undefined && infra && !infra.firewall.networks.includes(external))
    errors.push(
      fieldError.invalid(
        p.child("cloudControllerManager", "defaultExternalNetwork"),
        external,
        "must be one of the firewall networks (spec.provider.infrastructureConfig.firewall.networks)",
      ),
    );
  return errors;
}

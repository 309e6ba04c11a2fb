import type { FieldError } from "@metal-kube/proto/metalstack/extension/v1/admission";
import { type FieldPath, fieldError } from "../field-errors.js";
import type { EffectiveCloudProfile } from "../gardener/cloud-profile.js";
import { isIpAddress } from "../ip.js";
import { type CloudProfileConfig, findPartition } from "../provider-config/cloud-profile-config.js";
import type { InfrastructureConfig } from "../provider-config/infrastructure-config.js";
import { resolveControllerVersion } from "./firewall-controller.js";

/** The InfrastructureConfig on its own (paths under `p`, i.e. spec.provider.infrastructureConfig). */
export function validateInfrastructureConfig(c: InfrastructureConfig, p: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  if (c.projectID === "")
    errors.push(fieldError.required(p.child("projectID"), "projectID must be specified"));
  if (c.partitionID === "")
    errors.push(fieldError.required(p.child("partitionID"), "partitionID must be specified"));
  const fw = p.child("firewall");
  if (c.firewall.image === "")
    errors.push(fieldError.required(fw.child("image"), "firewall image must be specified"));
  if (c.firewall.size === "")
    errors.push(fieldError.required(fw.child("size"), "firewall size must be specified"));

  const networks = c.firewall.networks;
  if (networks.length === 0)
    errors.push(
      fieldError.required(
        fw.child("networks"),
        "at least one external network needs to be defined as otherwise the cluster will under no circumstances be able to bootstrap",
      ),
    );
  const seen = new Set<string>();
  networks.forEach((n, i) => {
    if (n === "")
      errors.push(
        fieldError.required(fw.child("networks").index(i), "firewall network must not be an empty string"),
      );
    else if (seen.has(n)) errors.push(fieldError.duplicate(fw.child("networks").index(i), n));
    seen.add(n);
  });

  c.firewall.rateLimits.forEach((r, i) => {
    const at = fw.child("rateLimits").index(i).child("networkID");
    if (r.networkID === "")
      errors.push(fieldError.required(at, "rate limit network must not be an empty string"));
    else if (!networks.includes(r.networkID))
      errors.push(
        fieldError.invalid(at, r.networkID, "rate limit network must be present as cluster network"),
      );
  });

  c.firewall.egressRules.forEach((r, i) => {
    const rule = fw.child("egressRules").index(i);
    if (r.networkID === "")
      errors.push(
        fieldError.required(rule.child("networkID"), "egress rule network must not be an empty string"),
      );
    else if (!networks.includes(r.networkID))
      errors.push(
        fieldError.invalid(
          rule.child("networkID"),
          r.networkID,
          "egress rule network must be present as cluster network",
        ),
      );
    if (r.ips.length === 0)
      errors.push(fieldError.required(rule.child("ips"), "egress rule must contain ip addresses to use"));
    r.ips.forEach((ip, j) => {
      if (!isIpAddress(ip))
        errors.push(
          fieldError.invalid(rule.child("ips").index(j), ip, "egress rule contains a malformed ip address"),
        );
    });
  });
  return errors;
}

/**
 * The InfrastructureConfig against the CloudProfile: partition as a zone of the Shoot's region, the
 * partition's control plane, firewall image, size and controller version as offered there.
 */
export function validateInfrastructureAgainstProfile(
  c: InfrastructureConfig,
  region: string,
  profile: EffectiveCloudProfile,
  config: CloudProfileConfig,
  p: FieldPath,
): FieldError[] {
  const errors: FieldError[] = [];
  const partitionPath = p.child("partitionID");
  const fw = p.child("firewall");
  if (c.partitionID === "") return errors; // reported as Required already
  const shootRegion = profile.regions.find((r) => r.name === region);
  if (shootRegion && !shootRegion.zones.includes(c.partitionID)) {
    errors.push(fieldError.notSupported(partitionPath, c.partitionID, shootRegion.zones));
    return errors;
  }
  const found = findPartition(config, c.partitionID);
  if (!found) {
    errors.push(
      fieldError.invalid(
        partitionPath,
        c.partitionID,
        "cloud profile does not define the given shoot partition",
      ),
    );
    return errors;
  }
  const { controlPlane, partition } = found;
  if (
    c.firewall.image !== "" &&
    controlPlane.firewallImages.length > 0 &&
    !controlPlane.firewallImages.includes(c.firewall.image)
  )
    errors.push(fieldError.notSupported(fw.child("image"), c.firewall.image, controlPlane.firewallImages));
  if (
    c.firewall.size !== "" &&
    partition.firewallTypes.length > 0 &&
    !partition.firewallTypes.includes(c.firewall.size)
  )
    errors.push(fieldError.notSupported(fw.child("size"), c.firewall.size, partition.firewallTypes));
  const version = resolveControllerVersion(c.firewall.controllerVersion, controlPlane);
  if (!version.ok) {
    const at = fw.child("controllerVersion");
    errors.push(
      version.message
        ? fieldError.invalid(at, c.firewall.controllerVersion, version.message)
        : fieldError.notSupported(at, c.firewall.controllerVersion, version.offered),
    );
  }
  return errors;
}

/** What may not change on an update: the project and the partition. */
export function validateInfrastructureUpdate(
  next: InfrastructureConfig,
  old: InfrastructureConfig,
  p: FieldPath,
): FieldError[] {
  const errors: FieldError[] = [];
  if (next.projectID !== old.projectID)
    errors.push(fieldError.invalid(p.child("projectID"), next.projectID, "field is immutable"));
  if (next.partitionID !== old.partitionID)
    errors.push(fieldError.invalid(p.child("partitionID"), next.partitionID, "field is immutable"));
  return errors;
}

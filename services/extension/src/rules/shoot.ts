import type { FieldError } from "@metal-kube/proto/metalstack/extension/v1/admission";
import {
  FieldPath,
  fieldError,
  formatFieldErrors,
  normalizeErrors,
  type Verdict,
  verdict,
} from "../field-errors.js";
import type { EffectiveCloudProfile } from "../gardener/cloud-profile.js";
import { shootCloudProfileRef } from "../gardener/cloud-profile.js";
import { at, type JsonObject, str } from "../gardener/json.js";
import { annotationsOf, isDeleting, PROVIDER_TYPE } from "../gardener/objects.js";
import {
  type CloudProfileConfig,
  decodeCloudProfileConfig,
  findPartition,
} from "../provider-config/cloud-profile-config.js";
import {
  type ControlPlaneConfig,
  decodeControlPlaneConfig,
} from "../provider-config/control-plane-config.js";
import {
  decodeInfrastructureConfig,
  type InfrastructureConfig,
} from "../provider-config/infrastructure-config.js";
import { validateControlPlaneConfig } from "./control-plane.js";
import {
  validateInfrastructureAgainstProfile,
  validateInfrastructureConfig,
  validateInfrastructureUpdate,
} from "./infrastructure.js";
import { validateWorkers } from "./workers.js";

/** metal-lib's tenant annotation: every metal Shoot names the tenant it belongs to. */
export const TENANT_ANNOTATION = "cluster.metal-stack.io/tenant";

export const INFRASTRUCTURE_CONFIG_PATH = FieldPath.root().child("spec", "provider", "infrastructureConfig");
export const CONTROL_PLANE_CONFIG_PATH = FieldPath.root().child("spec", "provider", "controlPlaneConfig");
const WORKERS_PATH = FieldPath.root().child("spec", "provider", "workers");
const TENANT_PATH = FieldPath.root().child("metadata", "annotations").key(TENANT_ANNOTATION);

export interface ShootValidation {
  verdict: Verdict;
  infrastructureConfig?: InfrastructureConfig;
  controlPlaneConfig?: ControlPlaneConfig;
}

export const isMetalShoot = (shoot: JsonObject): boolean =>
  at(shoot, "spec", "provider", "type") === PROVIDER_TYPE;

// A profile's config decoded once per profile object: the service hands the same resolved profile to
// every review of its Shoots (see ProfileMemo), and nothing changes a decoded config.
const decoded = new WeakMap<
  EffectiveCloudProfile,
  { config: CloudProfileConfig | undefined; errors: FieldError[] }
>();
function decodedProfileConfig(profile: EffectiveCloudProfile) {
  let d = decoded.get(profile);
  if (!d) {
    const errors: FieldError[] = [];
    const config = decodeCloudProfileConfig(
      profile.providerConfig,
      FieldPath.root().child("spec", "providerConfig"),
      errors,
    );
    d = { config, errors };
    decoded.set(profile, d);
  }
  return d;
}

/**
 * The CloudProfileConfig a Shoot is checked against. A missing or unreadable one is the profile's fault,
 * reported on the Shoot's reference to it so the Shoot's owner sees which profile to fix.
 */
export function shootProfileConfig(
  shoot: JsonObject,
  profile: EffectiveCloudProfile,
  errors: FieldError[],
): CloudProfileConfig | undefined {
  const ref = shootCloudProfileRef(shoot);
  if (profile.providerConfig === undefined || profile.providerConfig === null) {
    errors.push(
      fieldError.required(
        ref.field,
        `${profile.kind} ${JSON.stringify(profile.name)} has no spec.providerConfig (a CloudProfileConfig), which metal shoots need`,
      ),
    );
    return undefined;
  }
  const { config, errors: configErrors } = decodedProfileConfig(profile);
  if (configErrors.length > 0) {
    errors.push(
      fieldError.invalid(
        ref.field,
        profile.name,
        `${profile.kind} ${JSON.stringify(profile.name)} has an invalid providerConfig: ${formatFieldErrors(normalizeErrors(configErrors))}`,
      ),
    );
    return undefined;
  }
  return config;
}

/** Every rule for a metal Shoot on create (old undefined) and update. */
export function validateShoot(
  shoot: JsonObject,
  old: JsonObject | undefined,
  profile: EffectiveCloudProfile,
): ShootValidation {
  if (!isMetalShoot(shoot) || isDeleting(shoot)) return { verdict: verdict([]) };
  const errors: FieldError[] = [];

  const tenant = annotationsOf(shoot)[TENANT_ANNOTATION];
  if (typeof tenant !== "string" || tenant === "")
    errors.push(
      fieldError.required(
        TENANT_PATH,
        `cluster must be annotated with a tenant using the annotations: ${TENANT_ANNOTATION}`,
      ),
    );
  if (old) {
    const oldTenant = annotationsOf(old)[TENANT_ANNOTATION];
    if (typeof oldTenant === "string" && oldTenant !== "" && oldTenant !== tenant)
      errors.push(fieldError.forbidden(TENANT_PATH, "tenant annotation of a shoot is immutable"));
  }

  const region = str(at(shoot, "spec", "region")) ?? "";
  if (profile.regions.length > 0 && !profile.regions.some((r) => r.name === region))
    errors.push(
      fieldError.notSupported(
        FieldPath.root().child("spec", "region"),
        region,
        profile.regions.map((r) => r.name),
      ),
    );

  const rawInfra = at(shoot, "spec", "provider", "infrastructureConfig");
  let infra: InfrastructureConfig | undefined;
  if (rawInfra == null) {
    errors.push(
      fieldError.required(INFRASTRUCTURE_CONFIG_PATH, "InfrastructureConfig must be set for metal shoots"),
    );
  } else {
    const decodeErrors: FieldError[] = [];
    infra = decodeInfrastructureConfig(rawInfra, INFRASTRUCTURE_CONFIG_PATH, decodeErrors);
    errors.push(...decodeErrors);
    if (infra) errors.push(...validateInfrastructureConfig(infra, INFRASTRUCTURE_CONFIG_PATH));
  }

  const config = shootProfileConfig(shoot, profile, errors);
  const profileErrors =
    infra && config
      ? validateInfrastructureAgainstProfile(infra, region, profile, config, INFRASTRUCTURE_CONFIG_PATH)
      : [];
  errors.push(...profileErrors);
  // The control plane checks need the partition; a partition already refused is not judged again there.
  const partitionPath = INFRASTRUCTURE_CONFIG_PATH.child("partitionID").toString();
  const partitionOk =
    !!infra && infra.partitionID !== "" && !profileErrors.some((e) => e.field === partitionPath);
  const partition = partitionOk && infra && config ? findPartition(config, infra.partitionID) : undefined;

  const rawCp = at(shoot, "spec", "provider", "controlPlaneConfig");
  let cp: ControlPlaneConfig | undefined;
  if (rawCp == null) {
    errors.push(
      fieldError.required(CONTROL_PLANE_CONFIG_PATH, "ControlPlaneConfig must be set for metal shoots"),
    );
  } else {
    const decodeErrors: FieldError[] = [];
    cp = decodeControlPlaneConfig(rawCp, CONTROL_PLANE_CONFIG_PATH, decodeErrors);
    errors.push(...decodeErrors);
    if (cp) errors.push(...validateControlPlaneConfig(cp, infra, partition, CONTROL_PLANE_CONFIG_PATH));
  }

  errors.push(...validateWorkers(at(shoot, "spec", "provider", "workers"), profile, WORKERS_PATH));

  if (old && isMetalShoot(old) && infra) {
    const oldRaw = at(old, "spec", "provider", "infrastructureConfig");
    const oldErrors: FieldError[] = [];
    const oldInfra =
      oldRaw == null ? undefined : decodeInfrastructureConfig(oldRaw, INFRASTRUCTURE_CONFIG_PATH, oldErrors);
    // An old config that no longer decodes cannot be compared; its Shoot was admitted by older rules.
    if (oldInfra && oldErrors.length === 0)
      errors.push(...validateInfrastructureUpdate(infra, oldInfra, INFRASTRUCTURE_CONFIG_PATH));
  }
  return { verdict: verdict(errors), infrastructureConfig: infra, controlPlaneConfig: cp };
}

import { ServiceError } from "@metal-kube/service-kit";
import { arr, at, isObject, type JsonObject, obj, str } from "./json.js";
import { CLOUD_PROFILE, NAMESPACED_CLOUD_PROFILE, nameOf, parseObject } from "./objects.js";

/** What the rules read from a CloudProfile, whichever kind the Shoot references. */
export interface EffectiveCloudProfile {
  kind: "CloudProfile" | "NamespacedCloudProfile";
  name: string;
  type: string;
  regions: Array<{ name: string; zones: string[] }>;
  machineImages: Array<{ name: string; versions: string[] }>;
  /** spec.providerConfig (the CloudProfileConfig), undefined when unset. */
  providerConfig: unknown;
}

function regionsOf(spec: JsonObject | undefined): EffectiveCloudProfile["regions"] {
  return arr(spec?.regions)
    .filter(isObject)
    .map((r) => ({
      name: str(r.name) ?? "",
      zones: arr(r.zones)
        .filter(isObject)
        .map((z) => str(z.name) ?? ""),
    }));
}

function machineImagesOf(spec: JsonObject | undefined): EffectiveCloudProfile["machineImages"] {
  return arr(spec?.machineImages)
    .filter(isObject)
    .map((m) => ({
      name: str(m.name) ?? "",
      versions: arr(m.versions)
        .filter(isObject)
        .map((v) => str(v.version) ?? ""),
    }));
}

function mergeImages(
  parent: EffectiveCloudProfile["machineImages"],
  extra: EffectiveCloudProfile["machineImages"],
): EffectiveCloudProfile["machineImages"] {
  const byName = new Map(parent.map((m) => [m.name, { name: m.name, versions: [...m.versions] }]));
  for (const m of extra) {
    const have = byName.get(m.name);
    if (!have) byName.set(m.name, { name: m.name, versions: [...m.versions] });
    else for (const v of m.versions) if (!have.versions.includes(v)) have.versions.push(v);
  }
  return [...byName.values()];
}

function fromSpec(
  kind: EffectiveCloudProfile["kind"],
  name: string,
  spec: JsonObject | undefined,
): EffectiveCloudProfile {
  return {
    kind,
    name,
    type: str(spec?.type) ?? "",
    regions: regionsOf(spec),
    machineImages: machineImagesOf(spec),
    providerConfig: spec?.providerConfig ?? undefined,
  };
}

/**
 * The profile a Shoot is checked against. A NamespacedCloudProfile is read from its status (the merged
 * spec Gardener's controller writes); before that status exists, the parent is merged with the
 * namespaced additions here (machine images added, providerConfig replaced), so a Shoot created right
 * after its profile is not checked against nothing.
 */
export function resolveCloudProfile(
  profile: JsonObject,
  parent: JsonObject | undefined,
): EffectiveCloudProfile {
  const name = nameOf(profile);
  if (profile.kind === CLOUD_PROFILE.kind) return fromSpec("CloudProfile", name, obj(profile.spec));
  const status = obj(at(profile, "status", "cloudProfileSpec"));
  if (status && (str(status.type) || arr(status.regions).length > 0))
    return fromSpec("NamespacedCloudProfile", name, status);
  if (!parent)
    throw ServiceError.invalidArgument(
      "parent_cloud_profile",
      `required: NamespacedCloudProfile ${name} has no status.cloudProfileSpec yet, so its parent CloudProfile must be given`,
    );
  const base = fromSpec("NamespacedCloudProfile", name, obj(parent.spec));
  const spec = obj(profile.spec);
  return {
    ...base,
    machineImages: mergeImages(base.machineImages, machineImagesOf(spec)),
    providerConfig: spec?.providerConfig ?? base.providerConfig,
  };
}

/** Parses the cloud_profile / parent_cloud_profile request fields. */
export function parseCloudProfiles(
  profileBytes: Uint8Array,
  parentBytes: Uint8Array,
  field = "cloud_profile",
): { profile: JsonObject; parent: JsonObject | undefined } {
  const profile = parseObject(profileBytes, field, [CLOUD_PROFILE, NAMESPACED_CLOUD_PROFILE]);
  const parent = parseObject(parentBytes, "parent_cloud_profile", [CLOUD_PROFILE], true);
  return { profile, parent };
}

/** The name a Shoot references its profile by, and the field that holds it. */
export function shootCloudProfileRef(shoot: JsonObject): { kind: string; name: string; field: string } {
  const ref = obj(at(shoot, "spec", "cloudProfile"));
  if (ref && str(ref.name))
    return {
      kind: str(ref.kind) ?? "CloudProfile",
      name: str(ref.name) ?? "",
      field: "spec.cloudProfile.name",
    };
  return {
    kind: "CloudProfile",
    name: str(at(shoot, "spec", "cloudProfileName")) ?? "",
    field: "spec.cloudProfileName",
  };
}

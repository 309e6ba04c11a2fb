import { SpecVersion } from "@metal-kube/proto/metalstack/ignition/v1/ignition";

/** The Ignition config specs this service writes. */
export const IGNITION_VERSIONS = ["3.3.0", "2.3.0"] as const;
export type IgnitionVersion = (typeof IGNITION_VERSIONS)[number];

export function isIgnitionVersion(v: string): v is IgnitionVersion {
  return (IGNITION_VERSIONS as readonly string[]).includes(v);
}

/** The wire enum as a version string; undefined for UNSPECIFIED (use the default) and unknown values. */
export function versionFromEnum(v: SpecVersion): IgnitionVersion | undefined {
  switch (v) {
    case SpecVersion.SPEC_VERSION_3_3_0:
      return "3.3.0";
    case SpecVersion.SPEC_VERSION_2_3_0:
      return "2.3.0";
    default:
      return undefined;
  }
}

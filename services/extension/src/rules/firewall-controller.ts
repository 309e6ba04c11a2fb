import type { MetalControlPlane } from "../provider-config/cloud-profile-config.js";
import { compareSemVer, parseSemVer } from "../semver.js";

/** The spec values that mean "the newest supported firewall-controller". */
export const AUTO_CONTROLLER_VERSIONS = ["", "auto"];

export type ControllerVersionResult =
  | { ok: true; version: string; url: string }
  | { ok: false; message: string; offered: string[] };

/**
 * Resolves a Shoot's firewall.controllerVersion against its control plane's offer: empty or `auto` picks
 * the highest semantic version classified `supported` (unclassified ones count as preview); any other
 * value must be offered exactly.
 */
export function resolveControllerVersion(spec: string, mcp: MetalControlPlane): ControllerVersionResult {
  const versions = mcp.firewallControllerVersions;
  const offered = versions.map((v) => v.version);
  if (AUTO_CONTROLLER_VERSIONS.includes(spec)) {
    let best:
      | { version: string; url: string; parsed: NonNullable<ReturnType<typeof parseSemVer>> }
      | undefined;
    for (const v of versions) {
      if (v.classification !== "supported") continue;
      const parsed = parseSemVer(v.version);
      if (!parsed) continue;
      if (!best || compareSemVer(parsed, best.parsed) > 0) best = { version: v.version, url: v.url, parsed };
    }
    if (best) return { ok: true, version: best.version, url: best.url };
    return {
      ok: false,
      message:
        "no firewall controller version of the cloud profile is classified supported, so none can be picked",
      offered,
    };
  }
  const found = versions.find((v) => v.version === spec);
  if (found) return { ok: true, version: found.version, url: found.url };
  return { ok: false, message: "", offered };
}

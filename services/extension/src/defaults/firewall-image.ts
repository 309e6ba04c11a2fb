import { compareSemVer, parseSemVer, type SemVer } from "../semver.js";

/** An image id split at its last `-`: `firewall-ubuntu-3.0.20240101` is os `firewall-ubuntu`, version 3.0.20240101. */
function split(id: string): { os: string; version: SemVer } | undefined {
  const i = id.lastIndexOf("-");
  if (i <= 0) return undefined;
  const version = parseSemVer(id.slice(i + 1));
  return version ? { os: id.slice(0, i), version } : undefined;
}

/**
 * The firewall image a Shoot gets when it names none, chosen as the reference chooses it: by OS name
 * ascending, then by version descending, among the images whose id ends in a version (so among
 * `firewall-2.0.20210207` and `firewall-ubuntu-3.0.20240101` the first wins, its OS name sorting first).
 * When no id has a version, the first listed. Never reorders the profile's list (the reference sorted
 * it in place).
 */
export function latestFirewallImage(images: readonly string[]): string | undefined {
  let best: { id: string; os: string; version: SemVer } | undefined;
  for (const id of images) {
    const parts = split(id);
    if (!parts) continue;
    if (
      !best ||
      parts.os < best.os ||
      (parts.os === best.os && compareSemVer(parts.version, best.version) > 0)
    )
      best = { id, ...parts };
  }
  return best?.id ?? images[0];
}

import { type EffectiveCloudProfile, parseCloudProfiles, resolveCloudProfile } from "./cloud-profile.js";

/** Profiles kept: a garden has a handful of CloudProfiles, and every review of a Shoot brings one along. */
export const DEFAULT_PROFILE_MEMO_ENTRIES = 32;

export interface ProfileMemo {
  /** The resolved profile of these request bytes; the same object for the same bytes. */
  resolve(profile: Uint8Array, parent: Uint8Array): EffectiveCloudProfile;
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

/**
 * Resolved cloud profiles by their exact request bytes, so a profile is parsed, merged and its config
 * decoded once instead of for every Shoot review (a third of a review's work otherwise). A hit compares
 * all bytes: a changed profile is never answered from an old entry.
 */
export function createProfileMemo(maxEntries = DEFAULT_PROFILE_MEMO_ENTRIES): ProfileMemo {
  const entries = new Map<
    string,
    Array<{ profile: Buffer; parent: Buffer; resolved: EffectiveCloudProfile }>
  >();
  let size = 0;
  return {
    resolve(profileBytes, parentBytes) {
      const key = `${profileBytes.length}/${parentBytes.length}`;
      const bucket = entries.get(key);
      const hit = bucket?.find((e) => same(e.profile, profileBytes) && same(e.parent, parentBytes));
      if (hit) return hit.resolved;
      const { profile, parent } = parseCloudProfiles(profileBytes, parentBytes);
      const resolved = resolveCloudProfile(profile, parent);
      if (size >= maxEntries) {
        entries.clear();
        size = 0;
      }
      const list = bucket ?? [];
      list.push({ profile: Buffer.from(profileBytes), parent: Buffer.from(parentBytes), resolved });
      entries.set(key, list);
      size++;
      return resolved;
    },
  };
}

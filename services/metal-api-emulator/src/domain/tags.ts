import { TAG_MACHINE, TAG_PRIMARY_ASN, TAG_RACK, tagValues } from "@metal-kube/metal-stack";
import type { IpRecord, MachineRecord } from "../state/types.js";

export { machineTag } from "@metal-kube/metal-stack";

/**
 * Machine tags as metal-api builds them: user tags, where `key=value` tags are unique per key, overlaid by
 * the system labels (primary ASN, rack) that users cannot override.
 */
export function makeMachineTags(m: MachineRecord, userTags: string[]): string[] {
  const labels = new Map<string, string>();
  const plain: string[] = [];
  for (const t of userTags) {
    const i = t.indexOf("=");
    if (i >= 0) labels.set(t.slice(0, i), t.slice(i + 1));
    else plain.push(t);
  }
  const primary = m.allocation?.networks.find((n) => n.private && n.asn !== 0);
  if (primary) labels.set(TAG_PRIMARY_ASN, String(primary.asn));
  if (m.rackid) labels.set(TAG_RACK, m.rackid);
  return [...new Set([...plain, ...[...labels].map(([k, v]) => `${k}=${v}`)])];
}

export const ipMachineIds = (ip: IpRecord) => tagValues(ip.tags, TAG_MACHINE);

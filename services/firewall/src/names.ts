// Names of the table's chains, sets and counters: derived from what they stand for (never from list
// positions), so the same policy keeps its names whatever else changes, and the output is deterministic.

import { createHash } from "node:crypto";

export const DEFAULT_TABLE = "firewall";
export const MARKER_SET = "ruleset_marker";
/** The reference's names for the IPv4 sets, kept so existing tooling still finds them. */
export const CLUSTER_SET = { 4: "cluster_prefixes", 6: "cluster_prefixes_v6" } as const;
export const INTERNAL_SET = { 4: "internal_prefixes", 6: "internal_prefixes_v6" } as const;
export const EGRESS_MAP = { 4: "egress_v4", 6: "egress_v6" } as const;
export const INGRESS_MAP = { 4: "ingress_v4", 6: "ingress_v6" } as const;
export const SERVICE_MAP = { 4: "services_v4", 6: "services_v6" } as const;
export const ACCOUNTING_COUNTERS = ["internal_in", "internal_out", "external_in", "external_out"] as const;
export const DROP_COUNTERS = ["drop_total", "drop_ratelimit", "drop_invalid"] as const;

export const ACCEPTED_LOG_PREFIX = "nftables-firewall-accepted: ";
export const DROPPED_LOG_PREFIX = "nftables-firewall-dropped: ";

const hash = (s: string, n = 8) => createHash("sha256").update(s).digest("hex").slice(0, n);

/** `[a-z0-9_]` only, so no name needs quoting or can collide with an nft keyword (prefixes do the rest). */
function slug(s: string, max: number): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, max);
}

/** Chain (and counter stem) of a policy's ingress or egress rule: `np_<name>_<i|e><index>_<hash>`. */
export function policyRuleName(
  namespace: string,
  name: string,
  direction: "ingress" | "egress",
  index: number,
) {
  const id = `${namespace}/${name}/${direction}/${index}`;
  return `np_${slug(name, 40)}_${direction[0]}${index}_${hash(id)}`;
}

/** Chain (and counter) of a Service: `svc_<namespace>_<name>_<hash>`. */
export function serviceRuleName(namespace: string, name: string) {
  return `svc_${slug(namespace, 20)}_${slug(name, 30)}_${hash(`${namespace}/${name}`)}`;
}

/** Chain trying several rules' chains in turn, for addresses more than one rule covers. */
export function mixChainName(members: readonly string[]) {
  return `mix_${hash(members.join(","), 16)}`;
}

/** Sets of a toFQDNs selector, one per family; the selector is the key, so policies sharing it share them. */
export function fqdnSetName(selector: string, family: 4 | 6) {
  return `fqdn_${hash(selector.toLowerCase(), 16)}_v${family}`;
}

export function snatCounterName(networkId: string) {
  return `snat_${slug(networkId, 40)}_${hash(networkId)}`;
}

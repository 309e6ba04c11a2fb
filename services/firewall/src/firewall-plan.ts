// The operator's part of the ruleset (the Firewall object and the machine's networks), checked. A
// malformed value refuses the request (INVALID_ARGUMENT naming the field); a reference to a network
// the machine does not have is left out with a warning, as the reference skips it.

import type { FirewallSpec } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { fail } from "./field-error.js";
import { union } from "./intervals.js";
import {
  type Family,
  formatAddress,
  type Interval,
  type Prefix,
  parseAddress,
  parsePrefix,
  prefixContains,
  prefixInterval,
} from "./ip.js";
import type { AllowedPrefixes } from "./policy-rules.js";

export const NETWORK_TYPES = [
  "privateprimaryunshared",
  "privateprimaryshared",
  "privatesecondaryshared",
  "privatesecondaryunshared",
  "external",
  "underlay",
] as const;
const PRIVATE_PRIMARY = new Set(["privateprimaryunshared", "privateprimaryshared"]);

export interface RateLimitPlan {
  networkId: string;
  interfaces: string[];
  /** MiB per second. */
  rate: number;
}

export interface SnatPlan {
  networkId: string;
  outInterface: string;
  ips: Record<Family, string[]>;
}

export interface FirewallPlan {
  name: string;
  cluster: Record<Family, Interval[]>;
  internal: Record<Family, Interval[]>;
  /** Interfaces of the private primary network(s): `vlan<vrf>` and `vrf<vrf>`. */
  clusterInterfaces: string[];
  rateLimits: RateLimitPlan[];
  snat: SnatPlan[];
  allowed: AllowedPrefixes;
  logAccepted: boolean;
  warnings: string[];
}

const vrfInterfaces = (vrf: number) => [`vlan${vrf}`, `vrf${vrf}`];

function prefixes(values: string[], path: string): Prefix[] {
  return values.map((v, i) => {
    const p = parsePrefix(v);
    if (!p) fail(`${path}[${i}]`, `${JSON.stringify(v)} is not an IPv4 or IPv6 prefix`);
    return p as Prefix;
  });
}

function byFamily(ps: Prefix[]): Record<Family, Interval[]> {
  return {
    4: union(ps.filter((p) => p.family === 4).map(prefixInterval)),
    6: union(ps.filter((p) => p.family === 6).map(prefixInterval)),
  };
}

/** Checks the spec; throws FieldError with a path below `firewall`. */
export function planFirewall(spec: FirewallSpec | undefined): FirewallPlan {
  if (!spec) fail("firewall", "is required");
  const s = spec as FirewallSpec;
  const warnings: string[] = [];
  const networks = new Map<string, { type: string; vrf: number; prefixes: Prefix[] }>();
  const clusterPrefixes: Prefix[] = [];
  const clusterInterfaces: string[] = [];
  s.networks.forEach((n, i) => {
    const at = `firewall.networks[${i}]`;
    if (!n.networkId) fail(`${at}.networkId`, "must not be empty");
    if (networks.has(n.networkId)) fail(`${at}.networkId`, `${n.networkId} is listed twice`);
    if (!(NETWORK_TYPES as readonly string[]).includes(n.networkType))
      fail(`${at}.networkType`, `${JSON.stringify(n.networkType)} is not one of ${NETWORK_TYPES.join(", ")}`);
    if (n.vrf > 0xffffffff) fail(`${at}.vrf`, `${n.vrf} is not a VRF id`);
    const ps = prefixes(n.prefixes, `${at}.prefixes`);
    prefixes(n.destinationPrefixes, `${at}.destinationPrefixes`);
    n.ips.forEach((ip, k) => {
      if (!parseAddress(ip)) fail(`${at}.ips[${k}]`, `${JSON.stringify(ip)} is not an IP address`);
    });
    networks.set(n.networkId, { type: n.networkType, vrf: n.vrf, prefixes: ps });
    if (PRIVATE_PRIMARY.has(n.networkType)) {
      clusterPrefixes.push(...ps);
      if (n.vrf > 0) clusterInterfaces.push(...vrfInterfaces(n.vrf));
    }
  });
  if (!s.networks.some((n) => PRIVATE_PRIMARY.has(n.networkType)) && s.networks.length > 0)
    warnings.push(
      "firewall.networks: no private primary network, so only cluster_prefixes are the cluster's",
    );
  clusterPrefixes.push(...prefixes(s.clusterPrefixes, "firewall.clusterPrefixes"));
  const internal = prefixes(s.internalPrefixes, "firewall.internalPrefixes");

  const rateLimits: RateLimitPlan[] = [];
  for (const [i, r] of s.rateLimits.entries()) {
    const at = `firewall.rateLimits[${i}]`;
    if (r.rate < 1) fail(`${at}.rate`, "must be at least 1 (MiB/s)");
    const n = networks.get(r.networkId);
    if (!n)
      warnings.push(`${at}: network ${JSON.stringify(r.networkId)} is not one of the machine's, left out`);
    else if (n.type === "underlay") warnings.push(`${at}: the underlay is never rate limited, left out`);
    else rateLimits.push({ networkId: r.networkId, interfaces: vrfInterfaces(n.vrf), rate: r.rate });
  }

  const snat: SnatPlan[] = [];
  for (const [i, e] of s.egressRules.entries()) {
    const at = `firewall.egressRules[${i}]`;
    const n = networks.get(e.networkId);
    if (!n) {
      warnings.push(`${at}: network ${JSON.stringify(e.networkId)} is not one of the machine's, left out`);
      continue;
    }
    if (n.type !== "external") {
      warnings.push(
        `${at}: network ${e.networkId} is ${n.type}, SNAT is only for external networks, left out`,
      );
      continue;
    }
    if (e.ips.length === 0) fail(`${at}.ips`, "needs at least one address");
    const ips: Record<Family, string[]> = { 4: [], 6: [] };
    e.ips.forEach((ip, k) => {
      const a = parseAddress(ip);
      if (!a) fail(`${at}.ips[${k}]`, `${JSON.stringify(ip)} is not an IP address`);
      const host: Prefix = { family: a!.family, address: a!.value, length: a!.family === 4 ? 32 : 128 };
      if (!n.prefixes.some((p) => prefixContains(p, host)))
        fail(`${at}.ips[${k}]`, `${ip} is not in any prefix of network ${e.networkId}`);
      ips[a!.family].push(formatAddress(a!.family, a!.value));
    });
    snat.push({ networkId: e.networkId, outInterface: `vlan${n.vrf}`, ips });
  }

  return {
    name: s.name,
    cluster: byFamily(clusterPrefixes),
    internal: byFamily(internal),
    clusterInterfaces,
    rateLimits,
    snat,
    allowed: {
      ingress: prefixes(s.allowedNetworks?.ingress ?? [], "firewall.allowedNetworks.ingress"),
      egress: prefixes(s.allowedNetworks?.egress ?? [], "firewall.allowedNetworks.egress"),
    },
    logAccepted: s.logAcceptedConnections,
    warnings,
  };
}

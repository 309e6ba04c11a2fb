// A ClusterwideNetworkPolicy, checked field by field, as the traffic rules it allows. One bad policy
// is reported and left out; it never stops the others.

import type {
  FqdnSelector,
  IngressRule,
  IpBlock,
  NetworkPolicy,
  PolicyEgressRule,
  PolicyPort,
} from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { FieldError, fail } from "./field-error.js";
import { subtract, union } from "./intervals.js";
import {
  type Family,
  formatPrefix,
  fullInterval,
  type Interval,
  type Prefix,
  parsePrefix,
  prefixContains,
  prefixInterval,
} from "./ip.js";
import { policyRuleName } from "./names.js";
import { createPortCollector, type PortSelection, parseProtocol } from "./ports.js";

/** Only policies in this namespace take effect (as with the reference). */
export const POLICY_NAMESPACE = "firewall";

/** One ingress or egress rule of a policy: who (peers) and what (ports) it admits. */
export interface TrafficRule {
  /** Its chain and counter stem in the table. */
  chain: string;
  direction: "ingress" | "egress";
  namespace: string;
  name: string;
  /** The rule's comment stem, as the reference writes it (protocols are appended per rule). */
  comment: string;
  /** Remote addresses: sources of ingress, destinations of egress; disjoint, sorted. */
  peers: Record<Family, Interval[]>;
  ports: PortSelection;
  /** toFQDNs selectors as `matchName:<name>` / `matchPattern:<pattern>` (egress only). */
  fqdnSelectors: string[];
}

/** The networks policies may open in an isolated cluster (empty = no bound). */
export interface AllowedPrefixes {
  ingress: Prefix[];
  egress: Prefix[];
}

export type PolicyVerdict =
  | { state: "deployed"; rules: TrafficRule[] }
  | { state: "ignored"; error: FieldError };

const NAME = /^([-a-zA-Z0-9_]+[.]?)+$/;
const PATTERN = /^([-a-zA-Z0-9_*]+[.]?)+$/;

/** Checks one policy and compiles its rules; a problem is reported with the field at fault. */
export function compilePolicy(p: NetworkPolicy, allowed: AllowedPrefixes): PolicyVerdict {
  try {
    if (!p.name) fail("metadata.name", "must not be empty");
    if (p.namespace !== POLICY_NAMESPACE)
      fail(
        "metadata.namespace",
        `ClusterwideNetworkPolicies take effect only in namespace ${POLICY_NAMESPACE}, not ${JSON.stringify(p.namespace)}`,
      );
    const rules: TrafficRule[] = [];
    p.ingress.forEach((r, i) => {
      rules.push(ingressRule(p, r, i, allowed.ingress));
    });
    p.egress.forEach((r, i) => {
      rules.push(egressRule(p, r, i, allowed.egress));
    });
    return { state: "deployed", rules };
  } catch (err) {
    if (err instanceof FieldError) return { state: "ignored", error: err };
    throw err;
  }
}

function ingressRule(p: NetworkPolicy, r: IngressRule, i: number, allowed: Prefix[]): TrafficRule {
  const path = `ingress[${i}]`;
  return {
    chain: policyRuleName(p.namespace, p.name, "ingress", i),
    direction: "ingress",
    namespace: p.namespace,
    name: p.name,
    comment: `accept traffic for k8s network policy ${p.name}`,
    peers: peersOf(r.from, `${path}.from`, allowed, "ingress"),
    ports: portsOf(r.ports, `${path}.ports`),
    fqdnSelectors: [],
  };
}

function egressRule(p: NetworkPolicy, r: PolicyEgressRule, i: number, allowed: Prefix[]): TrafficRule {
  const path = `egress[${i}]`;
  if (r.to.length > 0 && r.toFqdns.length > 0)
    fail(path, "to and toFQDNs exclude each other: split them into two rules");
  const fqdnSelectors = r.toFqdns.map((s, k) => selectorOf(s, `${path}.toFQDNs[${k}]`));
  return {
    chain: policyRuleName(p.namespace, p.name, "egress", i),
    direction: "egress",
    namespace: p.namespace,
    name: p.name,
    comment: `accept traffic for np ${p.name}`,
    peers: fqdnSelectors.length ? { 4: [], 6: [] } : peersOf(r.to, `${path}.to`, allowed, "egress"),
    ports: portsOf(r.ports, `${path}.ports`),
    fqdnSelectors: [...new Set(fqdnSelectors)],
  };
}

/** Each block minus its own excepts; an empty list is any address (or any allowed network). */
function peersOf(
  blocks: IpBlock[],
  path: string,
  allowed: Prefix[],
  direction: "ingress" | "egress",
): Record<Family, Interval[]> {
  const out: Record<Family, Interval[]> = { 4: [], 6: [] };
  if (blocks.length === 0) {
    if (allowed.length === 0) return { 4: [fullInterval(4)], 6: [fullInterval(6)] };
    for (const a of allowed) out[a.family].push(prefixInterval(a));
    return { 4: union(out[4]), 6: union(out[6]) };
  }
  blocks.forEach((b, j) => {
    const at = `${path}[${j}]`;
    const cidr = parsePrefix(b.cidr);
    if (!cidr) fail(`${at}.cidr`, `${JSON.stringify(b.cidr)} is not an IPv4 or IPv6 CIDR`);
    const c = cidr as Prefix;
    if (allowed.length > 0 && !allowed.some((a) => prefixContains(a, c)))
      fail(
        `${at}.cidr`,
        `${formatPrefix(c)} is outside the allowed ${direction} networks (${allowed.map(formatPrefix).join(", ")})`,
      );
    const holes = b.except.map((e, k) => {
      const ex = parsePrefix(e);
      if (!ex) fail(`${at}.except[${k}]`, `${JSON.stringify(e)} is not an IPv4 or IPv6 CIDR`);
      if (!prefixContains(c, ex as Prefix))
        fail(`${at}.except[${k}]`, `${formatPrefix(ex as Prefix)} is not inside ${formatPrefix(c)}`);
      return prefixInterval(ex as Prefix);
    });
    if (holes.length === 0) out[c.family].push(prefixInterval(c));
    else out[c.family].push(...subtract([prefixInterval(c)], holes));
  });
  return { 4: out[4].length > 1 ? union(out[4]) : out[4], 6: out[6].length > 1 ? union(out[6]) : out[6] };
}

function portsOf(ports: PolicyPort[], path: string): PortSelection {
  if (ports.length === 0) return { kind: "any" };
  const collector = createPortCollector();
  ports.forEach((p, k) => {
    const at = `${path}[${k}]`;
    const proto = parseProtocol(p.protocol);
    if (!proto) fail(`${at}.protocol`, `${JSON.stringify(p.protocol)} is not one of TCP, UDP, SCTP`);
    const raw = p.port.trim();
    if (raw === "") {
      if (p.endPort !== undefined) fail(`${at}.endPort`, "needs port");
      collector.add(proto!, "all");
      return;
    }
    if (!/^\d+$/.test(raw))
      fail(`${at}.port`, `${JSON.stringify(raw)} is not a port number (named ports are not supported)`);
    const port = Number(raw);
    if (port < 1 || port > 65535) fail(`${at}.port`, `${port} is not in 1-65535`);
    let end = port;
    if (p.endPort !== undefined) {
      if (p.endPort < 1 || p.endPort > 65535) fail(`${at}.endPort`, `${p.endPort} is not in 1-65535`);
      if (p.endPort < port) fail(`${at}.endPort`, `${p.endPort} is less than port ${port}`);
      end = p.endPort;
    }
    collector.add(proto!, [port, end]);
  });
  return collector.result();
}

function selectorOf(s: FqdnSelector, path: string): string {
  if (s.matchName && s.matchPattern) fail(path, "set matchName or matchPattern, not both");
  if (s.matchName) {
    if (!NAME.test(s.matchName))
      fail(`${path}.matchName`, `${JSON.stringify(s.matchName)} is not a DNS name`);
    return `matchName:${s.matchName.toLowerCase()}`;
  }
  if (s.matchPattern) {
    if (!PATTERN.test(s.matchPattern))
      fail(`${path}.matchPattern`, `${JSON.stringify(s.matchPattern)} is not a DNS name pattern`);
    return `matchPattern:${s.matchPattern.toLowerCase()}`;
  }
  return fail(path, "needs matchName or matchPattern");
}

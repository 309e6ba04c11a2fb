// A LoadBalancer Service as the ingress rule it needs: its IPs and ports, from its source ranges.

import type { LoadBalancerService } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { FieldError, fail } from "./field-error.js";
import { union } from "./intervals.js";
import {
  type Family,
  formatPrefix,
  type Interval,
  type Prefix,
  parseAddress,
  parsePrefix,
  prefixContains,
  prefixInterval,
} from "./ip.js";
import { serviceRuleName } from "./names.js";
import { type Protocol, parseProtocol } from "./ports.js";

export interface ServiceRule {
  chain: string;
  namespace: string;
  name: string;
  comment: string;
  /** Destination addresses, deduplicated and sorted per family. */
  ips: Record<Family, bigint[]>;
  ports: Array<{ protocol: Protocol; port: number }>;
  /** Allowed sources per family; "any" when the Service has no source ranges. */
  sources: Record<Family, Interval[]> | "any";
}

export type ServiceVerdict =
  | { state: "deployed"; rule: ServiceRule; notes: string[] }
  | { state: "ignored"; error: FieldError };

/**
 * Checks one Service. An IP outside the allowed ingress networks is left out (with a note); a Service
 * none of whose IPs remain renders nothing, never "any destination". A bad source range ignores the
 * Service: who may reach it would otherwise be guessed.
 */
export function compileService(s: LoadBalancerService, allowedIngress: Prefix[]): ServiceVerdict {
  try {
    if (!s.name) fail("metadata.name", "must not be empty");
    if (!s.namespace) fail("metadata.namespace", "must not be empty");
    const notes: string[] = [];
    const ips: Record<Family, bigint[]> = { 4: [], 6: [] };
    s.ips.forEach((raw, i) => {
      const a = parseAddress(raw);
      if (!a) fail(`ips[${i}]`, `${JSON.stringify(raw)} is not an IP address`);
      const host: Prefix = { family: a!.family, address: a!.value, length: a!.family === 4 ? 32 : 128 };
      if (allowedIngress.length > 0 && !allowedIngress.some((p) => prefixContains(p, host))) {
        notes.push(`${formatPrefix(host)} is outside the allowed ingress networks, left out`);
        return;
      }
      if (!ips[a!.family].includes(a!.value)) ips[a!.family].push(a!.value);
    });
    for (const f of [4, 6] as const) ips[f].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    if (ips[4].length + ips[6].length === 0)
      fail("ips", s.ips.length === 0 ? "no load balancer IP assigned yet" : notes.join("; "));
    const ports: ServiceRule["ports"] = [];
    s.ports.forEach((p, i) => {
      const protocol = parseProtocol(p.protocol);
      if (!protocol)
        fail(`ports[${i}].protocol`, `${JSON.stringify(p.protocol)} is not one of TCP, UDP, SCTP`);
      if (p.port < 1 || p.port > 65535) fail(`ports[${i}].port`, `${p.port} is not in 1-65535`);
      if (!ports.some((q) => q.protocol === protocol && q.port === p.port))
        ports.push({ protocol: protocol!, port: p.port });
    });
    if (ports.length === 0) fail("ports", "no ports");
    ports.sort((a, b) => (a.protocol === b.protocol ? a.port - b.port : a.protocol < b.protocol ? -1 : 1));
    let sources: ServiceRule["sources"] = "any";
    if (s.sourceRanges.length > 0) {
      const byFamily: Record<Family, Interval[]> = { 4: [], 6: [] };
      s.sourceRanges.forEach((r, i) => {
        const p = parsePrefix(r);
        if (!p) fail(`sourceRanges[${i}]`, `${JSON.stringify(r)} is not an IPv4 or IPv6 CIDR`);
        byFamily[p!.family].push(prefixInterval(p!));
      });
      sources = { 4: union(byFamily[4]), 6: union(byFamily[6]) };
    }
    return {
      state: "deployed",
      notes,
      rule: {
        chain: serviceRuleName(s.namespace, s.name),
        namespace: s.namespace,
        name: s.name,
        comment: `accept traffic for k8s service ${s.namespace}/${s.name}`,
        ips,
        ports,
        sources,
      },
    };
  } catch (err) {
    if (err instanceof FieldError) return { state: "ignored", error: err };
    throw err;
  }
}

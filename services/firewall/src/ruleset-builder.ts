// Builds the table from checked rules. The cost per packet does not grow with the number of policies:
// the forward chain makes one verdict-map lookup per direction (remote address -> the chain of the rule
// that admits it), and that chain checks the ports. Addresses covered by several rules go to a chain
// trying each of them.

import { CounterKind, SetKind } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import type { FirewallPlan } from "./firewall-plan.js";
import { type Labeled, partition } from "./intervals.js";
import { type Family, formatAddress, formatInterval, type Interval } from "./ip.js";
import {
  ACCEPTED_LOG_PREFIX,
  ACCOUNTING_COUNTERS,
  CLUSTER_SET,
  DEFAULT_TABLE,
  DROPPED_LOG_PREFIX,
  EGRESS_MAP,
  fqdnSetName,
  INGRESS_MAP,
  INTERNAL_SET,
  MARKER_SET,
  mixChainName,
  SERVICE_MAP,
  snatCounterName,
} from "./names.js";
import type { TrafficRule } from "./policy-rules.js";
import { formatPortRanges, type PortSelection, type Protocol } from "./ports.js";
import type {
  BuildInput,
  NftChain,
  NftCounter,
  NftSet,
  RulesetContribution,
  RulesetExtension,
  RulesetModel,
} from "./ruleset-model.js";
import type { ServiceRule } from "./service-rules.js";

export const CHECKSUM_PLACEHOLDER = "@CHECKSUM@";
export const FORWARD_BASE = "type filter hook forward priority 1; policy drop;";
/** Before the base ruleset's nat postrouting (priority 0), as the reference. */
export const POSTROUTING_BASE = "type nat hook postrouting priority -1; policy accept;";

const FAMILIES = [4, 6] as const;
const POLICIES = { 4: "policies_v4", 6: "policies_v6" } as const;
const FROM_CLUSTER = { 4: "from_cluster_v4", 6: "from_cluster_v6" } as const;
const ADDR = { 4: "ip", 6: "ip6" } as const;
const ADDR_TYPE = { 4: "ipv4_addr", 6: "ipv6_addr" } as const;
const quote = (s: string) => `"${s.replace(/["\\]/g, "")}"`;
const ifaceSet = (names: string[]) => `{ ${names.map(quote).join(", ")} }`;
const ACCEPT_LOG = `limit rate 10/second burst 5 packets log prefix ${quote(ACCEPTED_LOG_PREFIX)}`;

export interface BuildOptions {
  table?: string;
  extensions?: readonly RulesetExtension[];
}

export function buildRuleset(input: BuildInput, options: BuildOptions = {}): RulesetModel {
  const { plan, rules, services } = input;
  const sets: NftSet[] = [];
  const counters: NftCounter[] = [];
  const chains: NftChain[] = [];
  const mixes = new Map<string, NftChain>();

  sets.push({
    name: MARKER_SET,
    kind: SetKind.SET_KIND_MARKER,
    family: 4,
    type: "inet_service",
    flags: [],
    elements: [],
    comment: `sha256:${CHECKSUM_PLACEHOLDER}`,
  });
  for (const f of FAMILIES)
    sets.push(intervalSet(CLUSTER_SET[f], SetKind.SET_KIND_CLUSTER_PREFIXES, f, plan.cluster[f]));
  for (const f of FAMILIES)
    sets.push(intervalSet(INTERNAL_SET[f], SetKind.SET_KIND_INTERNAL_PREFIXES, f, plan.internal[f]));

  for (const name of ACCOUNTING_COUNTERS)
    counters.push({
      name,
      comment: `count ${name.replace("_", " ")} traffic`,
      kind: CounterKind.COUNTER_KIND_ACCOUNTING,
    });
  counters.push(
    { name: "drop_total", comment: "dropped by policy", kind: CounterKind.COUNTER_KIND_DROP },
    { name: "drop_ratelimit", comment: "dropped above a rate limit", kind: CounterKind.COUNTER_KIND_DROP },
    { name: "drop_invalid", comment: "dropped with invalid ct state", kind: CounterKind.COUNTER_KIND_DROP },
  );

  // One chain per policy rule and per Service: the accept, its counter and the comment naming it.
  for (const r of rules) {
    const chain = ruleChain(r, plan.logAccepted);
    chains.push(chain.chain);
    counters.push(...chain.counters);
  }
  for (const s of services) {
    chains.push(serviceChain(s, plan.logAccepted));
    counters.push({ name: s.chain, comment: s.comment, kind: CounterKind.COUNTER_KIND_ACCEPT });
  }

  const target = (members: string[]): string => {
    if (members.length === 1) return members[0]!;
    const name = mixChainName(members);
    if (!mixes.has(name)) mixes.set(name, { name, rules: members.map((m) => `jump ${m}`) });
    return name;
  };

  for (const [direction, mapNames, kind] of [
    ["egress", EGRESS_MAP, SetKind.SET_KIND_EGRESS_MAP],
    ["ingress", INGRESS_MAP, SetKind.SET_KIND_INGRESS_MAP],
  ] as const) {
    for (const f of FAMILIES) {
      const items: Labeled<string>[] = [];
      for (const r of rules)
        if (r.direction === direction) for (const iv of r.peers[f]) items.push({ ...iv, label: r.chain });
      const elements = partition(items).map(
        (seg) => `${formatInterval(f, seg)} : jump ${target(seg.labels)}`,
      );
      sets.push({
        name: mapNames[f],
        kind,
        family: f,
        type: `${ADDR_TYPE[f]} : verdict`,
        flags: ["interval"],
        elements,
      });
    }
  }

  for (const f of FAMILIES) {
    const byKey = new Map<string, string[]>();
    for (const s of services)
      for (const ip of s.ips[f])
        for (const p of s.ports) {
          const key = `${formatAddress(f, ip)} . ${p.protocol} . ${p.port}`;
          const list = byKey.get(key) ?? [];
          if (!list.includes(s.chain)) list.push(s.chain);
          byKey.set(key, list);
        }
    sets.push({
      name: SERVICE_MAP[f],
      kind: SetKind.SET_KIND_SERVICE_MAP,
      family: f,
      type: `${ADDR_TYPE[f]} . inet_proto . inet_service : verdict`,
      flags: [],
      elements: [...byKey].map(([key, members]) => `${key} : jump ${target(members)}`),
    });
  }

  const fqdnRules: Record<Family, string[]> = { 4: [], 6: [] };
  const fqdnSeen = new Set<string>();
  for (const { selector, sets: names } of input.fqdnSets) {
    if (fqdnSeen.has(selector)) continue;
    fqdnSeen.add(selector);
    for (const f of FAMILIES)
      sets.push({
        name: names[f],
        kind: SetKind.SET_KIND_FQDN,
        family: f,
        type: ADDR_TYPE[f],
        flags: ["timeout"],
        elements: [],
        comment: selector.slice(0, 120),
        dynamic: true,
        selector,
      });
  }
  for (const r of rules)
    for (const selector of r.fqdnSelectors)
      for (const f of FAMILIES)
        fqdnRules[f].push(`${ADDR[f]} daddr @${fqdnSetName(selector, f)} jump ${r.chain}`);

  const extra: RulesetContribution[] = (options.extensions ?? []).map((x) => x(input));
  for (const c of extra) {
    sets.push(...(c.sets ?? []));
    counters.push(...(c.counters ?? []));
    chains.push(...(c.chains ?? []));
  }

  chains.push(...mixes.values());
  const accounting = accountingChains(plan);
  chains.push(...accounting.chains);
  // Every rule a packet passes costs (each expression is an indirect call in the kernel): the forward
  // chain dispatches by connection state, protocol and family with one lookup each, and a chain per
  // family tries the cluster's egress first, then Services and ingress.
  for (const f of FAMILIES) {
    chains.push({
      name: FROM_CLUSTER[f],
      rules: [`${ADDR[f]} daddr vmap @${EGRESS_MAP[f]}`, ...fqdnRules[f]],
    });
    chains.push({
      name: POLICIES[f],
      rules: [
        `${ADDR[f]} saddr @${CLUSTER_SET[f]} jump ${FROM_CLUSTER[f]}`,
        `${ADDR[f]} daddr . meta l4proto . th dport vmap @${SERVICE_MAP[f]}`,
        `${ADDR[f]} daddr @${CLUSTER_SET[f]} ${ADDR[f]} saddr vmap @${INGRESS_MAP[f]}`,
      ],
    });
  }
  chains.push({
    name: "drop_invalid",
    rules: [`counter name "drop_invalid" drop comment "drop packets with invalid ct state"`],
  });
  chains.push({
    name: "icmp_rules",
    rules: [
      `icmp type echo-request limit rate over 10/second burst 4 packets drop comment "drop ping floods"`,
      `icmp type { destination-unreachable, router-solicitation, router-advertisement, time-exceeded, parameter-problem } accept comment "accept icmp"`,
      `icmpv6 type echo-request limit rate over 10/second burst 4 packets drop comment "drop ping floods"`,
      `icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } accept comment "accept icmpv6"`,
    ],
  });
  chains.push({
    name: "forward",
    base: FORWARD_BASE,
    rules: [
      ...accounting.forward,
      ...plan.rateLimits.map(
        (r) =>
          `iifname ${ifaceSet(r.interfaces)} limit rate over ${r.rate} mbytes/second counter name "drop_ratelimit" drop comment ${quote(`rate limit of network ${r.networkId}`)}`,
      ),
      `ct state vmap { established : accept, related : accept, invalid : jump drop_invalid }`,
      `meta l4proto { icmp, ipv6-icmp } jump icmp_rules`,
      ...extra.flatMap((c) => c.forwardBeforePolicies ?? []),
      `meta nfproto vmap { ipv4 : jump ${POLICIES[4]}, ipv6 : jump ${POLICIES[6]} }`,
      ...extra.flatMap((c) => c.forwardAfterPolicies ?? []),
      `counter name "drop_total" comment "count dropped packets"`,
      `limit rate 10/second burst 5 packets log prefix ${quote(DROPPED_LOG_PREFIX)} comment "log dropped packets"`,
    ],
  });

  const snat = snatRules(plan);
  const postFirst = extra.flatMap((c) => c.postroutingFirst ?? []);
  if (snat.rules.length + postFirst.length > 0) {
    counters.push(...snat.counters);
    chains.push({ name: "postrouting", base: POSTROUTING_BASE, rules: [...postFirst, ...snat.rules] });
  }

  return {
    table: options.table ?? DEFAULT_TABLE,
    comment: `metal-kube firewall${plan.name ? ` ${plan.name}` : ""}`,
    counters,
    sets,
    chains,
  };
}

function intervalSet(name: string, kind: SetKind, family: Family, intervals: Interval[]): NftSet {
  return {
    name,
    kind,
    family,
    type: ADDR_TYPE[family],
    flags: ["interval"],
    elements: intervals.map((iv) => formatInterval(family, iv)),
  };
}

function ruleChain(r: TrafficRule, log: boolean): { chain: NftChain; counters: NftCounter[] } {
  const rules: string[] = [];
  const counters: NftCounter[] = [];
  for (const { match, suffix } of portMatches(r.ports)) {
    const name = suffix ? `${r.chain}_${suffix}` : r.chain;
    const comment = suffix ? `${r.comment} ${suffix}` : r.comment;
    const m = match ? `${match} ` : "";
    if (log) rules.push(`${m}${ACCEPT_LOG}`);
    rules.push(`${m}counter name ${quote(name)} accept comment ${quote(comment)}`);
    counters.push({ name, comment, kind: CounterKind.COUNTER_KIND_ACCEPT });
  }
  return { chain: { name: r.chain, rules }, counters };
}

function portMatches(ports: PortSelection): Array<{ match: string; suffix: Protocol | "" }> {
  if (ports.kind === "any") return [{ match: "", suffix: "" }];
  return [...ports.byProtocol].map(([proto, ranges]) => ({
    match:
      ranges === "all"
        ? `meta l4proto ${proto}`
        : ranges.length === 1 && ranges[0]![0] === ranges[0]![1]
          ? `${proto} dport ${ranges[0]![0]}`
          : `${proto} dport { ${formatPortRanges(ranges)} }`,
    suffix: proto,
  }));
}

function serviceChain(s: ServiceRule, log: boolean): NftChain {
  const accept = `counter name ${quote(s.chain)} accept comment ${quote(s.comment)}`;
  const rules: string[] = [];
  const matches =
    s.sources === "any"
      ? [""]
      : FAMILIES.filter((f) => (s.sources as Record<Family, Interval[]>)[f].length > 0).map(
          (f) =>
            `${ADDR[f]} saddr { ${(s.sources as Record<Family, Interval[]>)[f].map((iv) => formatInterval(f, iv)).join(", ")} } `,
        );
  for (const m of matches) {
    if (log) rules.push(`${m}${ACCEPT_LOG}`);
    rules.push(`${m}${accept}`);
  }
  return { name: s.chain, rules };
}

/**
 * Accounting as the reference counts it (traffic into / out of the cluster's interfaces, internal when
 * the far address is in the internal prefixes), in two chains a packet enters by one interface lookup:
 * at most two set lookups per packet instead of eight rules' worth.
 */
function accountingChains(plan: FirewallPlan): { forward: string[]; chains: NftChain[] } {
  if (plan.clusterInterfaces.length === 0) return { forward: [], chains: [] };
  const chain = (name: string, field: "saddr" | "daddr", internal: string, external: string): NftChain => ({
    name,
    rules: [
      ...FAMILIES.map(
        (f) => `${ADDR[f]} ${field} @${INTERNAL_SET[f]} counter name ${quote(internal)} return`,
      ),
      `counter name ${quote(external)}`,
    ],
  });
  const map = (target: string) =>
    `{ ${plan.clusterInterfaces.map((i) => `${quote(i)} : jump ${target}`).join(", ")} }`;
  return {
    forward: [`oifname vmap ${map("count_in")}`, `iifname vmap ${map("count_out")}`],
    chains: [
      chain("count_in", "saddr", "internal_in", "external_in"),
      chain("count_out", "daddr", "internal_out", "external_out"),
    ],
  };
}

function snatRules(plan: FirewallPlan): { rules: string[]; counters: NftCounter[] } {
  const rules: string[] = [];
  const counters: NftCounter[] = [];
  for (const s of plan.snat) {
    const name = snatCounterName(s.networkId);
    counters.push({ name, comment: `snat for ${s.networkId}`, kind: CounterKind.COUNTER_KIND_SNAT });
    for (const f of FAMILIES) {
      const ips = s.ips[f];
      if (ips.length === 0) continue;
      const to =
        ips.length === 1
          ? ips[0]
          : `jhash ${ADDR[f]} saddr . ${ADDR[f]} daddr mod ${ips.length} map { ${ips.map((ip, i) => `${i} : ${ip}`).join(", ")} }`;
      rules.push(
        `${ADDR[f]} saddr @${CLUSTER_SET[f]} oifname ${quote(s.outInterface)} counter name ${quote(name)} snat ${ADDR[f]} to ${to} comment ${quote(`snat for ${s.networkId}`)}`,
      );
    }
  }
  return { rules, counters };
}

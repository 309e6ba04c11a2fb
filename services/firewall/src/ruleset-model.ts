// The table as data: what the builder decides and the text writer prints. Extensions (DNS proxy, IDS,
// drop log) add their sets, chains and rules through RulesetContribution without touching the rest.

import type { CounterKind, SetKind } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import type { FirewallPlan } from "./firewall-plan.js";
import type { Family } from "./ip.js";
import type { TrafficRule } from "./policy-rules.js";
import type { ServiceRule } from "./service-rules.js";

export interface NftSet {
  name: string;
  kind: SetKind;
  family: Family;
  /** nft type, e.g. `ipv4_addr` or `ipv4_addr . inet_proto . inet_service : verdict`. */
  type: string;
  flags: string[];
  /** Rendered elements, e.g. `10.0.0.0/8` or `192.0.2.1 . tcp . 443 : jump svc_x`. */
  elements: string[];
  comment?: string;
  /** Elements come and go at run time (with timeouts) and are carried over on re-apply. */
  dynamic?: boolean;
  /** The toFQDNs selector of an FQDN set. */
  selector?: string;
}

export interface NftCounter {
  name: string;
  comment: string;
  kind: CounterKind;
}

export interface NftChain {
  name: string;
  /** Base chain declaration, e.g. `type filter hook forward priority 1; policy drop;`. */
  base?: string;
  rules: string[];
}

export interface RulesetModel {
  table: string;
  comment: string;
  counters: NftCounter[];
  sets: NftSet[];
  chains: NftChain[];
}

/** Where an extension's forward rules go. */
export interface RulesetContribution {
  sets?: NftSet[];
  counters?: NftCounter[];
  chains?: NftChain[];
  /** Forward rules after the state and ICMP rules, before the Service and policy rules. */
  forwardBeforePolicies?: string[];
  /** Forward rules after every policy rule, before the counted and logged drop. */
  forwardAfterPolicies?: string[];
  /** Postrouting (source NAT) rules before the SNAT rules. */
  postroutingFirst?: string[];
}

/** What an extension sees: everything the ruleset is built from, and the names already taken. */
export interface BuildInput {
  plan: FirewallPlan;
  rules: TrafficRule[];
  services: ServiceRule[];
  /** Every toFQDNs selector of a deployed policy, with its sets' names. */
  fqdnSets: Array<{ selector: string; sets: Record<Family, string> }>;
}

export type RulesetExtension = (input: BuildInput) => RulesetContribution;

// Kubernetes objects -> the service's desired state. Only a translation: every check is the service's.
import type {
  DesiredState,
  FirewallSpec,
  LoadBalancerService,
  NetworkPolicy,
  PolicyPort,
} from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import type { CwnpObject, FirewallObject, IpBlockObject, PortObject, ServiceObject } from "./resources.js";

const blocks = (b: IpBlockObject[] | undefined) =>
  (b ?? []).map((x) => ({ cidr: x.cidr ?? "", except: x.except ?? [] }));
const ports = (p: PortObject[] | undefined): PolicyPort[] =>
  (p ?? []).map((x) => ({
    protocol: x.protocol ?? "",
    port: x.port === undefined || x.port === null ? "" : String(x.port),
    endPort: x.endPort ?? undefined,
  }));

export function policyOf(o: CwnpObject): NetworkPolicy {
  return {
    namespace: o.metadata.namespace ?? "",
    name: o.metadata.name ?? "",
    ingress: (o.spec?.ingress ?? []).map((r) => ({ from: blocks(r.from), ports: ports(r.ports) })),
    egress: (o.spec?.egress ?? []).map((r) => ({
      to: blocks(r.to),
      toFqdns: (r.toFQDNs ?? []).map((f) => ({
        matchName: f.matchName ?? "",
        matchPattern: f.matchPattern ?? "",
      })),
      ports: ports(r.ports),
    })),
  };
}

/** Services of type LoadBalancer only; the others need no rule. */
export function serviceOf(o: ServiceObject): LoadBalancerService | undefined {
  if (o.spec?.type !== "LoadBalancer") return undefined;
  const ips = [
    o.spec.loadBalancerIP ?? "",
    ...(o.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? ""),
  ].filter((ip, i, all) => ip !== "" && all.indexOf(ip) === i);
  return {
    namespace: o.metadata.namespace ?? "",
    name: o.metadata.name ?? "",
    ips,
    ports: (o.spec.ports ?? []).map((p) => ({ protocol: p.protocol ?? "", port: p.port })),
    sourceRanges: o.spec.loadBalancerSourceRanges ?? [],
  };
}

export function firewallOf(o: FirewallObject, extraClusterPrefixes: readonly string[]): FirewallSpec {
  const s = o.spec ?? {};
  return {
    name: o.metadata.name ?? "",
    networks: (o.status?.firewallNetworks ?? []).map((n) => ({
      networkId: n.networkID ?? "",
      networkType: n.networkType ?? "",
      vrf: n.vrf ?? 0,
      prefixes: n.prefixes ?? [],
      destinationPrefixes: n.destinationPrefixes ?? [],
      ips: n.ips ?? [],
      nat: n.nat ?? false,
      asn: n.asn ?? 0,
    })),
    internalPrefixes: s.internalPrefixes ?? [],
    clusterPrefixes: [...extraClusterPrefixes],
    rateLimits: (s.rateLimits ?? []).map((r) => ({ networkId: r.networkID ?? "", rate: r.rate ?? 0 })),
    egressRules: (s.egressRules ?? []).map((r) => ({ networkId: r.networkID ?? "", ips: r.ips ?? [] })),
    allowedNetworks: s.allowedNetworks
      ? { ingress: s.allowedNetworks.ingress ?? [], egress: s.allowedNetworks.egress ?? [] }
      : undefined,
    logAcceptedConnections: s.logAcceptedConnections ?? false,
  };
}

export function desiredState(
  firewall: FirewallObject,
  cwnps: readonly CwnpObject[],
  services: readonly ServiceObject[],
  extraClusterPrefixes: readonly string[] = [],
): DesiredState {
  return {
    firewall: firewallOf(firewall, extraClusterPrefixes),
    policies: cwnps.map(policyOf),
    services: services.flatMap((s) => serviceOf(s) ?? []),
  };
}

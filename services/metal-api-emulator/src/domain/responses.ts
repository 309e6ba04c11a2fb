import type { IpResponse, MachineResponse, NetworkResponse, NetworkUsage } from "@metal-kube/metal-api";
import { parsePrefix, usableCount } from "../state/ipam.js";
import type { Store } from "../state/store.js";
import type { IpRecord, MachineRecord, NetworkRecord } from "../state/types.js";

// Wire responses built from stored records, shaped as metal-api's v1.*Response definitions.

/** metal-api shows the five most recent provisioning events. */
export const RECENT_EVENTS = 5;

export function machineResponse(store: Store, m: MachineRecord): MachineResponse {
  const a = m.allocation;
  const image = a ? store.catalog.images.find((i) => i.id === a.imageid) : undefined;
  return {
    id: m.id,
    name: m.name,
    description: m.description,
    partition: store.catalog.partitions.find((p) => p.id === m.partitionid),
    size: store.catalog.sizes.find((s) => s.id === m.sizeid),
    rackid: m.rackid,
    tags: m.tags,
    state: m.state,
    liveliness: m.liveliness,
    events: {
      log: m.events.slice(0, RECENT_EVENTS),
      last_event_time: m.last_event_time,
      crash_loop: m.crash_loop,
      failed_machine_reclaim: m.failed_machine_reclaim,
    },
    // metal-api encodes a free machine's allocation as null (a nil pointer without omitempty)
    allocation: a
      ? {
          allocationuuid: a.allocationuuid,
          created: a.created,
          creator: a.creator,
          name: a.name,
          hostname: a.hostname,
          description: a.description,
          project: a.project,
          role: a.role,
          image,
          user_data: a.user_data,
          ssh_pub_keys: a.ssh_pub_keys,
          succeeded: a.succeeded,
          reinstall: a.reinstall,
          networks: a.networks,
          dns_servers: a.dns_servers,
          ntp_servers: a.ntp_servers,
          ...(a.firewall_rules ? { firewall_rules: a.firewall_rules } : {}),
        }
      : null,
    hardware: m.hardware,
    bios: m.bios,
    ledstate: m.ledstate,
    created: m.created,
    changed: m.changed,
  };
}

export function ipResponse(ip: IpRecord): IpResponse {
  return {
    ipaddress: ip.ipaddress,
    allocationuuid: ip.allocationuuid,
    networkid: ip.networkid,
    projectid: ip.projectid,
    type: ip.type,
    name: ip.name,
    description: ip.description,
    tags: ip.tags,
    created: ip.created,
    changed: ip.changed,
  };
}

/** apiv2 network type names, as metal-api reports them in `networktype`. */
export function networkType(n: NetworkRecord): string {
  if (n.privatesuper) return n.projectid ? "super-namespaced" : "super";
  if (n.underlay) return "underlay";
  if (n.parentnetworkid) return n.shared ? "child-shared" : "child";
  return "external";
}

function usage(store: Store, n: NetworkRecord, family: 4 | 6): NetworkUsage | undefined {
  const prefixes = n.prefixes.map((p) => parsePrefix(p)!).filter((p) => p.family === family);
  if (prefixes.length === 0) return undefined;
  const used = store.ipsOfNetwork(n.id).filter((ip) => ip.ipaddress.includes(":") === (family === 6)).length;
  const children = [...store.networks.values()].filter((c) => c.parentnetworkid === n.id).length;
  const childBits = n.defaultchildprefixlength?.[family === 4 ? "IPv4" : "IPv6"];
  const availablePrefixes = childBits
    ? prefixes.reduce(
        (s, p) => s + Math.min(2 ** Math.max(0, childBits - p.bits), Number.MAX_SAFE_INTEGER),
        0,
      )
    : 0;
  return {
    available_ips: Math.min(
      prefixes.reduce((s, p) => s + usableCount(p), 0),
      Number.MAX_SAFE_INTEGER,
    ),
    used_ips: used,
    available_prefixes: availablePrefixes,
    used_prefixes: children,
  };
}

export function networkResponse(store: Store, n: NetworkRecord): NetworkResponse {
  const v4 = usage(store, n, 4);
  const v6 = usage(store, n, 6);
  return {
    id: n.id,
    name: n.name,
    description: n.description,
    partitionid: n.partitionid,
    projectid: n.projectid,
    parentnetworkid: n.parentnetworkid,
    prefixes: n.prefixes,
    destinationprefixes: n.destinationprefixes,
    additionalAnnouncableCIDRs: n.additionalAnnouncableCIDRs,
    ...(n.defaultchildprefixlength ? { defaultchildprefixlength: n.defaultchildprefixlength } : {}),
    labels: n.labels,
    nat: n.nat,
    nattype: n.nat ? "ipv4-masquerade" : "none",
    networktype: networkType(n),
    privatesuper: n.privatesuper,
    underlay: n.underlay,
    shared: n.shared,
    vrf: n.vrf,
    vrfshared: n.vrfshared,
    usage: v4 ?? { available_ips: 0, used_ips: 0, available_prefixes: 0, used_prefixes: 0 },
    consumption: { ...(v4 ? { ipv4: v4 } : {}), ...(v6 ? { ipv6: v6 } : {}) },
    created: n.created,
    changed: n.changed,
  };
}

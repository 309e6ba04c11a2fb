import type {
  DnsServer,
  FirewallRules,
  ImageResponse,
  IpType,
  MachineBios,
  MachineHardware,
  MachineNetwork,
  MachineStateValue,
  NtpServer,
  PartitionResponse,
  SizeResponse,
} from "@metal-kube/metal-api";

// The emulator's stored records. They stay close to the wire shapes so responses are cheap to build and
// the persisted state file is readable by people.

export type Liveliness = "Alive" | "Dead" | "Unknown";
export type Role = "machine" | "firewall";

export interface EventRecord {
  event: string;
  message: string;
  time: string;
}

export interface AllocationRecord {
  allocationuuid: string;
  created: string;
  creator: string;
  name: string;
  hostname: string;
  description: string;
  project: string;
  role: Role;
  imageid: string;
  user_data: string;
  ssh_pub_keys: string[];
  succeeded: boolean;
  reinstall: boolean;
  networks: MachineNetwork[];
  dns_servers: DnsServer[];
  ntp_servers: NtpServer[];
  firewall_rules?: FirewallRules;
  placement_tags: string[];
}

export interface MachineRecord {
  id: string;
  name: string;
  description: string;
  partitionid: string;
  sizeid: string;
  rackid: string;
  hardware: MachineHardware;
  bios: MachineBios;
  ledstate: { value: string; description: string };
  state: { value: MachineStateValue; description: string; issuer: string; metal_hammer_version: string };
  liveliness: Liveliness;
  /** Newest first, like metal-api's event container. */
  events: EventRecord[];
  last_event_time: string;
  crash_loop: boolean;
  failed_machine_reclaim: boolean;
  allocation: AllocationRecord | null;
  tags: string[];
  /** Free was called; networks and allocation are released by the provisioning clock. */
  freeing: boolean;
  created: string;
  changed: string;
}

export interface NetworkRecord {
  id: string;
  name: string;
  description: string;
  partitionid: string;
  projectid: string;
  parentnetworkid: string;
  prefixes: string[];
  destinationprefixes: string[];
  additionalAnnouncableCIDRs: string[];
  defaultchildprefixlength?: Record<string, number>;
  labels: Record<string, string>;
  nat: boolean;
  privatesuper: boolean;
  underlay: boolean;
  shared: boolean;
  vrf: number;
  vrfshared: boolean;
  created: string;
  changed: string;
}

export interface IpRecord {
  ipaddress: string;
  allocationuuid: string;
  networkid: string;
  projectid: string;
  type: IpType;
  name: string;
  description: string;
  tags: string[];
  /** The network prefix the address came from (find filter `networkprefix`). */
  parentprefix: string;
  created: string;
  changed: string;
}

export interface Catalog {
  partitions: PartitionResponse[];
  sizes: SizeResponse[];
  images: ImageResponse[];
}

/** Everything that survives a restart. */
export interface StateData {
  version: 1;
  catalog: Catalog;
  machines: MachineRecord[];
  networks: NetworkRecord[];
  ips: IpRecord[];
  asns: number[];
}

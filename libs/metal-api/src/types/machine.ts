import type { ImageResponse, PartitionResponse, SizeResponse } from "./catalog.js";
import type { DnsServer, NtpServer } from "./common.js";

/** `v1.MachineAllocationNetwork`: a network to place the machine in. */
export interface MachineAllocationNetwork {
  networkid: string;
  /** Acquire an IP in this network automatically. */
  autoacquire: boolean;
}

/** `v1.MachineAllocateRequest` (POST /v1/machine/allocate). No `role`: the endpoint decides it. */
export interface MachineAllocateRequest {
  uuid?: string;
  name?: string;
  description?: string;
  hostname?: string;
  projectid: string;
  partitionid: string;
  sizeid: string;
  imageid: string;
  filesystemlayoutid?: string;
  ssh_pub_keys: string[];
  /** base64 encoded, cloud-init or ignition */
  user_data?: string;
  tags?: string[];
  networks?: MachineAllocationNetwork[];
  ips?: string[];
  placement_tags?: string[];
  dns_servers?: DnsServer[];
  ntp_servers?: NtpServer[];
}

/** `v1.FirewallEgressRule` */
export interface FirewallEgressRule {
  comment?: string;
  ports: number[];
  protocol?: "tcp" | "udp";
  to: string[];
}

/** `v1.FirewallIngressRule` */
export interface FirewallIngressRule {
  comment?: string;
  from: string[];
  ports: number[];
  protocol?: "tcp" | "udp";
  to?: string[];
}

/** `v1.FirewallRules` */
export interface FirewallRules {
  egress?: FirewallEgressRule[];
  ingress?: FirewallIngressRule[];
}

/** `v1.FirewallCreateRequest` (POST /v1/firewall/allocate) */
export interface FirewallCreateRequest extends MachineAllocateRequest {
  firewall_rules?: FirewallRules;
}

/** `v1.MachineUpdateRequest` (POST /v1/machine): replaces description, tags and ssh keys. */
export interface MachineUpdateRequest {
  id: string;
  description: string;
  tags?: string[];
  ssh_pub_keys?: string[];
}

export type MachineStateValue = "" | "LOCKED" | "RESERVED";

/** `v1.MachineFindRequest`: every given field must match; `tags` must all be present. */
export interface MachineFindRequest {
  id?: string;
  name?: string;
  partition_id?: string;
  sizeid?: string;
  rackid?: string;
  tags?: string[];
  state_value?: MachineStateValue;
  allocation_name?: string;
  allocation_hostname?: string;
  allocation_project?: string;
  allocation_role?: string;
  allocation_image_id?: string;
  allocation_succeeded?: boolean;
  network_ids?: string[];
  network_ips?: string[];
  network_prefixes?: string[];
  network_destination_prefixes?: string[];
  network_vrfs?: number[];
  network_asns?: number[];
  hardware_memory?: number;
  nics_mac_addresses?: string[];
  nics_names?: string[];
  disk_names?: string[];
  disk_sizes?: number[];
}

/** `v1.FirewallFindRequest`: same filters as machines (the role is firewall). */
export type FirewallFindRequest = MachineFindRequest;

/** `v1.MachineNetwork`: one network of an allocation. */
export interface MachineNetwork {
  networkid: string;
  projectid: string;
  ips: string[];
  prefixes: string[];
  destinationprefixes: string[];
  vrf: number;
  asn: number;
  nat: boolean;
  private: boolean;
  underlay: boolean;
  /** e.g. privateprimaryunshared, privatesecondaryshared, external, underlay */
  networktype: string;
  /** e.g. private-primary, private-secondary, external, underlay */
  networktypev2: string;
  /** none or ipv4-masquerade */
  nattypev2: string;
}

/** `v1.BootInfo` */
export interface BootInfo {
  bootloaderid: string;
  cmdline: string;
  image_id: string;
  initrd: string;
  kernel: string;
  os_partition: string;
  primary_disk: string;
}

/** `v1.MachineVPN` */
export interface MachineVpn {
  address: string;
  auth_key: string;
  connected: boolean;
}

/** `v1.MachineAllocation`; null/absent on a free machine. */
export interface MachineAllocation {
  allocationuuid: string;
  created: string;
  creator: string;
  name: string;
  hostname: string;
  description?: string;
  project: string;
  role: "machine" | "firewall";
  image?: ImageResponse;
  user_data?: string;
  ssh_pub_keys: string[];
  succeeded: boolean;
  reinstall: boolean;
  networks: MachineNetwork[];
  dns_servers?: DnsServer[];
  ntp_servers?: NtpServer[];
  firewall_rules?: FirewallRules;
  boot_info?: BootInfo;
  vpn?: MachineVpn;
  /** `v1.FilesystemLayoutResponse`; not interpreted by this project. */
  filesystemlayout?: Record<string, unknown>;
}

/** `v1.MachineState` */
export interface MachineState {
  value: MachineStateValue;
  description: string;
  metal_hammer_version: string;
  issuer?: string;
}

/** `v1.MachineProvisioningEvent` */
export interface MachineProvisioningEvent {
  event: string;
  message?: string;
  time?: string;
}

/** `v1.MachineRecentProvisioningEvents`; `log` is newest first. */
export interface MachineRecentProvisioningEvents {
  log: MachineProvisioningEvent[];
  last_event_time?: string;
  last_error_event?: MachineProvisioningEvent;
  crash_loop: boolean;
  failed_machine_reclaim: boolean;
}

/** `v1.MachineNic` */
export interface MachineNic {
  identifier: string;
  mac: string;
  name: string;
  neighbors: MachineNic[];
}

/** `v1.MachineBlockDevice` */
export interface MachineBlockDevice {
  name: string;
  size: number;
}

/** `v1.MetalCPU` */
export interface MetalCpu {
  cores: number;
  model: string;
  threads: number;
  vendor: string;
}

/** `v1.MetalGPU` */
export interface MetalGpu {
  model: string;
  vendor: string;
}

/** `v1.MachineHardware`; memory in bytes. */
export interface MachineHardware {
  cpu_cores: number;
  cpus?: MetalCpu[];
  gpus?: MetalGpu[];
  memory: number;
  disks: MachineBlockDevice[];
  nics: MachineNic[];
}

/** `v1.MachineBIOS` */
export interface MachineBios {
  date: string;
  vendor: string;
  version: string;
}

/** `v1.ChassisIdentifyLEDState` */
export interface ChassisIdentifyLedState {
  value: string;
  description: string;
}

export type Liveliness = "Alive" | "Dead" | "Unknown";

/** `v1.MachineResponse` (also `v1.FirewallResponse`, which has the same shape). */
export interface MachineResponse {
  id: string;
  name?: string;
  description?: string;
  partition?: PartitionResponse;
  size?: SizeResponse;
  rackid?: string;
  tags: string[];
  state: MachineState;
  liveliness: Liveliness | string;
  events: MachineRecentProvisioningEvents;
  allocation?: MachineAllocation | null;
  hardware: MachineHardware;
  bios: MachineBios;
  ledstate: ChassisIdentifyLedState;
  created?: string;
  changed?: string;
}

/** `v1.FirewallResponse` */
export type FirewallResponse = MachineResponse;

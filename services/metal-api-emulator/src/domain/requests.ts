import { z } from "zod";
import { badRequest } from "./api-error.js";

// Request bodies of the implemented endpoints, typed as in metal-api's spec. Unknown fields are refused
// with their name (metal-api ignores them; a silently ignored find filter would match every machine).
// Spec fields the emulator does not evaluate (fru_*, ipmi_*, nics_neighbor_*) are refused when non-empty.

const str = z.string();
const strs = z.array(z.string());
const dns = z.array(z.object({ ip: str }).strict());
const ntp = z.array(z.object({ address: str }).strict());

const allocateBase = {
  uuid: str.optional(),
  name: str.optional(),
  description: str.optional(),
  hostname: str.optional(),
  projectid: str,
  partitionid: str,
  sizeid: str,
  imageid: str,
  filesystemlayoutid: str.optional(),
  ssh_pub_keys: strs,
  user_data: str.optional(),
  tags: strs.optional(),
  networks: z.array(z.object({ networkid: str, autoacquire: z.boolean() }).strict()).optional(),
  ips: strs.optional(),
  placement_tags: strs.optional(),
  dns_servers: dns.optional(),
  ntp_servers: ntp.optional(),
};

const rule = {
  comment: str.optional(),
  ports: z.array(z.number().int().min(0).max(65535)),
  protocol: z.enum(["tcp", "udp"]).optional(),
};

export const machineAllocateRequest = z.object(allocateBase).strict();
export const firewallCreateRequest = z
  .object({
    ...allocateBase,
    firewall_rules: z
      .object({
        egress: z.array(z.object({ ...rule, to: strs }).strict()).optional(),
        ingress: z.array(z.object({ ...rule, from: strs, to: strs.optional() }).strict()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const unsupported = [
  "fru_board_mfg",
  "fru_board_mfg_serial",
  "fru_board_part_number",
  "fru_chassis_part_number",
  "fru_chassis_part_serial",
  "fru_product_manufacturer",
  "fru_product_part_number",
  "fru_product_serial",
  "ipmi_address",
  "ipmi_interface",
  "ipmi_mac_address",
  "ipmi_user",
  "nics_neighbor_mac_addresses",
  "nics_neighbor_names",
  "nics_neighbor_vrfs",
  "nics_vrfs",
] as const;

export const machineFindRequest = z
  .object({
    id: str.optional(),
    name: str.optional(),
    partition_id: str.optional(),
    sizeid: str.optional(),
    rackid: str.optional(),
    tags: strs.optional(),
    state_value: z.enum(["", "LOCKED", "RESERVED"]).optional(),
    allocation_name: str.optional(),
    allocation_hostname: str.optional(),
    allocation_project: str.optional(),
    allocation_role: z.enum(["machine", "firewall"]).optional(),
    allocation_image_id: str.optional(),
    allocation_succeeded: z.boolean().optional(),
    network_ids: strs.optional(),
    network_ips: strs.optional(),
    network_prefixes: strs.optional(),
    network_destination_prefixes: strs.optional(),
    network_vrfs: z.array(z.number().int()).optional(),
    network_asns: z.array(z.number().int()).optional(),
    hardware_memory: z.number().int().optional(),
    nics_mac_addresses: strs.optional(),
    nics_names: strs.optional(),
    disk_names: strs.optional(),
    disk_sizes: z.array(z.number().int()).optional(),
    ...Object.fromEntries(unsupported.map((k) => [k, z.unknown().optional()])),
  })
  .strict();

export const machineUpdateRequest = z
  .object({ id: str, description: str.optional(), tags: strs.optional(), ssh_pub_keys: strs.optional() })
  .strict();

export const machineStateRequest = z
  .object({
    value: z.enum(["", "LOCKED", "RESERVED"]),
    description: str,
    issuer: str.optional(),
    metal_hammer_version: str.optional(),
  })
  .strict();

const ipType = z.enum(["ephemeral", "static"]);
const af = z.enum(["IPv4", "IPv6"]);

export const ipAllocateRequest = z
  .object({
    networkid: str,
    projectid: str,
    type: ipType,
    name: str.optional(),
    description: str.optional(),
    tags: strs.optional(),
    machineid: str.optional(),
    addressfamily: af.optional(),
  })
  .strict();

export const ipUpdateRequest = z
  .object({
    ipaddress: str,
    type: ipType,
    name: str.optional(),
    description: str.optional(),
    tags: strs.optional(),
  })
  .strict();

export const ipFindRequest = z
  .object({
    ipaddress: str.optional(),
    allocationuuid: str.optional(),
    networkid: str.optional(),
    networkprefix: str.optional(),
    projectid: str.optional(),
    machineid: str.optional(),
    name: str.optional(),
    type: str.optional(),
    tags: strs.optional(),
    addressfamily: af.optional(),
  })
  .strict();

export const networkFindRequest = z
  .object({
    id: str.optional(),
    name: str.optional(),
    partitionid: str.optional(),
    projectid: str.optional(),
    parentnetworkid: str.optional(),
    prefixes: strs.optional(),
    destinationprefixes: strs.optional(),
    labels: z.record(str, str).optional(),
    nat: z.boolean().optional(),
    privatesuper: z.boolean().optional(),
    underlay: z.boolean().optional(),
    vrf: z.number().int().optional(),
    addressfamily: af.optional(),
  })
  .strict();

export const networkAllocateRequest = z
  .object({
    partitionid: str.optional(),
    projectid: str.optional(),
    name: str.optional(),
    description: str.optional(),
    labels: z.record(str, str).optional(),
    destinationprefixes: strs.optional(),
    length: z.partialRecord(af, z.number().int().min(1).max(128)).optional(),
    nat: z.boolean().optional(),
    shared: z.boolean().optional(),
    addressfamily: af.optional(),
  })
  .strict();

/** Parses a body against a schema, or throws 400 naming each bad field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, definition: string): z.output<S> {
  const r = schema.safeParse(body ?? {});
  if (r.success) {
    if (schema === (machineFindRequest as z.ZodType)) {
      const given = unsupported.filter((k) => {
        const v = (r.data as Record<string, unknown>)[k];
        return v !== undefined && v !== "" && !(Array.isArray(v) && v.length === 0);
      });
      if (given.length > 0)
        throw badRequest(`${definition}: filter ${given.join(", ")} is not supported by the emulator`);
    }
    return r.data;
  }
  const parts = r.error.issues.map((i) => {
    if (i.code === "unrecognized_keys")
      return `unknown field ${i.keys.map((k) => [...i.path, k].join(".")).join(", ")}`;
    return `${i.path.join(".") || "body"}: ${i.message}`;
  });
  throw badRequest(`invalid ${definition}: ${parts.join("; ")}`);
}

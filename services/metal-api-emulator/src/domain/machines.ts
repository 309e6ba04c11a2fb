import { randomUUID } from "node:crypto";
import type { MachineNetwork } from "@metal-kube/metal-api";
import type { z } from "zod";
import { canonicalAddress } from "../state/ipam.js";
import type { AllocationRecord, IpRecord, MachineRecord, NetworkRecord, Role } from "../state/types.js";
import { badRequest, notFound, unprocessable } from "./api-error.js";
import { type Ctx, iso } from "./context.js";
import { allocateAddressIn } from "./ips.js";
import type {
  firewallCreateRequest,
  machineFindRequest,
  machineStateRequest,
  machineUpdateRequest,
} from "./requests.js";
import { ipMachineIds, machineTag, makeMachineTags } from "./tags.js";

type AllocateRequest = z.output<typeof firewallCreateRequest>;
type FindRequest = z.output<typeof machineFindRequest>;

/** metal-api's ASN pool for machines starts here. */
export const ASN_BASE = 4_210_000_000;
const MAX_EVENTS = 20;
const SSH_KEY =
  /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+=*( .*)?$/;

export function getMachine(ctx: Ctx, id: string): MachineRecord {
  const m = ctx.store.machines.get(id);
  if (!m) throw notFound(`no machine with id "${id}" found`);
  return m;
}

export function addEvent(ctx: Ctx, m: MachineRecord, event: string, message = ""): void {
  const time = iso(ctx);
  m.events.unshift({ event, message, time });
  if (m.events.length > MAX_EVENTS) m.events.length = MAX_EVENTS;
  m.last_event_time = time;
  m.changed = time;
}

export const lastEvent = (m: MachineRecord) => m.events[0]?.event ?? "";

function isAllocatable(m: MachineRecord): boolean {
  return (
    m.allocation === null &&
    !m.freeing &&
    m.state.value === "" &&
    m.liveliness === "Alive" &&
    lastEvent(m) === "Waiting"
  );
}

/** A free Waiting machine, spread over racks: the rack with the fewest of the project's (placement-tagged) machines wins. */
function findWaitingMachine(
  ctx: Ctx,
  partition: string,
  size: string,
  project: string,
  placementTags: string[],
) {
  const candidates: MachineRecord[] = [];
  const load = new Map<string, number>();
  for (const m of ctx.store.machines.values()) {
    if (m.partitionid !== partition) continue;
    if (m.sizeid === size && isAllocatable(m)) candidates.push(m);
    if (m.allocation?.project === project && placementTags.every((t) => m.tags.includes(t))) {
      load.set(m.rackid, (load.get(m.rackid) ?? 0) + 1);
    }
  }
  if (candidates.length === 0) throw unprocessable("no machine available");
  let min = Number.POSITIVE_INFINITY;
  for (const c of candidates) min = Math.min(min, load.get(c.rackid) ?? 0);
  const best = candidates.filter((c) => (load.get(c.rackid) ?? 0) === min);
  return best[Math.floor(Math.random() * best.length)]!;
}

interface AllocNet {
  network: NetworkRecord;
  auto: boolean;
  ips: IpRecord[];
  type:
    | "privateprimaryunshared"
    | "privateprimaryshared"
    | "privatesecondaryshared"
    | "external"
    | "underlay";
}

function gatherNetworks(ctx: Ctx, req: AllocateRequest, role: Role, partition: string): AllocNet[] {
  const { store } = ctx;
  const supers = [...store.networks.values()].filter((n) => n.privatesuper);
  const partitionSuper = supers.find((n) => n.partitionid === partition);
  if (!partitionSuper) throw unprocessable(`partition ${partition} does not have a private super network`);
  const nets = new Map<string, AllocNet>();
  let primary: AllocNet | undefined;
  const privates: AllocNet[] = [];
  const shared: AllocNet[] = [];
  for (const spec of req.networks ?? []) {
    const network = store.networks.get(spec.networkid);
    if (!network) throw notFound(`no network with id "${spec.networkid}" found`);
    if (network.underlay)
      throw unprocessable(`underlay networks are not allowed to be set explicitly: ${network.id}`);
    if (network.privatesuper)
      throw unprocessable(`private super networks are not allowed to be set explicitly: ${network.id}`);
    const n: AllocNet = { network, auto: spec.autoacquire, ips: [], type: "external" };
    if (supers.some((s) => s.id === network.parentnetworkid)) {
      if (network.shared) {
        n.type = "privatesecondaryshared";
        shared.push(n);
      } else {
        if (primary) {
          throw unprocessable(
            "multiple private networks are specified but there must be only one primary private network that must not be shared",
          );
        }
        n.type = "privateprimaryunshared";
        primary = n;
      }
      privates.push(n);
    }
    nets.set(network.id, n);
  }
  if (nets.size !== (req.networks ?? []).length) throw unprocessable("given network ids are not unique");
  if (privates.length === 0) throw unprocessable("no private network given");
  if (!primary) {
    if (shared.length > 1) {
      throw unprocessable(
        "machines and firewalls are not allowed to be placed into multiple private, shared networks",
      );
    }
    primary = shared[0]!;
    primary.type = "privateprimaryshared";
  }
  if (role === "machine" && privates.length > 1)
    throw unprocessable("machines are not allowed to be placed into multiple private networks");
  if (primary.network.projectid !== req.projectid) {
    throw unprocessable("the given private network does not belong to the project, which is not allowed");
  }
  for (const raw of req.ips ?? []) {
    const ip = store.ips.get(canonicalAddress(raw) ?? raw);
    if (!ip) throw notFound(`no ip with id "${raw}" found`);
    if (ip.projectid !== req.projectid) {
      throw unprocessable(
        `given ip "${ip.ipaddress}" with project id "${ip.projectid}" does not belong to the project of this allocation: ${req.projectid}`,
      );
    }
    const n = nets.get(ip.networkid);
    if (!n)
      throw unprocessable(
        `given ip "${ip.ipaddress}" is not in any of the given networks, which is required`,
      );
    if (ipMachineIds(ip).length > 0) {
      throw unprocessable(
        `given ip "${ip.ipaddress}" is not available for direct attachment to machine because it is already in use`,
      );
    }
    n.auto = false;
    n.ips.push(ip);
  }
  for (const p of privates) {
    if (p.network.partitionid !== partition) {
      throw unprocessable(
        `private network "${p.network.id}" must be located in the partition where the machine is going to be placed`,
      );
    }
    if (!p.auto && p.ips.length === 0) {
      throw unprocessable(
        `the private network "${p.network.id}" has no auto ip acquisition, but no suitable IPs were provided, which would lead into a machine having no ip address`,
      );
    }
  }
  const result = [...nets.values()];
  if (role === "firewall") {
    const underlays = [...store.networks.values()].filter((n) => n.underlay && n.partitionid === partition);
    if (underlays.length === 0) throw unprocessable(`no underlay found in the given partition:${partition}`);
    result.push({ network: underlays[0]!, auto: true, ips: [], type: "underlay" });
  }
  return result;
}

const TYPE_V2: Record<AllocNet["type"], string> = {
  privateprimaryunshared: "child",
  privateprimaryshared: "child-shared",
  privatesecondaryshared: "child-shared",
  external: "external",
  underlay: "underlay",
};

function acquireAsn(ctx: Ctx): number {
  let asn = ASN_BASE;
  while (ctx.store.asns.has(asn)) asn++;
  ctx.store.asns.add(asn);
  return asn;
}

/**
 * An image by id; like metal-api, a version prefix (`ubuntu-24.04`) resolves to the newest image of that
 * line (`ubuntu-24.04.20250301`).
 */
export function resolveImage(ctx: Ctx, id: string) {
  const { images } = ctx.store.catalog;
  const exact = images.find((i) => i.id === id);
  if (exact) return exact;
  const line = images
    .filter((i) => i.id.startsWith(`${id}.`))
    .sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }));
  return line.at(-1);
}

/** Checks that need no lock (metal-api answers 400 for them, before it looks for a machine). */
function validateSpec(ctx: Ctx, req: AllocateRequest, role: Role) {
  const { catalog } = ctx.store;
  if (!req.networks) throw badRequest("network ids cannot be nil");
  if (req.networks.length === 0) throw badRequest("network ids cannot be empty");
  const image = resolveImage(ctx, req.imageid);
  if (!image) throw badRequest(`no image for id:${req.imageid} found`);
  req.imageid = image.id;
  if (!image.features?.includes(role)) {
    throw badRequest(
      `given image is not usable for a ${role}, features: ${(image.features ?? []).join(", ")}`,
    );
  }
  let partition = req.partitionid;
  let size = req.sizeid;
  let machine: MachineRecord | undefined;
  if (req.uuid) {
    machine = ctx.store.machines.get(req.uuid);
    if (!machine) throw badRequest(`uuid given but no machine found with uuid:${req.uuid}`);
    partition ||= machine.partitionid;
    size ||= machine.sizeid;
  }
  if (!partition) throw badRequest("when no machine id is given, a partition id must be specified");
  if (!size) throw badRequest("when no machine id is given, a size id must be specified");
  if (!catalog.sizes.some((s) => s.id === size)) throw badRequest(`size:${size} not found`);
  if ((req.dns_servers ?? []).length > 3) throw badRequest("please specify a maximum of three dns servers");
  for (const d of req.dns_servers ?? []) {
    if (!canonicalAddress(d.ip)) throw badRequest(`IP: ${d.ip} for DNS server not correct`);
  }
  if ((req.ntp_servers ?? []).length > 5) throw badRequest("please specify a maximum of five ntp servers");
  if (!req.projectid) throw unprocessable("project id must be specified");
  for (const ip of req.ips ?? [])
    if (!canonicalAddress(ip)) throw unprocessable(`"${ip}" is not a valid IP address`);
  for (const k of req.ssh_pub_keys)
    if (!SSH_KEY.test(k.trim())) throw unprocessable(`invalid public SSH key: ${k}`);
  if (role === "firewall" && (req.ips ?? []).length === 0 && !req.networks.some((n) => n.autoacquire)) {
    throw unprocessable("when no ip is given at least one auto acquire network must be specified");
  }
  if (!catalog.partitions.some((p) => p.id === partition))
    throw notFound(`partition cannot be found: no partition with id "${partition}" found`);
  return { partition, size, machine };
}

/**
 * POST /v1/machine/allocate and /v1/firewall/allocate. The machine pick and every write happen under the
 * partition's lock with no await in between, so parallel allocations never share a machine; the durable
 * write is group committed after the lock is released.
 */
export async function allocateMachine(
  ctx: Ctx,
  req: AllocateRequest,
  role: Role,
  creator: string,
): Promise<MachineRecord> {
  const spec = validateSpec(ctx, req, role);
  const m = await ctx.locks.run(spec.partition, () => {
    let candidate: MachineRecord;
    if (spec.machine) {
      candidate = spec.machine;
      if (candidate.allocation || candidate.freeing) throw unprocessable("machine is already allocated");
      if (candidate.partitionid !== spec.partition) {
        throw unprocessable(`machine "${candidate.id}" is not in the requested partition: ${spec.partition}`);
      }
      if (candidate.sizeid !== spec.size)
        throw unprocessable(`machine "${candidate.id}" does not have the requested size: ${spec.size}`);
    } else {
      candidate = findWaitingMachine(ctx, spec.partition, spec.size, req.projectid, req.placement_tags ?? []);
    }
    const nets = gatherNetworks(ctx, req, role, spec.partition);
    const created: IpRecord[] = [];
    const machineNetworks: MachineNetwork[] = [];
    try {
      for (const n of nets) {
        if (n.auto) {
          const ip = allocateAddressIn(ctx, n.network, {
            projectid: req.projectid,
            name: req.name ?? "",
            description: "autoassigned",
            type: "ephemeral",
            tags: [machineTag(candidate.id)],
          });
          created.push(ip);
          n.ips.push(ip);
        }
        for (const ip of n.ips) {
          if (!ip.tags.includes(machineTag(candidate.id))) ip.tags = [...ip.tags, machineTag(candidate.id)];
        }
        const underlay = n.type === "underlay";
        const priv = n.type.startsWith("private");
        machineNetworks.push({
          networkid: n.network.id,
          projectid: n.network.projectid,
          ips: n.ips.map((ip) => ip.ipaddress),
          prefixes: n.network.prefixes,
          destinationprefixes: n.network.destinationprefixes,
          vrf: n.network.vrf,
          asn: 0,
          nat: n.network.nat,
          private: priv,
          underlay,
          networktype: n.type,
          networktypev2: TYPE_V2[n.type],
          nattypev2: n.network.nat ? "ipv4-masquerade" : "none",
        });
      }
    } catch (err) {
      for (const ip of created) ctx.store.ips.delete(ip.ipaddress);
      for (const n of nets)
        for (const ip of n.ips) ip.tags = ip.tags.filter((t) => t !== machineTag(candidate.id));
      throw err;
    }
    const asn = acquireAsn(ctx);
    for (const mn of machineNetworks) mn.asn = asn;
    const partition = ctx.store.catalog.partitions.find((p) => p.id === spec.partition)!;
    const now = iso(ctx);
    const alloc: AllocationRecord = {
      allocationuuid: randomUUID(),
      created: now,
      creator,
      name: req.name ?? "",
      hostname: req.hostname || "metal",
      description: req.description ?? "",
      project: req.projectid,
      role,
      imageid: req.imageid,
      user_data: req.user_data ?? "",
      ssh_pub_keys: req.ssh_pub_keys,
      succeeded: false,
      reinstall: false,
      networks: machineNetworks,
      // like metal-api: the partition's servers unless the request names its own
      dns_servers: req.dns_servers?.length ? req.dns_servers : (partition.dns_servers ?? []),
      ntp_servers: req.ntp_servers?.length ? req.ntp_servers : (partition.ntp_servers ?? []),
      ...(req.firewall_rules ? { firewall_rules: req.firewall_rules } : {}),
      placement_tags: req.placement_tags ?? [],
    };
    // the machine's own name and description stay: metal-api keeps the allocation's apart
    candidate.allocation = alloc;
    ctx.store.setMachineTags(candidate, makeMachineTags(candidate, req.tags ?? []));
    candidate.changed = now;
    ctx.schedule(candidate);
    return candidate;
  });
  await ctx.persist.commit();
  ctx.log.info(
    { machine: m.id, partition: m.partitionid, project: req.projectid, role },
    "machine allocated",
  );
  return m;
}

/** DELETE /v1/machine/{id}/free: asynchronous; the provisioning clock releases networks and allocation. */
export async function freeMachine(ctx: Ctx, id: string): Promise<MachineRecord> {
  const m = getMachine(ctx, id);
  if (m.state.value === "LOCKED") throw unprocessable("machine is locked");
  if (!m.freeing) {
    m.freeing = true;
    addEvent(ctx, m, "Machine Reclaim", "free machine called");
    ctx.schedule(m);
  }
  await ctx.persist.commit();
  return m;
}

/** Second half of a free: IPs and ASN released, allocation and tags cleared. */
export function releaseMachine(ctx: Ctx, m: MachineRecord): void {
  const tag = machineTag(m.id);
  for (const ip of [...ctx.store.ips.values()]) {
    if (!ip.tags.includes(tag)) continue;
    ip.tags = ip.tags.filter((t) => t !== tag);
    ip.changed = iso(ctx);
    // static IPs stay with the project; ephemeral ones go once no machine uses them
    if (ip.type === "ephemeral" && ipMachineIds(ip).length === 0) ctx.store.ips.delete(ip.ipaddress);
  }
  for (const n of m.allocation?.networks ?? []) if (n.asn >= ASN_BASE) ctx.store.asns.delete(n.asn);
  m.allocation = null;
  ctx.store.setMachineTags(m, []);
  m.freeing = false;
  m.changed = iso(ctx);
  ctx.log.info({ machine: m.id }, "machine freed");
}

/** POST /v1/machine: description, tags and ssh keys of an allocated machine. */
export async function updateMachine(
  ctx: Ctx,
  req: z.output<typeof machineUpdateRequest>,
): Promise<MachineRecord> {
  const m = getMachine(ctx, req.id);
  if (!m.allocation) throw badRequest("only allocated machines can be updated");
  if (req.description !== undefined) m.allocation.description = req.description;
  if (req.tags && req.tags.length > 0) ctx.store.setMachineTags(m, makeMachineTags(m, req.tags));
  if (req.ssh_pub_keys && req.ssh_pub_keys.length > 0) m.allocation.ssh_pub_keys = req.ssh_pub_keys;
  m.changed = iso(ctx);
  await ctx.persist.commit();
  return m;
}

/** POST /v1/machine/{id}/state */
export async function setMachineState(
  ctx: Ctx,
  id: string,
  req: z.output<typeof machineStateRequest>,
  issuer: string,
) {
  if (req.value !== "" && req.description === "") throw badRequest("you must supply a description");
  const m = getMachine(ctx, id);
  m.state = {
    ...m.state,
    value: req.value,
    description: req.description,
    issuer: req.value === "" ? "" : issuer,
  };
  m.changed = iso(ctx);
  await ctx.persist.commit();
  return m;
}

const containsAll = <T>(have: T[], want: T[] | undefined) => !want || want.every((w) => have.includes(w));

/** POST /v1/machine/find: every given filter must match; list filters must all be present. */
export function findMachines(ctx: Ctx, q: FindRequest, forceRole?: Role): MachineRecord[] {
  const base =
    q.id !== undefined
      ? [ctx.store.machines.get(q.id)].filter((m) => !!m)
      : ctx.store.machinesWithTags(q.tags ?? []);
  const role = forceRole ?? q.allocation_role;
  return base.filter((m) => {
    const a = m.allocation;
    if (q.tags && !containsAll(m.tags, q.tags)) return false;
    if (q.name !== undefined && m.name !== q.name) return false;
    if (q.partition_id !== undefined && m.partitionid !== q.partition_id) return false;
    if (q.sizeid !== undefined && m.sizeid !== q.sizeid) return false;
    if (q.rackid !== undefined && m.rackid !== q.rackid) return false;
    if (q.state_value !== undefined && m.state.value !== q.state_value) return false;
    if (q.hardware_memory !== undefined && m.hardware.memory !== q.hardware_memory) return false;
    if (
      q.nics_mac_addresses &&
      !containsAll(
        m.hardware.nics.map((n) => n.mac),
        q.nics_mac_addresses,
      )
    )
      return false;
    if (
      q.nics_names &&
      !containsAll(
        m.hardware.nics.map((n) => n.name),
        q.nics_names,
      )
    )
      return false;
    if (
      q.disk_names &&
      !containsAll(
        m.hardware.disks.map((d) => d.name),
        q.disk_names,
      )
    )
      return false;
    if (
      q.disk_sizes &&
      !containsAll(
        m.hardware.disks.map((d) => d.size),
        q.disk_sizes,
      )
    )
      return false;
    const needsAlloc =
      role !== undefined ||
      q.allocation_name !== undefined ||
      q.allocation_hostname !== undefined ||
      q.allocation_project !== undefined ||
      q.allocation_image_id !== undefined ||
      q.allocation_succeeded !== undefined ||
      !!q.network_ids?.length ||
      !!q.network_ips?.length ||
      !!q.network_prefixes?.length ||
      !!q.network_destination_prefixes?.length ||
      !!q.network_vrfs?.length ||
      !!q.network_asns?.length;
    if (!needsAlloc) return true;
    if (!a) return false;
    if (role !== undefined && a.role !== role) return false;
    if (q.allocation_name !== undefined && a.name !== q.allocation_name) return false;
    if (q.allocation_hostname !== undefined && a.hostname !== q.allocation_hostname) return false;
    if (q.allocation_project !== undefined && a.project !== q.allocation_project) return false;
    if (q.allocation_image_id !== undefined && a.imageid !== q.allocation_image_id) return false;
    if (q.allocation_succeeded !== undefined && a.succeeded !== q.allocation_succeeded) return false;
    const nets = a.networks;
    if (
      !containsAll(
        nets.map((n) => n.networkid),
        q.network_ids,
      )
    )
      return false;
    if (
      !containsAll(
        nets.flatMap((n) => n.ips),
        q.network_ips?.map((ip) => canonicalAddress(ip) ?? ip),
      )
    )
      return false;
    if (
      !containsAll(
        nets.flatMap((n) => n.prefixes),
        q.network_prefixes,
      )
    )
      return false;
    if (
      !containsAll(
        nets.flatMap((n) => n.destinationprefixes),
        q.network_destination_prefixes,
      )
    )
      return false;
    if (
      !containsAll(
        nets.map((n) => n.vrf),
        q.network_vrfs,
      )
    )
      return false;
    if (
      !containsAll(
        nets.map((n) => n.asn),
        q.network_asns,
      )
    )
      return false;
    return true;
  });
}

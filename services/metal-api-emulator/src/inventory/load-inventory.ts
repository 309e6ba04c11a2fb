import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import type { MachineHardware, MachineNic } from "@metal-kube/metal-api";
import { parse as parseYaml } from "yaml";
import { canonicalAddress, parsePrefix } from "../state/ipam.js";
import type { MachineRecord, NetworkRecord, StateData } from "../state/types.js";
import { type Inventory, inventorySchema } from "./schema.js";

/** An inventory that cannot be used; the message names the file and each bad field. */
export class InventoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InventoryError";
  }
}

export async function readInventoryFile(file: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new InventoryError(`inventory ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = extname(file) === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new InventoryError(
      `inventory ${file}: not valid ${extname(file) === ".json" ? "JSON" : "YAML"}: ${(err as Error).message}`,
    );
  }
  return parseInventory(raw, file);
}

export function parseInventory(raw: unknown, source = "inventory"): Inventory {
  const r = inventorySchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new InventoryError(`${source} is invalid:\n${lines.join("\n")}`);
  }
  const inv = r.data;
  const problems: string[] = [];
  const dup = (what: string, ids: string[]) => {
    const seen = new Set<string>();
    for (const i of ids) {
      if (seen.has(i)) problems.push(`${what} ${i} is defined twice`);
      seen.add(i);
    }
  };
  dup(
    "partition",
    inv.partitions.map((p) => p.id),
  );
  dup(
    "size",
    inv.sizes.map((s) => s.id),
  );
  dup(
    "image",
    inv.images.map((i) => i.id),
  );
  dup(
    "rack",
    inv.racks.map((r) => r.id),
  );
  const partitions = new Set(inv.partitions.map((p) => p.id));
  const sizes = new Set(inv.sizes.map((s) => s.id));
  const racks = new Map(inv.racks.map((r) => [r.id, r.partition]));
  inv.racks.forEach((r, i) => {
    if (!partitions.has(r.partition)) problems.push(`racks.${i}.partition: unknown partition ${r.partition}`);
  });
  inv.machines.forEach((m, i) => {
    if (!racks.has(m.rack)) problems.push(`machines.${i}.rack: unknown rack ${m.rack}`);
    if (!sizes.has(m.size)) problems.push(`machines.${i}.size: unknown size ${m.size}`);
  });
  inv.networks.forEach((n, i) => {
    if (n.partitionid && !partitions.has(n.partitionid))
      problems.push(`networks.${i}.partitionid: unknown partition ${n.partitionid}`);
    n.prefixes.forEach((p, j) => {
      if (!parsePrefix(p)) problems.push(`networks.${i}.prefixes.${j}: ${p} is not a valid prefix`);
    });
  });
  inv.partitions.forEach((p, i) => {
    p.privatesuper.prefixes.forEach((x, j) => {
      if (!parsePrefix(x))
        problems.push(`partitions.${i}.privatesuper.prefixes.${j}: ${x} is not a valid prefix`);
    });
    p.dns_servers.forEach((d, j) => {
      if (!canonicalAddress(d.ip))
        problems.push(`partitions.${i}.dns_servers.${j}.ip: ${d.ip} is not an IP address`);
    });
  });
  if (problems.length > 0)
    throw new InventoryError(`${source} is invalid:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  return inv;
}

/** A stable UUID-shaped id from a seed: the same inventory always yields the same machine ids. */
export function stableUuid(seed: string): string {
  const h = createHash("sha1").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function mac(seed: string): string {
  const h = createHash("sha1").update(seed).digest();
  h[0] = (h[0]! & 0xfe) | 0x02; // locally administered, unicast
  return [...h.subarray(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

const constraint = (inv: Inventory, sizeId: string, type: string) =>
  inv.sizes.find((s) => s.id === sizeId)?.constraints.find((c) => c.type === type);

function hardwareFor(
  inv: Inventory,
  sizeId: string,
  id: string,
  rack: string,
  given?: Inventory["machines"][number]["hardware"],
): MachineHardware {
  const cores = given?.cpu_cores ?? constraint(inv, sizeId, "cores")?.min ?? 8;
  const memory = given?.memory ?? constraint(inv, sizeId, "memory")?.min ?? 32 * 1024 ** 3;
  const storage = constraint(inv, sizeId, "storage")?.min ?? 480 * 1000 ** 3;
  const nic = (name: string, leaf: string): MachineNic => ({
    identifier: "",
    mac: mac(`${id}/${name}`),
    name,
    neighbors: [
      {
        identifier: "",
        mac: mac(`${rack}/${leaf}`),
        name: `Ethernet${Number.parseInt(id.slice(0, 2), 16) % 48}`,
        neighbors: [],
      },
    ],
  });
  return {
    cpu_cores: cores,
    cpus: [{ vendor: "AuthenticAMD", model: "AMD EPYC 7302P 16-Core Processor", cores, threads: cores * 2 }],
    memory,
    disks: given?.disks ?? [{ name: "/dev/sda", size: storage }],
    nics: [nic("lan0", "leaf01"), nic("lan1", "leaf02")],
  };
}

/** The initial emulator state from an inventory: machines Waiting and Alive, networks as given. */
export function stateFromInventory(inv: Inventory, now = new Date()): StateData {
  const ts = now.toISOString();
  const networks: NetworkRecord[] = [];
  for (const p of inv.partitions) {
    networks.push({
      id: p.privatesuper.id ?? `tenant-super-network-${p.id}`,
      name: `tenant super network ${p.id}`,
      description: "",
      partitionid: p.id,
      projectid: "",
      parentnetworkid: "",
      prefixes: p.privatesuper.prefixes.map((x) => parsePrefix(x)!.text),
      destinationprefixes: [],
      additionalAnnouncableCIDRs: [],
      defaultchildprefixlength: p.privatesuper.defaultchildprefixlength,
      labels: {},
      nat: false,
      privatesuper: true,
      underlay: false,
      shared: false,
      vrf: 0,
      vrfshared: false,
      created: ts,
      changed: ts,
    });
  }
  for (const n of inv.networks) {
    networks.push({
      id: n.id,
      name: n.name ?? n.id,
      description: n.description ?? "",
      partitionid: n.partitionid,
      projectid: n.projectid,
      parentnetworkid: n.parentnetworkid,
      prefixes: n.prefixes.map((x) => parsePrefix(x)!.text),
      destinationprefixes: n.destinationprefixes,
      additionalAnnouncableCIDRs: [],
      labels: n.labels,
      nat: n.nat,
      privatesuper: false,
      underlay: n.underlay,
      shared: n.shared,
      vrf: n.vrf,
      vrfshared: n.vrfshared,
      created: ts,
      changed: ts,
    });
  }
  const racks = new Map(inv.racks.map((r) => [r.id, r.partition]));
  const machines: MachineRecord[] = [];
  const seen = new Set<string>();
  inv.machines.forEach((g, gi) => {
    for (let i = 0; i < g.count; i++) {
      const id = g.id ?? stableUuid(`${g.rack}/${g.size}/${gi}/${i}`);
      if (seen.has(id)) throw new InventoryError(`machines.${gi}: machine id ${id} is defined twice`);
      seen.add(id);
      const waitingAt = new Date(now.getTime() - 60_000).toISOString();
      machines.push({
        id,
        name: g.name ?? "",
        description: "",
        partitionid: racks.get(g.rack)!,
        sizeid: g.size,
        rackid: g.rack,
        hardware: hardwareFor(inv, g.size, id, g.rack, g.hardware),
        bios: { vendor: "American Megatrends Inc.", version: "3.4", date: "04/27/2023" },
        ledstate: { value: "", description: "" },
        state: {
          value: g.state,
          description: g.state ? "set in inventory" : "",
          issuer: "",
          metal_hammer_version: "v0.13.0",
        },
        liveliness: g.liveliness,
        events: [
          { event: "Waiting", message: "", time: waitingAt },
          { event: "Registering", message: "", time: waitingAt },
          { event: "Preparing", message: "", time: waitingAt },
          { event: "PXE Booting", message: "", time: waitingAt },
        ],
        last_event_time: waitingAt,
        crash_loop: false,
        failed_machine_reclaim: false,
        allocation: null,
        tags: [],
        freeing: false,
        created: ts,
        changed: ts,
      });
    }
  });
  return {
    version: 1,
    catalog: {
      partitions: inv.partitions.map((p) => ({
        id: p.id,
        name: p.name ?? p.id,
        description: p.description ?? "",
        bootconfig: p.bootconfig,
        dns_servers: p.dns_servers,
        ntp_servers: p.ntp_servers,
        labels: p.labels,
        mgmtserviceaddress: p.mgmtserviceaddress ?? "",
        created: ts,
        changed: ts,
      })),
      sizes: inv.sizes.map((s) => ({
        id: s.id,
        name: s.name ?? s.id,
        description: s.description ?? "",
        constraints: s.constraints,
        labels: s.labels,
        created: ts,
        changed: ts,
      })),
      images: inv.images.map((i) => ({
        id: i.id,
        name: i.name ?? i.id,
        description: i.description ?? "",
        url: i.url ?? "",
        features: i.features,
        classification: i.classification,
        expirationDate: i.expirationDate,
        usedby: [],
        created: ts,
        changed: ts,
      })),
    },
    machines,
    networks,
    ips: [],
    asns: [],
  };
}

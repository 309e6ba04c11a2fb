// A small, regular inventory built in code, for tests and benchmarks of the emulator and its clients.
import type { InventoryInput } from "./schema.js";

/** A small inventory: `partitions` partitions with `racks` racks of `perRack` machines of one size. */
export function smallInventory({
  partitions = 1,
  racks = 3,
  perRack = 4,
  size = "c1-large-x86",
} = {}): InventoryInput {
  const ps = Array.from({ length: partitions }, (_, i) => `p${i + 1}`);
  return {
    partitions: ps.map((id, i) => ({
      id,
      dns_servers: [{ ip: "1.1.1.1" }],
      ntp_servers: [{ address: "pool.ntp.org" }],
      privatesuper: { prefixes: [`10.${i * 2}.0.0/16`], defaultchildprefixlength: { IPv4: 22 } },
    })),
    sizes: [
      { id: size, constraints: [{ type: "cores", min: 16, max: 16 }] },
      { id: "n1-medium-x86", constraints: [{ type: "cores", min: 8, max: 8 }] },
    ],
    images: [
      { id: "ubuntu-24.04", features: ["machine"] },
      { id: "firewall-ubuntu-3.0", features: ["firewall"] },
    ],
    networks: [
      {
        id: "internet",
        prefixes: ["198.18.0.0/16"],
        destinationprefixes: ["0.0.0.0/0"],
        nat: true,
        vrf: 104009,
      },
      ...ps.map((p, i) => ({
        id: `underlay-${p}`,
        partitionid: p,
        prefixes: [`10.${i * 2 + 1}.0.0/22`],
        underlay: true,
      })),
    ],
    racks: ps.flatMap((p) =>
      Array.from({ length: racks }, (_, r) => ({ id: `${p}-rack-${r + 1}`, partition: p })),
    ),
    machines: ps.flatMap((p) =>
      Array.from({ length: racks }, (_, r) => ({ rack: `${p}-rack-${r + 1}`, size, count: perRack })),
    ),
  };
}

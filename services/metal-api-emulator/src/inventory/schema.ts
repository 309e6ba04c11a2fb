import { z } from "zod";

// The inventory file (YAML or JSON). Wire field names where metal-api has them, so a partition, size or
// image reads like its API response. Unknown keys are errors naming their path: a typo never silently
// drops a machine.

const cidr = z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, { error: "must be a CIDR like 10.0.0.0/16" });
const id = z.string().min(1, { error: "must not be empty" });

const partition = z
  .object({
    id,
    name: z.string().optional(),
    description: z.string().optional(),
    dns_servers: z
      .array(z.object({ ip: z.string() }).strict())
      .max(3)
      .default([]),
    ntp_servers: z.array(z.object({ address: z.string() }).strict()).default([]),
    bootconfig: z
      .object({
        imageurl: z.string().optional(),
        kernelurl: z.string().optional(),
        commandline: z.string().optional(),
      })
      .strict()
      .default({}),
    labels: z.record(z.string(), z.string()).default({}),
    mgmtserviceaddress: z.string().optional(),
    /** The partition's private super network: tenant networks are allocated inside it. */
    privatesuper: z
      .object({
        id: z.string().optional(),
        prefixes: z.array(cidr).min(1),
        defaultchildprefixlength: z
          .partialRecord(z.enum(["IPv4", "IPv6"]), z.number().int().min(1).max(128))
          .default({ IPv4: 22 }),
      })
      .strict(),
  })
  .strict();

const size = z
  .object({
    id,
    name: z.string().optional(),
    description: z.string().optional(),
    constraints: z
      .array(
        z
          .object({
            type: z.enum(["cores", "memory", "storage", "gpu"]),
            min: z.number().int().nonnegative().optional(),
            max: z.number().int().nonnegative().optional(),
            identifier: z.string().optional(),
          })
          .strict(),
      )
      .default([]),
    labels: z.record(z.string(), z.string()).default({}),
  })
  .strict();

const image = z
  .object({
    id,
    name: z.string().optional(),
    description: z.string().optional(),
    url: z.string().optional(),
    features: z.array(z.enum(["machine", "firewall"])).min(1),
    classification: z.enum(["preview", "supported", "deprecated"]).default("supported"),
    expirationDate: z.string().default("2099-12-31T00:00:00Z"),
  })
  .strict();

const network = z
  .object({
    id,
    name: z.string().optional(),
    description: z.string().optional(),
    partitionid: z.string().default(""),
    projectid: z.string().default(""),
    parentnetworkid: z.string().default(""),
    prefixes: z.array(cidr).min(1),
    destinationprefixes: z.array(cidr).default([]),
    nat: z.boolean().default(false),
    underlay: z.boolean().default(false),
    shared: z.boolean().default(false),
    vrf: z.number().int().nonnegative().default(0),
    vrfshared: z.boolean().default(false),
    labels: z.record(z.string(), z.string()).default({}),
  })
  .strict();

const rack = z.object({ id, partition: id }).strict();

const hardware = z
  .object({
    cpu_cores: z.number().int().positive(),
    memory: z.number().int().positive(),
    disks: z.array(z.object({ name: z.string(), size: z.number().int().nonnegative() }).strict()).default([]),
  })
  .strict();

/** One machine, or `count` alike machines (ids derived from rack, size and index). */
const machine = z
  .object({
    id: z.string().optional(),
    count: z.number().int().positive().max(100_000).default(1),
    rack: id,
    size: id,
    name: z.string().optional(),
    hardware: hardware.optional(),
    liveliness: z.enum(["Alive", "Dead", "Unknown"]).default("Alive"),
    state: z.enum(["", "LOCKED", "RESERVED"]).default(""),
  })
  .strict()
  .refine((m) => m.id === undefined || m.count === 1, { error: "id can only be given with count 1" });

export const inventorySchema = z
  .object({
    partitions: z.array(partition).min(1),
    sizes: z.array(size).min(1),
    images: z.array(image).min(1),
    networks: z.array(network).default([]),
    racks: z.array(rack).min(1),
    machines: z.array(machine).default([]),
  })
  .strict();

export type Inventory = z.output<typeof inventorySchema>;
export type InventoryInput = z.input<typeof inventorySchema>;

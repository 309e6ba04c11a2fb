import { createLogger } from "@metal-kube/logging";
import { createMetalApiClient, type HmacAuthType, type MetalApiClient } from "@metal-kube/metal-api";
import { createEmulator, type Emulator, type EmulatorOptions, smallInventory } from "../src/index.js";

// Starts a real emulator on a loopback port; clients talk to it over HTTP like the services do.

export const KEYS = {
  "Metal-View": "test-view",
  "Metal-Edit": "test-edit",
  "Metal-Admin": "test-admin",
} as const;

export const quietLogger = () =>
  createLogger({ name: "metal-api-emulator-test", level: process.env.LOG_LEVEL ?? "silent" });

export interface Harness {
  emulator: Emulator;
  url: string;
  client(type?: HmacAuthType, extra?: Partial<Parameters<typeof createMetalApiClient>[0]>): MetalApiClient;
  close(): Promise<void>;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Harness> {
  const emulator = await createEmulator({
    host: "127.0.0.1",
    port: 0,
    hmacKeys: { view: KEYS["Metal-View"], edit: KEYS["Metal-Edit"], admin: KEYS["Metal-Admin"] },
    provisioning: { stepMs: 20, freeDelayMs: 20, phoneHomeMs: 60_000 },
    logger: quietLogger(),
    ...opts,
  });
  const clients: MetalApiClient[] = [];
  return {
    emulator,
    url: emulator.url,
    client(type = "Metal-Edit", extra = {}) {
      const c = createMetalApiClient({
        url: emulator.url,
        hmac: KEYS[type],
        hmacAuthType: type,
        retryBaseDelayMs: 5,
        retryMaxDelayMs: 20,
        ...extra,
      });
      clients.push(c);
      return c;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await emulator.close();
    },
  };
}

/** A small inventory for tests; see smallInventory. */
export const inventory = smallInventory;

export const SSH_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmmRyX0eIGkLWSMW3k0RbOAyShNNJVpqBWdLcAYG6Nj test@example";

/** A project network and a machine allocation request in it. */
export async function projectNetwork(c: MetalApiClient, projectid = "proj-a", partitionid = "p1") {
  return c.network.allocate({ partitionid, projectid, name: `${projectid}-nodes` });
}

export function allocation(networkid: string, over: Record<string, unknown> = {}) {
  return {
    name: "shoot--p--w-1",
    hostname: "shoot--p--w-1",
    projectid: "proj-a",
    partitionid: "p1",
    sizeid: "c1-large-x86",
    imageid: "ubuntu-24.04",
    ssh_pub_keys: [SSH_KEY],
    user_data: Buffer.from("#ignition").toString("base64"),
    networks: [
      { networkid, autoacquire: true },
      { networkid: "internet", autoacquire: true },
    ],
    tags: ["cluster.metal-stack.io/id=c1"],
    placement_tags: ["cluster.metal-stack.io/id=c1"],
    ...over,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

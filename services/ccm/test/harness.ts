// Real parts for the ccm's tests: the metal-api emulator on a loopback port, the ccm service as its own
// process (gRPC on a loopback port or a unix socket), and the kit's promise client of CloudProvider.

import { join } from "node:path";
import { createLogger } from "@metal-kube/logging";
import {
  createMetalApiClient,
  hmacHeaders,
  type MachineResponse,
  type MetalApiClient,
} from "@metal-kube/metal-api";
import { createEmulator, type Emulator, type InventoryInput } from "@metal-kube/metal-api-emulator";
import { ServiceError } from "@metal-kube/service-kit";
import { freePort, type ManagedProcess, makeTempDir, startServiceProcess } from "@metal-kube/testing";
import { type CcmClient, createCcmClient } from "../src/adapter/ccm-client.js";

export type { CcmClient };

export const VIEW_KEY = "ccm-view-key";
export const EDIT_KEY = "ccm-edit-key";
export const ADMIN_KEY = "ccm-admin-key";
export const PROJECT = "proj-ccm";
export const PARTITION = "fra-equ01";
export const CLUSTER = "c1a55e00-0000-4000-8000-00000000cc01";
export const SSH_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmmRyX0eIGkLWSMW3k0RbOAyShNNJVpqBWdLcAYG6Nj ccm@test";

const main = join(import.meta.dirname, "../src/main.ts");
const adapterMain = join(import.meta.dirname, "../src/adapter/main.ts");

/** One partition (fra-equ01), `machines` machines, networks internet (default external) and ext2. */
export function ccmInventory({ machines = 12, racks = 2 } = {}): InventoryInput {
  return {
    partitions: [
      {
        id: PARTITION,
        dns_servers: [{ ip: "1.1.1.1" }],
        ntp_servers: [{ address: "pool.ntp.org" }],
        privatesuper: { prefixes: ["10.0.0.0/12"], defaultchildprefixlength: { IPv4: 22 } },
      },
    ],
    sizes: [{ id: "c1-large-x86", constraints: [{ type: "cores", min: 16, max: 16 }] }],
    images: [{ id: "ubuntu-24.04", features: ["machine"] }],
    networks: [
      {
        id: "internet",
        prefixes: ["198.18.0.0/16"],
        destinationprefixes: ["0.0.0.0/0"],
        nat: true,
        vrf: 104009,
      },
      {
        id: "ext2",
        prefixes: ["203.0.113.0/24"],
        destinationprefixes: ["0.0.0.0/0"],
        nat: false,
        vrf: 104010,
      },
      { id: `underlay-${PARTITION}`, partitionid: PARTITION, prefixes: ["10.31.0.0/22"], underlay: true },
    ],
    racks: Array.from({ length: racks }, (_, r) => ({
      id: `${PARTITION}-rack-${r + 1}`,
      partition: PARTITION,
    })),
    machines: Array.from({ length: racks }, (_, r) => ({
      rack: `${PARTITION}-rack-${r + 1}`,
      size: "c1-large-x86",
      count: Math.ceil(machines / racks),
    })),
  } as InventoryInput;
}

export interface MetalBed {
  emulator: Emulator;
  url: string;
  edit: MetalApiClient;
  admin: MetalApiClient;
  /** The cluster's private node network. */
  networkId: string;
  /** Allocates a machine of the cluster with that hostname (and an internet IP). */
  allocateMachine(hostname: string, o?: { clusterTag?: boolean; project?: string }): Promise<MachineResponse>;
  close(): Promise<void>;
}

export async function startMetal(o: { machines?: number; racks?: number } = {}): Promise<MetalBed> {
  const emulator = await createEmulator({
    host: "127.0.0.1",
    port: 0,
    inventory: ccmInventory(o),
    hmacKeys: { view: VIEW_KEY, edit: EDIT_KEY, admin: ADMIN_KEY },
    provisioning: { stepMs: 20, freeDelayMs: 20, phoneHomeMs: 60_000 },
    persist: false,
    logger: createLogger({ name: "emulator", level: "silent" }),
  });
  const edit = createMetalApiClient({ url: emulator.url, hmac: EDIT_KEY, hmacAuthType: "Metal-Edit" });
  const admin = createMetalApiClient({ url: emulator.url, hmac: ADMIN_KEY, hmacAuthType: "Metal-Admin" });
  const networks = new Map<string, string>();
  const networkOf = async (project: string) => {
    let id = networks.get(project);
    if (!id) {
      id = (
        await edit.network.allocate({ partitionid: PARTITION, projectid: project, name: `${project}-nodes` })
      ).id;
      networks.set(project, id);
    }
    return id;
  };
  const networkId = await networkOf(PROJECT);
  return {
    emulator,
    url: emulator.url,
    edit,
    admin,
    networkId,
    async allocateMachine(hostname, a = {}) {
      const project = a.project ?? PROJECT;
      const tag = `cluster.metal-stack.io/id=${CLUSTER}`;
      return edit.machine.allocate({
        name: hostname,
        hostname,
        projectid: project,
        partitionid: PARTITION,
        sizeid: "c1-large-x86",
        imageid: "ubuntu-24.04",
        ssh_pub_keys: [],
        networks: [
          { networkid: await networkOf(project), autoacquire: true },
          { networkid: "internet", autoacquire: true },
        ],
        tags: a.clusterTag === false ? [] : [tag],
        placement_tags: [tag],
      });
    },
    async close() {
      await Promise.all([edit.close(), admin.close()]);
      await emulator.close();
    },
  };
}

export interface CcmProcess {
  proc: ManagedProcess;
  /** `127.0.0.1:<port>` or `unix:///<path>`. */
  address: string;
  metricsAddress: string;
  logs(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** The ccm's environment for an emulator at `url`. */
export function ccmEnv(url: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    METAL_API_URL: url,
    METAL_API_HMAC: EDIT_KEY,
    METAL_API_HMAC_AUTH_TYPE: "Metal-Edit",
    METAL_PROJECT_ID: PROJECT,
    METAL_PARTITION_ID: PARTITION,
    METAL_CLUSTER_ID: CLUSTER,
    METAL_DEFAULT_EXTERNAL_NETWORK_ID: "internet",
    EVENTS_ENABLED: "false",
    METRICS_LISTEN: "127.0.0.1:0",
    LOG_LEVEL: "info",
    ...env,
  };
}

/** Starts the ccm service (a loopback port unless GRPC_LISTEN says otherwise) and waits until it serves. */
export async function startCcm(env: Record<string, string>): Promise<CcmProcess> {
  const dir = makeTempDir("ccm-it-");
  const listen = env.GRPC_LISTEN ?? `127.0.0.1:${await freePort()}`;
  const p = await startServiceProcess({
    name: "ccm",
    entry: main,
    env: { GRPC_LISTEN: listen, EVENTS_OUTBOX_DIR: join(dir.path, "outbox"), ...env },
    ready: "serving",
    keepOutput: 32 * 1024 * 1024,
  });
  void p.proc.exited.then(() => dir.remove());
  const listening = p.logs().find((l) => l.msg === "gRPC server listening")!;
  return {
    proc: p.proc,
    address: listen,
    metricsAddress: String(listening.metricsAddress),
    logs: p.logs,
    stop: async () => {
      await p.stop();
    },
  };
}

export interface AdapterProcess {
  proc: ManagedProcess;
  metricsAddress: string;
  logs(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * Starts the ccm adapter process (its env names CCM_ADDRESS and KUBECONFIG) and waits until it logs
 * `waitFor` (default: running, its caches synced).
 */
export async function startAdapter(
  env: Record<string, string>,
  o: { waitFor?: string } = {},
): Promise<AdapterProcess> {
  const p = await startServiceProcess({
    name: "ccm adapter",
    entry: adapterMain,
    env: { ADAPTER_METRICS_LISTEN: "127.0.0.1:0", LOG_LEVEL: "info", ...env },
    ready: o.waitFor ?? "ccm adapter running",
    keepOutput: 32 * 1024 * 1024,
  });
  const listening = p.logs().find((l) => l.msg === "adapter metrics listening");
  return {
    proc: p.proc,
    metricsAddress: String(listening?.metricsAddress),
    logs: p.logs,
    stop: async () => {
      await p.stop();
    },
  };
}

/** The kit's promise client of the generated CloudProvider definition (what the adapter uses). */
export function ccmClient(address: string): CcmClient {
  return createCcmClient({ address });
}

/** The gRPC code and the server's message of a failed call (code 0 when it succeeded). */
export async function grpcError(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
    return { code: 0, details: "" };
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
    return { code: err.code, details: err.message };
  }
}

/** A LoadBalancerService message with defaults. */
export function lbService(name: string, over: Partial<Record<string, unknown>> = {}) {
  return {
    namespace: "default",
    name,
    uid: `uid-${name}`,
    loadBalancerIp: "",
    annotations: {},
    ports: [{ name: "http", protocol: "TCP", port: 80, nodePort: 30080 }],
    loadBalancerClass: "",
    ...over,
  } as {
    namespace: string;
    name: string;
    uid: string;
    loadBalancerIp: string;
    annotations: Record<string, string>;
    ports: { name: string; protocol: string; port: number; nodePort: number }[];
    loadBalancerClass: string;
  };
}

/** Emulator control: a machine's liveliness (as if it stopped reporting). */
export async function setLiveliness(
  url: string,
  machineId: string,
  liveliness: "Alive" | "Dead" | "Unknown",
) {
  const res = await fetch(`${url}/emulator/machines/${machineId}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...hmacHeaders({ key: ADMIN_KEY, authType: "Metal-Admin", method: "POST" }),
    },
    body: JSON.stringify({ liveliness }),
  });
  if (!res.ok) throw new Error(`emulator: ${res.status} ${await res.text()}`);
}

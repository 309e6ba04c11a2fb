// Real parts for the ccm's tests: the metal-api emulator on a loopback port, the ccm as its own process
// (gRPC on a loopback port), and a promise client of the generated CloudProvider stub.

import { join } from "node:path";
import { credentials, type ServiceError as GrpcError, Metadata } from "@grpc/grpc-js";
import { createLogger } from "@metal-kube/logging";
import {
  createMetalApiClient,
  hmacHeaders,
  type MachineResponse,
  type MetalApiClient,
} from "@metal-kube/metal-api";
import { createEmulator, type Emulator, type InventoryInput } from "@metal-kube/metal-api-emulator";
import { CloudProviderClient, CloudProviderService } from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import {
  freePort,
  jsonLogs,
  type ManagedProcess,
  makeTempDir,
  spawnProcess,
  waitFor,
} from "@metal-kube/testing";

export const VIEW_KEY = "ccm-view-key";
export const EDIT_KEY = "ccm-edit-key";
export const ADMIN_KEY = "ccm-admin-key";
export const PROJECT = "proj-ccm";
export const PARTITION = "fra-equ01";
export const CLUSTER = "c1a55e00-0000-4000-8000-00000000cc01";
export const SSH_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmmRyX0eIGkLWSMW3k0RbOAyShNNJVpqBWdLcAYG6Nj ccm@test";

const main = join(import.meta.dirname, "../src/main.ts");

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
  address: string;
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

export async function startCcm(
  env: Record<string, string>,
  o: { waitFor?: string } = {},
): Promise<CcmProcess> {
  const dir = makeTempDir("ccm-it-");
  const port = env.GRPC_LISTEN ? Number(env.GRPC_LISTEN.split(":").at(-1)) : await freePort();
  const proc = spawnProcess(process.execPath, ["--import", "tsx", main], {
    env: {
      ...process.env,
      GRPC_LISTEN: `127.0.0.1:${port}`,
      EVENTS_OUTBOX_DIR: join(dir.path, "outbox"),
      ...env,
    },
    keepOutput: 32 * 1024 * 1024,
  });
  const logs = jsonLogs(proc);
  const exited = proc.exited.then((code) => {
    throw new Error(`ccm exited with ${code}: ${proc.output().slice(-32_000)}`);
  });
  exited.catch(() => {});
  const want = o.waitFor ?? "serving";
  await Promise.race([
    exited,
    waitFor(`ccm to log "${want}"`, () => logs().some((l) => l.msg === want), { timeoutMs: 60_000 }),
  ]);
  return {
    proc,
    address: `127.0.0.1:${port}`,
    logs,
    stop: async () => {
      await proc.stop();
    },
  };
}

type Callback<Res> = (e: GrpcError | null, r?: Res) => void;
type RawUnary = (req: unknown, md: Metadata, opts: { deadline?: number }, cb: Callback<unknown>) => unknown;

type Methods = typeof CloudProviderService;
type ReqOf<M> = M extends { requestDeserialize: (b: Buffer) => infer R } ? R : never;
type ResOf<M> = M extends { responseDeserialize: (b: Buffer) => infer R } ? R : never;
export type CcmClient = {
  [K in keyof Methods]: (req: ReqOf<Methods[K]>, deadlineMs?: number) => Promise<ResOf<Methods[K]>>;
} & { close(): void };

/** Promise-returning calls over the generated grpc-js client, each with a deadline. */
export function ccmClient(address: string): CcmClient {
  const client = new CloudProviderClient(address, credentials.createInsecure());
  const out: Record<string, unknown> = { close: () => client.close() };
  for (const name of Object.keys(CloudProviderService)) {
    const fn = (client as unknown as Record<string, RawUnary>)[name]!;
    out[name] = (req: unknown, deadlineMs = 30_000) =>
      new Promise((resolve, reject) =>
        fn.call(client, req, new Metadata(), { deadline: Date.now() + deadlineMs }, (e, r) =>
          e ? reject(e) : resolve(r),
        ),
      );
  }
  return out as CcmClient;
}

/** The gRPC code and details of a failed call (code 0 when it succeeded). */
export async function grpcError(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
    return { code: 0, details: "" };
  } catch (err) {
    const e = err as GrpcError;
    return { code: e.code, details: e.details };
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

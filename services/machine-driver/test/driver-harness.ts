// Real parts for integration tests: the metal-api emulator on a loopback port, the driver as its own
// process on a unix socket, and the kit's promise client of the generated MachineDriver definition.

import { join } from "node:path";
import { createLogger } from "@metal-kube/logging";
import { createMetalApiClient, type MetalApiClient } from "@metal-kube/metal-api";
import {
  createEmulator,
  type Emulator,
  smallInventory as emulatorInventory,
  type InventoryInput,
} from "@metal-kube/metal-api-emulator";
import { MachineDriverService } from "@metal-kube/proto/metalstack/machinedriver/v1/machine_driver";
import { createServiceClient, type ServiceClient, ServiceError } from "@metal-kube/service-kit";
import { type ManagedProcess, makeTempDir, startServiceProcess } from "@metal-kube/testing";

export const EDIT_KEY = "it-edit-key";
export const ADMIN_KEY = "it-admin-key";
export const PROJECT = "proj-it";
export const CLUSTER = "c0ffee00-aaaa-bbbb-cccc-000000000001";

const main = join(import.meta.dirname, "../src/main.ts");

/** `partitions` partitions with `racks` racks of `perRack` machines of size c1-large-x86. */
export const smallInventory = (o: { partitions?: number; racks?: number; perRack?: number } = {}) =>
  emulatorInventory(o);

export interface MetalBed {
  emulator: Emulator;
  url: string;
  /** An edit client, as the driver uses. */
  edit: MetalApiClient;
  admin: MetalApiClient;
  /** The cluster's private node network. */
  networkId: string;
  close(): Promise<void>;
}

export async function startMetal(
  o: { inventory?: InventoryInput; stepMs?: number; stateFile?: string; port?: number } = {},
): Promise<MetalBed> {
  const emulator = await createEmulator({
    host: "127.0.0.1",
    port: o.port ?? 0,
    inventory: o.inventory ?? smallInventory(),
    hmacKeys: { view: "it-view-key", edit: EDIT_KEY, admin: ADMIN_KEY },
    provisioning: { stepMs: o.stepMs ?? 50, freeDelayMs: 50, phoneHomeMs: 60_000 },
    ...(o.stateFile ? { stateFile: o.stateFile } : { persist: false }),
    logger: createLogger({ name: "emulator", level: "silent" }),
  });
  const edit = createMetalApiClient({ url: emulator.url, hmac: EDIT_KEY, hmacAuthType: "Metal-Edit" });
  const admin = createMetalApiClient({ url: emulator.url, hmac: ADMIN_KEY, hmacAuthType: "Metal-Admin" });
  const network = await edit.network.allocate({
    partitionid: "p1",
    projectid: PROJECT,
    name: "cluster-nodes",
  });
  return {
    emulator,
    url: emulator.url,
    edit,
    admin,
    networkId: network.id,
    async close() {
      await Promise.all([edit.close(), admin.close()]);
      await emulator.close();
    },
  };
}

export interface DriverProcess {
  proc: ManagedProcess;
  socket: string;
  /** `unix:///...sock`. */
  address: string;
  metricsAddress: string;
  logs(): Array<Record<string, unknown>>;
  output(): string;
}

/** Starts the driver process; `socket` reuses a path (a restart after kill -9 leaves the old file). */
export async function startDriver(
  env: Record<string, string> = {},
  o: { socket?: string } = {},
): Promise<DriverProcess> {
  const dir = makeTempDir("machine-driver-it-");
  const socket = o.socket ?? join(dir.path, "driver.sock");
  const p = await startServiceProcess({
    name: "machine-driver",
    entry: main,
    env: {
      GRPC_LISTEN: `unix://${socket}`,
      METRICS_LISTEN: "127.0.0.1:0",
      EVENTS_ENABLED: "false",
      EVENTS_OUTBOX_DIR: join(dir.path, "outbox"),
      INITIALIZE_POLL_INTERVAL: "50ms",
      LOG_LEVEL: "info",
      ...env,
    },
    ready: "serving",
    timeoutMs: 30_000,
    keepOutput: 16 * 1024 * 1024,
  });
  const listening = p.logs().find((l) => l.msg === "gRPC server listening")!;
  return {
    proc: p.proc,
    socket,
    address: `unix://${socket}`,
    metricsAddress: String(listening.metricsAddress),
    logs: p.logs,
    output: p.output,
  };
}

export type DriverClient = ServiceClient<typeof MachineDriverService>;

/** The kit's promise client (each call with a deadline, failures as ServiceErrors). */
export function driverClient(address: string): DriverClient {
  return createServiceClient(MachineDriverService, { address });
}

/** The gRPC code and the server's message of a failed call (OK when it succeeded). */
export async function grpcCode(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
    return { code: 0, details: "" };
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
    return { code: err.code, details: err.message };
  }
}

// Real parts for integration tests: the metal-api emulator on a loopback port, the driver as its own
// process on a unix socket, and a gRPC client of the generated MachineDriver stub.

import { join } from "node:path";
import { credentials, type ServiceError as GrpcError, Metadata } from "@grpc/grpc-js";
import { createLogger } from "@metal-kube/logging";
import { createMetalApiClient, type MetalApiClient } from "@metal-kube/metal-api";
import {
  createEmulator,
  type Emulator,
  smallInventory as emulatorInventory,
  type InventoryInput,
} from "@metal-kube/metal-api-emulator";
import {
  type CreateMachineRequest,
  type CreateMachineResponse,
  type DeleteMachineRequest,
  type DeleteMachineResponse,
  type GetMachineStatusRequest,
  type GetMachineStatusResponse,
  type GetVolumeIDsRequest,
  type GetVolumeIDsResponse,
  type InitializeMachineRequest,
  type InitializeMachineResponse,
  type ListMachinesRequest,
  type ListMachinesResponse,
  MachineDriverClient,
} from "@metal-kube/proto/metalstack/machinedriver/v1/machine_driver";
import { jsonLogs, type ManagedProcess, makeTempDir, spawnProcess, waitFor } from "@metal-kube/testing";

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
  const proc = spawnProcess(process.execPath, ["--import", "tsx", main], {
    env: {
      ...process.env,
      GRPC_LISTEN: `unix://${socket}`,
      METRICS_LISTEN: "127.0.0.1:0",
      EVENTS_ENABLED: "false",
      EVENTS_OUTBOX_DIR: join(dir.path, "outbox"),
      INITIALIZE_POLL_INTERVAL: "50ms",
      LOG_LEVEL: "info",
      ...env,
    },
    keepOutput: 16 * 1024 * 1024,
  });
  const logs = jsonLogs(proc);
  const exited = proc.exited.then((code) => {
    throw new Error(`machine-driver exited with ${code}: ${proc.output()}`);
  });
  exited.catch(() => {});
  await Promise.race([
    exited,
    waitFor("machine-driver to serve", () => logs().some((l) => l.msg === "serving"), { timeoutMs: 30_000 }),
  ]);
  const listening = logs().find((l) => l.msg === "gRPC server listening")!;
  return {
    proc,
    socket,
    address: `unix://${socket}`,
    metricsAddress: String(listening.metricsAddress),
    logs,
    output: () => proc.output(),
  };
}

type Callback<Res> = (e: GrpcError | null, r?: Res) => void;
type RawUnary<Req, Res> = (req: Req, md: Metadata, opts: { deadline?: number }, cb: Callback<Res>) => unknown;

export interface DriverClient {
  createMachine(req: CreateMachineRequest, deadlineMs?: number): Promise<CreateMachineResponse>;
  initializeMachine(req: InitializeMachineRequest, deadlineMs?: number): Promise<InitializeMachineResponse>;
  deleteMachine(req: DeleteMachineRequest, deadlineMs?: number): Promise<DeleteMachineResponse>;
  getMachineStatus(req: GetMachineStatusRequest, deadlineMs?: number): Promise<GetMachineStatusResponse>;
  listMachines(req: ListMachinesRequest, deadlineMs?: number): Promise<ListMachinesResponse>;
  getVolumeIds(req: GetVolumeIDsRequest, deadlineMs?: number): Promise<GetVolumeIDsResponse>;
  close(): void;
}

/** Promise-returning calls over the generated grpc-js client, each with a deadline. */
export function driverClient(address: string): DriverClient {
  const client = new MachineDriverClient(address, credentials.createInsecure());
  const wrap =
    <Req, Res>(fn: unknown) =>
    (req: Req, deadlineMs = 30_000): Promise<Res> =>
      new Promise((resolve, reject) =>
        (fn as RawUnary<Req, Res>).call(
          client,
          req,
          new Metadata(),
          { deadline: Date.now() + deadlineMs },
          (e, r) => (e ? reject(e) : resolve(r as Res)),
        ),
      );
  return {
    createMachine: wrap(client.createMachine),
    initializeMachine: wrap(client.initializeMachine),
    deleteMachine: wrap(client.deleteMachine),
    getMachineStatus: wrap(client.getMachineStatus),
    listMachines: wrap(client.listMachines),
    getVolumeIds: wrap(client.getVolumeIDs),
    close: () => client.close(),
  };
}

/** The gRPC code of a failed call (OK when it succeeded). */
export async function grpcCode(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
    return { code: 0, details: "" };
  } catch (err) {
    return { code: (err as GrpcError).code, details: (err as GrpcError).details };
  }
}

// The driver's domain: the six MCM methods on top of metal-api. Transport-free (the gRPC wiring is in
// service.ts), so unit tests drive it with a fake metal-api.

import type { Logger } from "@metal-kube/logging";
import type { MachineAllocateRequest, MachineResponse } from "@metal-kube/metal-api";
import { isNotFound } from "@metal-kube/metal-api";
import { formatProviderId, machineIdOf, metalErrorMapper, outcomeUnknown } from "@metal-kube/metal-stack";
import type {
  CreateMachineRequest,
  CreateMachineResponse,
  DeleteMachineRequest,
  DeleteMachineResponse,
  GetMachineStatusRequest,
  GetMachineStatusResponse,
  GetVolumeIDsRequest,
  GetVolumeIDsResponse,
  InitializeMachineRequest,
  InitializeMachineResponse,
  ListMachinesRequest,
  ListMachinesResponse,
  Machine,
} from "@metal-kube/proto/metalstack/machinedriver/v1/machine_driver";
import { type Code, codeName, ServiceError, toServiceError } from "@metal-kube/service-kit";
import { sleep, untilAborted } from "./abortable.js";
import { parseSecret } from "./credentials.js";
import { type MachineEventAction, type MachineEventSink, noEvents } from "./machine-events.js";
import {
  lastEvent,
  type MachineView,
  nodeNameOf,
  ownedBy,
  provisioned,
  provisioningFailure,
  viewOf,
} from "./machine-view.js";
import type { MachinesApi, MetalClientPool } from "./metal-clients.js";
import { type ProviderSpec, parseProviderSpec } from "./provider-spec.js";
import { createSingleFlight } from "./single-flight.js";
import { volumeIdsOf } from "./volume-ids.js";

/** MCM's `codes.Uninitialized`: not a standard gRPC code, sent as grpc-status 17 (see the proto). */
export const UNINITIALIZED = 17 as Code;

export const DEFAULT_INITIALIZE_WAIT_MS = 5 * 60_000;
export const DEFAULT_INITIALIZE_POLL_MS = 5_000;
/** InitializeMachine answers this long before the caller's deadline, so its answer arrives in time. */
export const DEFAULT_DEADLINE_MARGIN_MS = 1_000;
/** Finds after an allocation whose answer was lost, with doubling pauses from the first delay. */
export const DEFAULT_LOST_ALLOCATE_FINDS = 4;
export const DEFAULT_LOST_ALLOCATE_FIRST_DELAY_MS = 250;

export interface CallInfo {
  signal: AbortSignal;
  deadline: Date | undefined;
  logger: Logger;
}

export interface MachineDriverOptions {
  clients: MetalClientPool;
  events?: MachineEventSink;
  logger: Logger;
  initializeWaitMs?: number;
  initializePollMs?: number;
  deadlineMarginMs?: number;
  lostAllocateFinds?: number;
  lostAllocateFirstDelayMs?: number;
}

type Parsed = Required<Omit<MachineDriverOptions, "logger" | "clients">>;

export function parseDriverOptions(o: MachineDriverOptions): Parsed {
  const nonNegative = (name: string, v: number | undefined, d: number) => {
    const x = v ?? d;
    if (!Number.isFinite(x) || x < 0)
      throw new Error(`machine driver option ${name}: must be >= 0, got ${x}`);
    return x;
  };
  return {
    events: o.events ?? noEvents,
    initializeWaitMs: nonNegative("initializeWaitMs", o.initializeWaitMs, DEFAULT_INITIALIZE_WAIT_MS),
    initializePollMs: Math.max(
      1,
      nonNegative("initializePollMs", o.initializePollMs, DEFAULT_INITIALIZE_POLL_MS),
    ),
    deadlineMarginMs: nonNegative("deadlineMarginMs", o.deadlineMarginMs, DEFAULT_DEADLINE_MARGIN_MS),
    lostAllocateFinds: nonNegative("lostAllocateFinds", o.lostAllocateFinds, DEFAULT_LOST_ALLOCATE_FINDS),
    lostAllocateFirstDelayMs: nonNegative(
      "lostAllocateFirstDelayMs",
      o.lostAllocateFirstDelayMs,
      DEFAULT_LOST_ALLOCATE_FIRST_DELAY_MS,
    ),
  };
}

export interface MachineDriver {
  createMachine(req: CreateMachineRequest, call: CallInfo): Promise<CreateMachineResponse>;
  initializeMachine(req: InitializeMachineRequest, call: CallInfo): Promise<InitializeMachineResponse>;
  deleteMachine(req: DeleteMachineRequest, call: CallInfo): Promise<DeleteMachineResponse>;
  getMachineStatus(req: GetMachineStatusRequest, call: CallInfo): Promise<GetMachineStatusResponse>;
  listMachines(req: ListMachinesRequest, call: CallInfo): Promise<ListMachinesResponse>;
  getVolumeIds(req: GetVolumeIDsRequest, call: CallInfo): Promise<GetVolumeIDsResponse>;
  /** Creates in progress (one per machine name). */
  readonly creating: number;
}

function machineName(m: Machine | undefined): string {
  const name = m?.name ?? "";
  if (name === "") throw ServiceError.invalidArgument("machine.name", "is required");
  if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(name))
    throw ServiceError.invalidArgument(
      "machine.name",
      `must be a DNS-1123 name, got ${JSON.stringify(name)}`,
    );
  return name;
}

/** MCM parses machine error messages between square brackets; keep ours free of them. */
function bracketFree(s: string): string {
  return s.replace(/\[/g, "(").replace(/\]/g, ")");
}

function uninitialized(name: string, view: MachineView, failure: string): ServiceError {
  return new ServiceError(
    UNINITIALIZED,
    bracketFree(
      `machine ${name} (${view.id}) ${failure}; providerID=${view.providerId} nodeName=${view.nodeName}`,
    ),
  );
}

function allocateRequest(spec: ProviderSpec, name: string, userData: Buffer): MachineAllocateRequest {
  return {
    name,
    hostname: name,
    description: `${name} created by the machine-controller-manager for cluster ${spec.cluster}`,
    projectid: spec.project,
    partitionid: spec.partition,
    sizeid: spec.size,
    imageid: spec.image,
    ssh_pub_keys: spec.sshKeys,
    // metal-api takes user data base64 encoded.
    user_data: userData.toString("base64"),
    tags: spec.tags,
    networks: [{ networkid: spec.network, autoacquire: true }],
    // Spreads the cluster's machines over racks.
    placement_tags: [spec.clusterTag],
    dns_servers: spec.dnsServers,
    ntp_servers: spec.ntpServers,
  };
}

export function createMachineDriver(options: MachineDriverOptions): MachineDriver {
  const o = parseDriverOptions(options);
  const { clients } = options;
  const flights = createSingleFlight<{ machine: MachineResponse; action: MachineEventAction }>();

  const emit = (
    action: MachineEventAction,
    spec: ProviderSpec,
    name: string,
    m?: MachineResponse,
    err?: ServiceError,
  ) => {
    const data = {
      machineName: name,
      machineId: m?.id ?? "",
      cluster: spec.cluster,
      partition: m?.partition?.id ?? spec.partition,
      size: m?.size?.id ?? spec.size,
      ...(err ? { error: { code: codeName(err.code), message: err.message } } : {}),
    };
    o.events
      .publish({ entity: "machine", action, data, subject: m?.id || name })
      .catch((e: unknown) =>
        options.logger.warn({ err: e, action, machineName: name }, "event not published"),
      );
  };

  /** The machine allocated for this name in the project and cluster; the oldest if a race made two. */
  async function findByName(api: MachinesApi, spec: ProviderSpec, name: string, signal?: AbortSignal) {
    const found = (
      await api.find(
        {
          allocation_project: spec.project,
          allocation_name: name,
          allocation_role: "machine",
          tags: [spec.clusterTag],
        },
        { signal },
      )
    ).filter((m) => ownedBy(m, spec) && m.allocation?.name === name);
    if (found.length > 1) {
      found.sort(
        (a, b) =>
          (a.allocation?.created ?? "").localeCompare(b.allocation?.created ?? "") ||
          a.id.localeCompare(b.id),
      );
      options.logger.warn(
        { machineName: name, ids: found.map((m) => m.id) },
        "several machines allocated for one name; using the oldest, the orphan collector frees the others",
      );
    }
    return found[0];
  }

  /** The machine behind the Machine: by providerID, else by name; undefined when none is ours. */
  async function resolve(
    api: MachinesApi,
    spec: ProviderSpec,
    machine: Machine | undefined,
    signal: AbortSignal,
  ) {
    const providerId = machine?.providerId ?? "";
    if (providerId !== "") {
      const id = machineIdOf(providerId, "machine.providerID");
      try {
        const m = await api.get(id, { signal });
        return { m: ownedBy(m, spec) ? m : undefined, byName: false };
      } catch (err) {
        if (isNotFound(err)) return { m: undefined, byName: false };
        throw err;
      }
    }
    return { m: await findByName(api, spec, machineName(machine), signal), byName: true };
  }

  async function findOrAllocate(
    api: MachinesApi,
    spec: ProviderSpec,
    name: string,
    userData: Buffer,
    log: Logger,
  ) {
    const existing = await findByName(api, spec, name);
    if (existing) return { machine: existing, action: "adopted" as const };
    try {
      const machine = await api.allocate(allocateRequest(spec, name, userData));
      return { machine, action: "created" as const };
    } catch (err) {
      if (!outcomeUnknown(err)) throw err;
      // The allocation may have happened: look for it, never allocate blindly a second time.
      log.warn(
        { machineName: name, err: (err as Error).message },
        "allocation answer lost; looking the machine up",
      );
      let delay = o.lostAllocateFirstDelayMs;
      for (let i = 0; i < o.lostAllocateFinds; i++) {
        await sleep(delay);
        delay *= 2;
        const found = await findByName(api, spec, name);
        if (found) {
          log.info({ machineName: name, machineId: found.id }, "lost allocation found");
          return { machine: found, action: "created" as const };
        }
      }
      throw ServiceError.unavailable(
        `allocation of ${name} got no answer (${(err as Error).message}) and no machine is allocated for it yet; retry`,
        err,
      );
    }
  }

  return {
    get creating() {
      return flights.size;
    },

    async createMachine(req, call) {
      const name = machineName(req.machine);
      const spec = parseProviderSpec(req.machineClass?.providerSpec);
      const endpoint = parseSecret(req.secret, { requireUserData: true });
      const api = clients.machines(endpoint);
      const key = `${endpoint.url}\0${spec.project}\0${spec.cluster}\0${name}`;
      // The shared run is not tied to one caller: a caller that gives up leaves the allocation to finish,
      // and the next call finds it.
      const run = flights.run(key, () => findOrAllocate(api, spec, name, req.secret!.userData, call.logger));
      try {
        const { machine, action } = await untilAborted(run, call.signal);
        const view = viewOf(machine, spec.network);
        emit(action, spec, name, machine);
        return {
          providerId: view.providerId,
          nodeName: view.nodeName,
          lastKnownState: view.id,
          addresses: view.addresses,
        };
      } catch (err) {
        if (!call.signal.aborted)
          emit("create-failed", spec, name, undefined, toServiceError(err, [metalErrorMapper]));
        throw err;
      }
    },

    async initializeMachine(req, call) {
      const spec = parseProviderSpec(req.machineClass?.providerSpec);
      const api = clients.machines(parseSecret(req.secret, { requireUserData: false }));
      const name = req.machine?.name ?? "";
      let { m } = await resolve(api, spec, req.machine, call.signal);
      const started = Date.now();
      const callEnd = call.deadline ? call.deadline.getTime() - o.deadlineMarginMs : Number.POSITIVE_INFINITY;
      const end = Math.min(started + o.initializeWaitMs, callEnd);
      for (;;) {
        if (!m)
          throw ServiceError.notFound(
            `no machine ${name} allocated to cluster ${spec.cluster} in project ${spec.project}`,
          );
        const view = viewOf(m, spec.network);
        const failure = provisioningFailure(m);
        if (failure) throw uninitialized(name, view, failure);
        if (provisioned(m))
          return { providerId: view.providerId, nodeName: view.nodeName, addresses: view.addresses };
        if (Date.now() + o.initializePollMs > end) {
          call.logger.info(
            { machineName: name, machineId: m.id, lastEvent: lastEvent(m), waitedMs: Date.now() - started },
            "machine still provisioning; leaving it to MCM's creation timeout",
          );
          return { providerId: view.providerId, nodeName: view.nodeName, addresses: view.addresses };
        }
        await sleep(o.initializePollMs, call.signal);
        try {
          const next = await api.get(m.id, { signal: call.signal });
          m = ownedBy(next, spec) ? next : undefined;
        } catch (err) {
          if (!isNotFound(err)) throw err;
          m = undefined;
        }
      }
    },

    async deleteMachine(req, call) {
      const providerId = req.machine?.providerId ?? "";
      // Nothing was created for a Machine without a providerID.
      if (providerId === "") return { lastKnownState: "" };
      const spec = parseProviderSpec(req.machineClass?.providerSpec);
      const api = clients.machines(parseSecret(req.secret, { requireUserData: false }));
      const id = machineIdOf(providerId, "machine.providerID");
      const name = req.machine?.name ?? "";
      let m: MachineResponse;
      try {
        m = await api.get(id, { signal: call.signal });
      } catch (err) {
        if (isNotFound(err)) return { lastKnownState: "" };
        throw err;
      }
      // Freed already (maybe by an earlier try), or not this cluster's: nothing of ours to free.
      if (!ownedBy(m, spec)) return { lastKnownState: "" };
      if (m.state?.value === "LOCKED") {
        const why = m.state.description ? `: ${m.state.description}` : "";
        throw ServiceError.failedPrecondition(
          bracketFree(
            `machine ${id} (${name}) is LOCKED in metal-api${why}; remove the lock to let it be freed`,
          ),
        );
      }
      try {
        await api.free(id, { signal: call.signal });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      emit("deleted", spec, name || nodeNameOf(m), m);
      return { lastKnownState: id };
    },

    async getMachineStatus(req, call) {
      const spec = parseProviderSpec(req.machineClass?.providerSpec);
      const api = clients.machines(parseSecret(req.secret, { requireUserData: false }));
      const { m, byName } = await resolve(api, spec, req.machine, call.signal);
      const name = req.machine?.name ?? "";
      if (!m) {
        throw ServiceError.notFound(
          byName
            ? `no machine ${name} allocated to cluster ${spec.cluster} in project ${spec.project}`
            : `machine ${req.machine?.providerId} is not allocated to cluster ${spec.cluster} in project ${spec.project}`,
        );
      }
      const view = viewOf(m, spec.network);
      const failure = provisioningFailure(m);
      if (failure) throw uninitialized(name, view, failure);
      if (byName) emit("adopted", spec, name, m);
      return { providerId: view.providerId, nodeName: view.nodeName, addresses: view.addresses };
    },

    async listMachines(req, call) {
      const spec = parseProviderSpec(req.machineClass?.providerSpec);
      const api = clients.machines(parseSecret(req.secret, { requireUserData: false }));
      // Thousands of machines: only the fields needed here are decoded (libs/metal-api json-pick).
      const machines = await api.findSummaries(
        { allocation_project: spec.project, allocation_role: "machine", tags: [spec.clusterTag] },
        { signal: call.signal },
      );
      const machineList: Record<string, string> = {};
      for (const m of machines) {
        if (!ownedBy(m, spec)) continue;
        // Throws for a machine without a partition: a malformed key would make MCM delete live machines.
        machineList[formatProviderId(m.partition?.id, m.id)] = nodeNameOf(m);
      }
      return { machineList };
    },

    async getVolumeIds(req) {
      return { volumeIds: volumeIdsOf(req.pvSpecs) };
    },
  };
}

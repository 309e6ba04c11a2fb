// An in-memory stand-in for metal-api's machine endpoints, for unit tests of the domain only
// (integration tests use the real emulator). Failures are injected per operation.

import { randomUUID } from "node:crypto";
import {
  type MachineAllocateRequest,
  type MachineFindRequest,
  type MachineResponse,
  MetalApiError,
} from "@metal-kube/metal-api";
import type { MetalEndpoint } from "../src/credentials.js";
import type { MachinesApi, MetalClientPool } from "../src/metal-clients.js";

export type Fault =
  | { kind: "http"; status: number; message: string }
  | { kind: "timeout" | "connection" }
  /** Commits the allocation, then loses the answer (as a timeout). */
  | { kind: "lost-after-commit" };

export interface FakeMetal extends MachinesApi {
  machines: Map<string, MachineResponse>;
  calls: { allocate: number; find: number; get: number; free: number };
  allocations: MachineAllocateRequest[];
  /** Next faults per operation, consumed one per call. */
  faults: { allocate: Fault[]; find: Fault[]; get: Fault[]; free: Fault[] };
  /** Delay of every allocate (ms). */
  allocateDelayMs: number;
  /** Adds a machine directly (allocated or free). */
  put(m: Partial<MachineResponse> & { id: string }): MachineResponse;
  endpoints: MetalEndpoint[];
  pool: MetalClientPool;
}

const err = (op: string, f: Exclude<Fault, { kind: "lost-after-commit" }>) =>
  f.kind === "http"
    ? new MetalApiError({ kind: "http", operation: op, status: f.status, metalMessage: f.message })
    : new MetalApiError({ kind: f.kind, operation: op });

export function baseMachine(id: string, over: Partial<MachineResponse> = {}): MachineResponse {
  return {
    id,
    partition: { id: "fra-equ01" } as MachineResponse["partition"],
    size: { id: "c1-xlarge-x86" } as MachineResponse["size"],
    rackid: "rack-1",
    tags: [],
    state: { value: "", description: "", metal_hammer_version: "" },
    liveliness: "Alive",
    events: { log: [{ event: "Waiting" }], crash_loop: false, failed_machine_reclaim: false },
    allocation: null,
    hardware: { cpu_cores: 8, memory: 1, disks: [], nics: [] },
    bios: { date: "", vendor: "", version: "" },
    ledstate: { value: "", description: "" },
    ...over,
  };
}

function matches(m: MachineResponse, q: MachineFindRequest): boolean {
  if (q.id && m.id !== q.id) return false;
  if (q.allocation_project && m.allocation?.project !== q.allocation_project) return false;
  if (q.allocation_name && m.allocation?.name !== q.allocation_name) return false;
  if (q.allocation_role && m.allocation?.role !== q.allocation_role) return false;
  if (q.tags && !q.tags.every((t) => m.tags.includes(t))) return false;
  return true;
}

export function createFakeMetal(): FakeMetal {
  const machines = new Map<string, MachineResponse>();
  const fake: FakeMetal = {
    machines,
    calls: { allocate: 0, find: 0, get: 0, free: 0 },
    allocations: [],
    faults: { allocate: [], find: [], get: [], free: [] },
    allocateDelayMs: 0,
    endpoints: [],
    put(m) {
      const full = baseMachine(m.id, m);
      machines.set(m.id, full);
      return full;
    },
    async allocate(req) {
      fake.calls.allocate++;
      if (fake.allocateDelayMs) await new Promise((r) => setTimeout(r, fake.allocateDelayMs));
      const f = fake.faults.allocate.shift();
      if (f && f.kind !== "lost-after-commit") throw err("machine.allocate", f);
      fake.allocations.push(req);
      const id = randomUUID();
      const m = baseMachine(id, {
        partition: { id: req.partitionid } as MachineResponse["partition"],
        size: { id: req.sizeid } as MachineResponse["size"],
        tags: [...(req.tags ?? [])],
        allocation: {
          allocationuuid: randomUUID(),
          created: new Date(Date.now() + fake.allocations.length).toISOString(),
          creator: "test",
          name: req.name ?? "",
          hostname: req.hostname ?? "",
          project: req.projectid,
          role: "machine",
          ssh_pub_keys: req.ssh_pub_keys,
          succeeded: false,
          reinstall: false,
          networks: [
            {
              networkid: "internet",
              projectid: "",
              ips: ["212.1.2.3"],
              prefixes: [],
              destinationprefixes: [],
              vrf: 104009,
              asn: 0,
              nat: true,
              private: false,
              underlay: false,
              networktype: "external",
              networktypev2: "external",
              nattypev2: "ipv4-masquerade",
            },
            {
              networkid: req.networks?.[0]?.networkid ?? "",
              projectid: req.projectid,
              ips: ["10.0.0.17"],
              prefixes: ["10.0.0.0/22"],
              destinationprefixes: [],
              vrf: 30,
              asn: 4200000017,
              nat: false,
              private: true,
              underlay: false,
              networktype: "privateprimaryunshared",
              networktypev2: "private-primary",
              nattypev2: "none",
            },
          ],
        },
        events: { log: [{ event: "Installing" }], crash_loop: false, failed_machine_reclaim: false },
      });
      machines.set(id, m);
      if (f?.kind === "lost-after-commit") throw err("machine.allocate", { kind: "timeout" });
      return structuredClone(m);
    },
    async find(q) {
      fake.calls.find++;
      const f = fake.faults.find.shift();
      if (f && f.kind !== "lost-after-commit") throw err("machine.find", f);
      return [...machines.values()].filter((m) => matches(m, q)).map((m) => structuredClone(m));
    },
    // Full machines are summaries too; the real decoder is tested in libs/metal-api.
    findSummaries: (q, o) => fake.find(q, o),
    async get(id) {
      fake.calls.get++;
      const f = fake.faults.get.shift();
      if (f && f.kind !== "lost-after-commit") throw err("machine.get", f);
      const m = machines.get(id);
      if (!m) throw err("machine.get", { kind: "http", status: 404, message: `machine ${id} not found` });
      return structuredClone(m);
    },
    async free(id) {
      fake.calls.free++;
      const f = fake.faults.free.shift();
      if (f && f.kind !== "lost-after-commit") throw err("machine.free", f);
      const m = machines.get(id);
      if (!m) throw err("machine.free", { kind: "http", status: 404, message: `machine ${id} not found` });
      m.allocation = null;
      m.tags = [];
      return structuredClone(m);
    },
    pool: {
      machines(endpoint) {
        fake.endpoints.push(endpoint);
        return fake;
      },
      async close() {},
    },
  };
  return fake;
}

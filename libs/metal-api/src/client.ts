import { pickArray } from "./json-pick.js";
import { MACHINE_SUMMARY_SHAPE, type MachineSummary } from "./machine-summary.js";
import { type MetalApiClientOptions, parseOptions } from "./options.js";
import { type CallOptions, createTransport, type Operation } from "./transport.js";
import type { ImageResponse, PartitionResponse, SizeResponse } from "./types/catalog.js";
import type { HealthResponse } from "./types/common.js";
import type { IpAllocateRequest, IpFindRequest, IpResponse, IpUpdateRequest } from "./types/ip.js";
import type {
  FirewallCreateRequest,
  FirewallFindRequest,
  FirewallResponse,
  MachineAllocateRequest,
  MachineFindRequest,
  MachineResponse,
  MachineUpdateRequest,
} from "./types/machine.js";
import type { NetworkAllocateRequest, NetworkFindRequest, NetworkResponse } from "./types/network.js";

export interface MetalApiClient {
  machine: {
    /** Never retried: after a lost response, find the machine by allocation name instead. */
    allocate(req: MachineAllocateRequest, opts?: CallOptions): Promise<MachineResponse>;
    get(id: string, opts?: CallOptions): Promise<MachineResponse>;
    find(req: MachineFindRequest, opts?: CallOptions): Promise<MachineResponse[]>;
    /** The same find, decoded into a few fields per machine: for lists of thousands of machines. */
    findSummaries(req: MachineFindRequest, opts?: CallOptions): Promise<MachineSummary[]>;
    update(req: MachineUpdateRequest, opts?: CallOptions): Promise<MachineResponse>;
    /** Asynchronous on metal-api's side: allocation and tags are cleared shortly after. */
    free(id: string, opts?: CallOptions): Promise<MachineResponse>;
  };
  firewall: {
    allocate(req: FirewallCreateRequest, opts?: CallOptions): Promise<FirewallResponse>;
    get(id: string, opts?: CallOptions): Promise<FirewallResponse>;
    find(req: FirewallFindRequest, opts?: CallOptions): Promise<FirewallResponse[]>;
  };
  ip: {
    /** Any free address of the network (201). */
    allocate(req: IpAllocateRequest, opts?: CallOptions): Promise<IpResponse>;
    /** The given address (409 when taken). */
    allocateAddress(address: string, req: IpAllocateRequest, opts?: CallOptions): Promise<IpResponse>;
    get(address: string, opts?: CallOptions): Promise<IpResponse>;
    find(req: IpFindRequest, opts?: CallOptions): Promise<IpResponse[]>;
    update(req: IpUpdateRequest, opts?: CallOptions): Promise<IpResponse>;
    free(address: string, opts?: CallOptions): Promise<IpResponse>;
  };
  network: {
    find(req: NetworkFindRequest, opts?: CallOptions): Promise<NetworkResponse[]>;
    get(id: string, opts?: CallOptions): Promise<NetworkResponse>;
    /** A child of the partition's private super network (201). */
    allocate(req: NetworkAllocateRequest, opts?: CallOptions): Promise<NetworkResponse>;
    free(id: string, opts?: CallOptions): Promise<NetworkResponse>;
  };
  partition: {
    list(opts?: CallOptions): Promise<PartitionResponse[]>;
    get(id: string, opts?: CallOptions): Promise<PartitionResponse>;
  };
  size: {
    list(opts?: CallOptions): Promise<SizeResponse[]>;
    get(id: string, opts?: CallOptions): Promise<SizeResponse>;
  };
  image: {
    list(opts?: CallOptions): Promise<ImageResponse[]>;
    get(id: string, opts?: CallOptions): Promise<ImageResponse>;
  };
  /** GET /v1/health; an unhealthy answer (500 with a HealthResponse) is returned, not thrown. */
  health(opts?: CallOptions): Promise<HealthResponse>;
  /** Closes the kept-alive connections. */
  close(): Promise<void>;
}

const read = (name: string, method: "GET" | "POST" = "GET"): Operation => ({
  name,
  method,
  idempotent: true,
});
const write = (name: string, method: "POST" | "DELETE", idempotent: boolean): Operation => ({
  name,
  method,
  idempotent,
});

// Idempotency per operation: updates replace whole fields and frees end in the same state, so a
// retry after a lost answer is harmless; an allocate would take a second machine, IP or network.
const OPS = {
  machineAllocate: write("machine.allocate", "POST", false),
  machineGet: read("machine.get"),
  machineFind: read("machine.find", "POST"),
  machineUpdate: write("machine.update", "POST", true),
  machineFree: write("machine.free", "DELETE", true),
  firewallAllocate: write("firewall.allocate", "POST", false),
  firewallGet: read("firewall.get"),
  firewallFind: read("firewall.find", "POST"),
  ipAllocate: write("ip.allocate", "POST", false),
  ipAllocateAddress: write("ip.allocateAddress", "POST", false),
  ipGet: read("ip.get"),
  ipFind: read("ip.find", "POST"),
  ipUpdate: write("ip.update", "POST", true),
  ipFree: write("ip.free", "DELETE", true),
  networkFind: read("network.find", "POST"),
  networkGet: read("network.get"),
  networkAllocate: write("network.allocate", "POST", false),
  networkFree: write("network.free", "DELETE", true),
  partitionList: read("partition.list"),
  partitionGet: read("partition.get"),
  sizeList: read("size.list"),
  sizeGet: read("size.get"),
  imageList: read("image.list"),
  imageGet: read("image.get"),
  health: read("health"),
} as const;

const seg = (v: string) => encodeURIComponent(v);

/** A metal-api v1 client for the subset the services use, with keep-alive, deadlines and safe retries. */
export function createMetalApiClient(options: MetalApiClientOptions): MetalApiClient {
  const t = createTransport(parseOptions(options));
  return {
    machine: {
      allocate: (req, o) => t.call(OPS.machineAllocate, "/v1/machine/allocate", req, o),
      get: (id, o) => t.call(OPS.machineGet, `/v1/machine/${seg(id)}`, undefined, o),
      find: (req, o) => t.call(OPS.machineFind, "/v1/machine/find", req, o),
      findSummaries: (req, o) =>
        t.call(OPS.machineFind, "/v1/machine/find", req, o, undefined, (body) =>
          pickArray<MachineSummary>(body, MACHINE_SUMMARY_SHAPE),
        ),
      update: (req, o) => t.call(OPS.machineUpdate, "/v1/machine", req, o),
      free: (id, o) => t.call(OPS.machineFree, `/v1/machine/${seg(id)}/free`, undefined, o),
    },
    firewall: {
      allocate: (req, o) => t.call(OPS.firewallAllocate, "/v1/firewall/allocate", req, o),
      get: (id, o) => t.call(OPS.firewallGet, `/v1/firewall/${seg(id)}`, undefined, o),
      find: (req, o) => t.call(OPS.firewallFind, "/v1/firewall/find", req, o),
    },
    ip: {
      allocate: (req, o) => t.call(OPS.ipAllocate, "/v1/ip/allocate", req, o),
      allocateAddress: (addr, req, o) =>
        t.call(OPS.ipAllocateAddress, `/v1/ip/allocate/${seg(addr)}`, req, o),
      get: (addr, o) => t.call(OPS.ipGet, `/v1/ip/${seg(addr)}`, undefined, o),
      find: (req, o) => t.call(OPS.ipFind, "/v1/ip/find", req, o),
      update: (req, o) => t.call(OPS.ipUpdate, "/v1/ip", req, o),
      free: (addr, o) => t.call(OPS.ipFree, `/v1/ip/free/${seg(addr)}`, undefined, o),
    },
    network: {
      find: (req, o) => t.call(OPS.networkFind, "/v1/network/find", req, o),
      get: (id, o) => t.call(OPS.networkGet, `/v1/network/${seg(id)}`, undefined, o),
      allocate: (req, o) => t.call(OPS.networkAllocate, "/v1/network/allocate", req, o),
      free: (id, o) => t.call(OPS.networkFree, `/v1/network/free/${seg(id)}`, undefined, o),
    },
    partition: {
      list: (o) => t.call(OPS.partitionList, "/v1/partition", undefined, o),
      get: (id, o) => t.call(OPS.partitionGet, `/v1/partition/${seg(id)}`, undefined, o),
    },
    size: {
      list: (o) => t.call(OPS.sizeList, "/v1/size", undefined, o),
      get: (id, o) => t.call(OPS.sizeGet, `/v1/size/${seg(id)}`, undefined, o),
    },
    image: {
      list: (o) => t.call(OPS.imageList, "/v1/image", undefined, o),
      get: (id, o) => t.call(OPS.imageGet, `/v1/image/${seg(id)}`, undefined, o),
    },
    health: (o) => t.call(OPS.health, "/v1/health", undefined, o, [200, 500]),
    close: () => t.close(),
  };
}

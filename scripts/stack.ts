// The local stack's parts and ports: one table, read by `npm start` (scripts/start.ts), the README and the
// local-stack test, so a port is written down in exactly one place.
import { existsSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..");

export const NATS_PORT = 4222;
export const NATS_MONITOR_PORT = 8222;
export const EMULATOR_PORT = 8080;
/** HMAC key the local emulator accepts and the local services sign with; local use only. */
export const LOCAL_HMAC_KEY = "metal-kube-local-stack";

/** The cluster the local stack plays: a project and cluster id of our own in the emulator's first partition. */
export const LOCAL_CLUSTER = {
  METAL_PROJECT_ID: "local-project",
  METAL_PARTITION_ID: "fra-equ01",
  METAL_CLUSTER_ID: "local-cluster",
};

export interface GrpcServiceEntry {
  /** Directory under services/ and the service's name in logs and events. */
  name: string;
  port: number;
  metricsPort: number;
  /** Fully qualified gRPC service, for the grpcurl examples. */
  grpcService: string;
  /** Variables the local stack sets for this service only. */
  localEnv?: Readonly<Record<string, string>>;
}

/** The gRPC services in port order (issue 2: 50051-50055, metrics 9051-9055). */
export const GRPC_SERVICES: readonly GrpcServiceEntry[] = [
  {
    name: "machine-driver",
    port: 50051,
    metricsPort: 9051,
    grpcService: "metalstack.machinedriver.v1.MachineDriver",
  },
  { name: "ccm", port: 50052, metricsPort: 9052, grpcService: "metalstack.ccm.v1.CloudProvider" },
  {
    name: "firewall",
    port: 50053,
    metricsPort: 9053,
    grpcService: "metalstack.firewall.v1.Firewall",
    // A developer's machine is no firewall: render and answer, never touch the host's nftables.
    localEnv: { FIREWALL_MODE: "render-only" },
  },
  {
    name: "ignition",
    port: 50054,
    metricsPort: 9054,
    grpcService: "metalstack.ignition.v1.IgnitionRenderer",
  },
  { name: "extension", port: 50055, metricsPort: 9055, grpcService: "metalstack.extension.v1.Extension" },
];

/** A service's entry point: `src/main.ts` by convention. Undefined while the service does not exist yet. */
export function serviceEntry(name: string): string | undefined {
  const file = join(ROOT, "services", name, "src", "main.ts");
  return existsSync(file) ? file : undefined;
}

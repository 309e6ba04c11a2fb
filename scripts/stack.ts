// The local stack's parts and ports: one table, read by `npm start` (scripts/start.ts), the README and the
// local-stack test, so a port is written down in exactly one place.
import { existsSync, mkdirSync } from "node:fs";
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
  /** The adapter process' /metrics, /healthz and /readyz: the service's metrics port + 100. */
  adapterMetricsPort: number;
  /** Fully qualified gRPC service, for the grpcurl examples. */
  grpcService: string;
  /** Variables the local stack sets for this service only. */
  localEnv?: Readonly<Record<string, string>>;
  /** Further ports the service's parts listen on locally, by name (before the offset). */
  localPorts?: Readonly<Record<string, number>>;
  /** Variables the local stack sets for this service's adapter, beyond the address and KUBECONFIG. */
  localAdapterEnv?: (ctx: LocalAdapterContext) => Promise<Record<string, string>>;
}

export interface LocalAdapterContext {
  kubeconfig: string;
  /** The stack's work directory (.work): files an adapter needs go below it. */
  workDir: string;
  offset: number;
}

/** The extension's webhooks (HTTPS) in the local stack. */
export const EXTENSION_WEBHOOK_PORT = 9443;

const service = (name: string, port: number, metricsPort: number, grpcService: string): GrpcServiceEntry => ({
  name,
  port,
  metricsPort,
  adapterMetricsPort: metricsPort + 100,
  grpcService,
});

/** The gRPC services in port order (50051-50055, metrics 9051-9055, adapters' metrics 9151-9155). */
export const GRPC_SERVICES: readonly GrpcServiceEntry[] = [
  service("machine-driver", 50051, 9051, "metalstack.machinedriver.v1.MachineDriver"),
  service("ccm", 50052, 9052, "metalstack.ccm.v1.CloudProvider"),
  {
    ...service("firewall", 50053, 9053, "metalstack.firewall.v1.Firewall"),
    // A developer's machine is no firewall: render and answer, never touch the host's nftables.
    localEnv: { FIREWALL_MODE: "render-only" },
    // One cluster plays shoot and seed; the local Firewall is looked for in namespace firewall.
    localAdapterEnv: async ({ kubeconfig }) => ({
      SHOOT_KUBECONFIG: kubeconfig,
      SEED_KUBECONFIG: kubeconfig,
      SEED_NAMESPACE: "firewall",
      FIREWALL_NAME: "local-firewall",
    }),
  },
  service("ignition", 50054, 9054, "metalstack.ignition.v1.IgnitionRenderer"),
  {
    ...service("extension", 50055, 9055, "metalstack.extension.v1.Admission"),
    localPorts: { webhooks: EXTENSION_WEBHOOK_PORT },
    // The seed webhooks over HTTPS with a certificate of the stack's own CA (127.0.0.1); the garden ones
    // need Gardener's API, which a local cluster does not serve.
    localAdapterEnv: async ({ workDir, offset }) => {
      const { makeCerts } = await import("@metal-kube/e2e");
      const dir = join(workDir, "extension-tls");
      mkdirSync(dir, { recursive: true });
      const certs = await makeCerts(dir);
      return {
        TLS_CERT_FILE: certs.servingCert,
        TLS_KEY_FILE: certs.servingKey,
        WEBHOOK_LISTEN: `127.0.0.1:${EXTENSION_WEBHOOK_PORT + offset}`,
        WEBHOOKS: "seed",
      };
    },
  },
];

/** A service's entry point: `src/main.ts` by convention. Undefined while the service does not exist yet. */
export function serviceEntry(name: string): string | undefined {
  const file = join(ROOT, "services", name, "src", "main.ts");
  return existsSync(file) ? file : undefined;
}

/** A service's adapter process: `src/adapter/main.ts`. Undefined when its adapter is not ours to run. */
export function adapterEntry(name: string): string | undefined {
  const file = join(ROOT, "services", name, "src", "adapter", "main.ts");
  return existsSync(file) ? file : undefined;
}

// The machine-controller-manager's provider sidecars in a shoot's control plane: our MCM bridge (MCM's
// machine controller whose driver calls ours over gRPC) and our machine-driver, sharing a unix socket on
// an in-memory emptyDir. They are the `machine-controller` and `machine-driver` containers of
// deploy/machine-driver/30-deployment.yaml, with Gardener's sidecar flags for a shoot namespace;
// test/mcm-sidecars.test.ts compares the two, so change both together.
import type { JsonObject } from "../gardener/json.js";
import type { Container } from "./pod-spec.js";

/** Where the driver listens and the bridge dials (ADR 0010: the pod's shared /run/metal-kube). */
export const SOCKET_DIR = "/run/metal-kube";
export const MACHINE_DRIVER_ENDPOINT = `unix://${SOCKET_DIR}/machine-driver.sock`;
export const SOCKET_VOLUME = "metal-kube";
export const OUTBOX_VOLUME = "machine-driver-outbox";
export const OUTBOX_DIR = "/var/lib/machine-driver";

/** Gardener's name for a provider sidecar: machine-controller-manager-<provider>. */
export const BRIDGE_CONTAINER = "machine-controller-manager-provider-metal";
export const DRIVER_CONTAINER = "machine-driver";

export const DEFAULT_BRIDGE_IMAGE = "ghcr.io/metal-kube/machine-controller-metal:latest";
export const DEFAULT_DRIVER_IMAGE = "ghcr.io/metal-kube/metal-kube:latest";
export const DEFAULT_DRIVER_NATS_URL = "nats://nats.metal-kube-system.svc:4222";

/** The generic token kubeconfig of the shoot, mounted into the MCM pod by the gardenlet. */
export const GENERIC_KUBECONFIG_VOLUME = "kubeconfig";
export const GENERIC_KUBECONFIG_DIR = "/var/run/secrets/gardener.cloud/shoot/generic-kubeconfig";

/** The reference's machine health timeout: a metal machine may take days to come back (7 days). */
export const MACHINE_HEALTH_TIMEOUT = "10080m";
export const PROVIDER_METRICS_PORT = 10259;

export interface SidecarOptions {
  bridgeImage: string;
  driverImage: string;
  /** NATS the driver publishes its events to. */
  natsUrl: string;
}

export const DEFAULT_SIDECAR_OPTIONS: SidecarOptions = {
  bridgeImage: DEFAULT_BRIDGE_IMAGE,
  driverImage: DEFAULT_DRIVER_IMAGE,
  natsUrl: DEFAULT_DRIVER_NATS_URL,
};

const restricted = (): JsonObject => ({
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
});

/** The bridge: Gardener's ProviderSidecarContainer flags, our bridge binary and its driver settings. */
export function bridgeContainer(namespace: string, o: SidecarOptions): Container {
  return {
    name: BRIDGE_CONTAINER,
    image: o.bridgeImage,
    imagePullPolicy: "IfNotPresent",
    command: ["/machine-controller-metal"],
    args: [
      "--control-kubeconfig=inClusterConfig",
      "--machine-creation-timeout=20m",
      "--machine-drain-timeout=2h",
      `--machine-health-timeout=${MACHINE_HEALTH_TIMEOUT}`,
      "--machine-safety-apiserver-statuscheck-timeout=30s",
      "--machine-safety-apiserver-statuscheck-period=1m",
      "--machine-safety-orphan-vms-period=30m",
      "--concurrent-syncs=30",
      `--namespace=${namespace}`,
      `--port=${PROVIDER_METRICS_PORT}`,
      `--target-kubeconfig=${GENERIC_KUBECONFIG_DIR}/kubeconfig`,
      "--v=3",
    ],
    env: [
      { name: "MACHINE_DRIVER_ENDPOINT", value: MACHINE_DRIVER_ENDPOINT },
      { name: "MACHINE_DRIVER_CALL_TIMEOUT", value: "60s" },
      { name: "MACHINE_DRIVER_INITIALIZE_TIMEOUT", value: "6m" },
    ],
    ports: [{ name: "providermetrics", containerPort: PROVIDER_METRICS_PORT, protocol: "TCP" }],
    livenessProbe: {
      httpGet: { path: "/healthz", port: PROVIDER_METRICS_PORT, scheme: "HTTP" },
      initialDelaySeconds: 30,
      timeoutSeconds: 5,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    },
    resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "512Mi" } },
    securityContext: restricted(),
    volumeMounts: [
      { name: GENERIC_KUBECONFIG_VOLUME, mountPath: GENERIC_KUBECONFIG_DIR, readOnly: true },
      { name: SOCKET_VOLUME, mountPath: SOCKET_DIR },
    ],
  };
}

/** The driver exactly as deploy/machine-driver runs it. */
export function driverContainer(o: SidecarOptions): Container {
  return {
    name: DRIVER_CONTAINER,
    image: o.driverImage,
    command: ["node", "dist/machine-driver.mjs"],
    env: [
      // Heap and malloc settings as deploy/machine-driver explains them.
      { name: "NODE_OPTIONS", value: "--max-old-space-size=160 --max-semi-space-size=8" },
      { name: "MALLOC_MMAP_THRESHOLD_", value: "1048576" },
      { name: "GRPC_LISTEN", value: MACHINE_DRIVER_ENDPOINT },
      { name: "METRICS_LISTEN", value: "0.0.0.0:9051" },
      { name: "INITIALIZE_WAIT", value: "5m" },
      { name: "INITIALIZE_POLL_INTERVAL", value: "5s" },
      { name: "METAL_API_TIMEOUT", value: "30s" },
      { name: "METAL_API_HMAC_AUTH_TYPE", value: "Metal-Edit" },
      { name: "NATS_URL", value: o.natsUrl },
      { name: "EVENTS_OUTBOX_DIR", value: `${OUTBOX_DIR}/outbox` },
    ],
    ports: [{ name: "driver-metrics", containerPort: 9051 }],
    readinessProbe: { httpGet: { path: "/readyz", port: "driver-metrics" } },
    livenessProbe: { httpGet: { path: "/healthz", port: "driver-metrics" } },
    resources: { requests: { cpu: "50m", memory: "96Mi" }, limits: { memory: "256Mi" } },
    securityContext: restricted(),
    volumeMounts: [
      { name: SOCKET_VOLUME, mountPath: SOCKET_DIR },
      { name: OUTBOX_VOLUME, mountPath: OUTBOX_DIR },
    ],
  };
}

export function sidecarVolumes(): Array<JsonObject & { name: string }> {
  return [
    { name: SOCKET_VOLUME, emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
    { name: OUTBOX_VOLUME, emptyDir: {} },
  ];
}

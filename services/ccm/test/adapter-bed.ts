// The ccm adapter's end-to-end fixtures, shared by every LOADBALANCER mode's e2e test: the test bed's
// kube-apiserver with the mode's upstream CRDs and deploy/ccm applied, the metal-api emulator, the
// adapter's ServiceAccount kubeconfig (exactly deploy/ccm's RBAC), the ccm pod as deployed (service and
// adapter, two processes joined by a unix socket), and Node/Service helpers.

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { type CrdName, startTestbed, type Testbed } from "@metal-kube/e2e";
import {
  createKubeClient,
  isNotFound,
  type KubeClient,
  type KubeObject,
  type ResourceClient,
} from "@metal-kube/kube";
import { TAG_SERVICE } from "@metal-kube/metal-stack";
import { makeTempDir, waitFor } from "@metal-kube/testing";
import {
  NODES,
  type NodeObject,
  SERVICES,
  type ServiceObject,
  UNINITIALIZED_TAINT,
} from "../src/adapter/resources.js";
import {
  ADMIN_KEY,
  type AdapterProcess,
  type CcmProcess,
  CLUSTER,
  ccmEnv,
  type MetalBed,
  PROJECT,
  SSH_KEY,
  startAdapter,
  startCcm,
  startMetal,
} from "./harness.js";

const DEPLOY = join(import.meta.dirname, "../../../deploy/ccm");
/** deploy/ccm's manifests in apply order. */
export const deployFiles = readdirSync(DEPLOY)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => join(DEPLOY, f));

export interface AdapterBedOptions {
  crds: readonly CrdName[];
  /** NATS with JetStream in the bed (for the ccm's events). */
  nats: boolean;
  /** Namespace created for the test's Services. */
  namespace: string;
  machines?: number;
  racks?: number;
}

export interface AdapterBed {
  bed: Testbed;
  metal: MetalBed;
  /** Admin client, for the test's own reads and writes. */
  kube: KubeClient;
  nodes: ResourceClient<NodeObject>;
  services: ResourceClient<ServiceObject>;
  /** Kubeconfig of the ServiceAccount kube-system/metal-kube-ccm bound by deploy/ccm. */
  saKubeconfig: string;
  namespace: string;
  close(): Promise<void>;
}

export async function startAdapterBed(o: AdapterBedOptions): Promise<AdapterBed> {
  const [bed, metal] = await Promise.all([
    startTestbed({ crds: o.crds, nats: o.nats }),
    startMetal({ machines: o.machines ?? 16, racks: o.racks ?? 2 }),
  ]);
  await bed.apply(deployFiles);
  const saKubeconfig = await bed.serviceAccountKubeconfig({
    namespace: "kube-system",
    name: "metal-kube-ccm",
    manifests: deployFiles,
  });
  const kube = createKubeClient({ kubeconfigPath: bed.kubeconfigPath });
  await bed.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: o.namespace } });
  return {
    bed,
    metal,
    kube,
    nodes: kube.resource<NodeObject>(NODES),
    services: kube.resource<ServiceObject>(SERVICES),
    saKubeconfig,
    namespace: o.namespace,
    async close() {
      await kube.close();
      await metal.close();
      await bed.stop();
    },
  };
}

/** The ccm service's environment against the bed: admin HMAC (machine updates), events when NATS runs. */
export function serviceEnv(ab: AdapterBed, env: Record<string, string> = {}): Record<string, string> {
  return ccmEnv(ab.metal.url, {
    // metal-api's machine update (cluster tag, SSH key) needs the admin role.
    METAL_API_HMAC: ADMIN_KEY,
    METAL_API_HMAC_AUTH_TYPE: "Metal-Admin",
    METAL_SSH_PUBLICKEY: SSH_KEY,
    INSTANCE_CACHE_TTL: "500ms",
    LOG_LEVEL: "info",
    ...(ab.bed.natsUrl ? { EVENTS_ENABLED: "true", NATS_URL: ab.bed.natsUrl } : { EVENTS_ENABLED: "false" }),
    ...env,
  });
}

/** The adapter's environment against the bed: deploy/ccm's ServiceAccount, short timings. */
export function adapterEnv(ab: AdapterBed, env: Record<string, string> = {}): Record<string, string> {
  return {
    KUBECONFIG: ab.saKubeconfig,
    LEADER_ELECTION_NAMESPACE: "kube-system",
    LEADER_ELECTION_LEASE_DURATION: "3s",
    HOUSEKEEPING_INTERVAL: "2s",
    NODE_MONITOR_PERIOD: "300ms",
    LOADBALANCER_CONFIG_DEBOUNCE: "100ms",
    LOG_LEVEL: "info",
    ...env,
  };
}

/** One ccm pod as deploy/ccm runs it: the service on a unix socket, the adapter dialling it. */
export interface CcmPod {
  service: CcmProcess;
  adapter: AdapterProcess;
  /** `unix:///.../ccm.sock`. */
  address: string;
  /** A new adapter container against the same service (after the old one died). */
  restartAdapter(env?: Record<string, string>): Promise<AdapterProcess>;
  /** Both processes, adapter first (it hands its Lease back), as the pod's termination does. */
  stop(): Promise<void>;
}

export async function startCcmPod(
  ab: AdapterBed,
  o: { service?: Record<string, string>; adapter?: Record<string, string> } = {},
): Promise<CcmPod> {
  const dir = makeTempDir("ccm-pod-");
  const address = `unix://${join(dir.path, "ccm.sock")}`;
  const service = await startCcm(serviceEnv(ab, { GRPC_LISTEN: address, ...o.service }));
  const launch = (env: Record<string, string> = {}) =>
    startAdapter(adapterEnv(ab, { CCM_ADDRESS: address, ...o.adapter, ...env }));
  let adapter: AdapterProcess;
  try {
    adapter = await launch();
  } catch (err) {
    await service.stop();
    dir.remove();
    throw err;
  }
  const pod: CcmPod = {
    service,
    adapter,
    address,
    async restartAdapter(env) {
      pod.adapter = await launch(env);
      return pod.adapter;
    },
    async stop() {
      await pod.adapter.stop();
      await service.stop();
      dir.remove();
    },
  };
  return pod;
}

/** A node as the kubelet registers it with --cloud-provider=external. */
export async function registerNode(nodes: ResourceClient<NodeObject>, name: string, ready = "True") {
  await nodes.create({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name } },
    spec: { taints: [{ key: UNINITIALIZED_TAINT, value: "true", effect: "NoSchedule" }] },
  } as NodeObject);
  await nodes.mergePatch(
    { name },
    { status: { conditions: [{ type: "Ready", status: ready, reason: "KubeletReady", message: "e2e" }] } },
    { subresource: "status" },
  );
}

/** Waits until the node controller removed the uninitialized taint; returns the node then. */
export function waitInitialized(nodes: ResourceClient<NodeObject>, name: string, timeoutMs = 30_000) {
  return waitFor(
    `${name} initialized`,
    async () => {
      const n = await nodes.get({ name });
      return (n.spec?.taints ?? []).some((x) => x.key === UNINITIALIZED_TAINT) ? undefined : n;
    },
    { timeoutMs },
  );
}

/** A Service of type LoadBalancer (one TCP port); `over.metadata`/`over.spec` are merged in. */
export function lbServiceObject(
  namespace: string,
  name: string,
  over: { metadata?: object; spec?: object } = {},
): ServiceObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, ...(over.metadata ?? {}) },
    spec: {
      type: "LoadBalancer",
      ports: [{ name: "http", port: 80, protocol: "TCP" }],
      ...(over.spec ?? {}),
    },
  } as ServiceObject;
}

export const ingressOf = (s: ServiceObject | undefined) =>
  (s?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? "");

export async function getOrUndefined<T extends KubeObject>(
  c: ResourceClient<T>,
  ref: { name: string; namespace?: string },
): Promise<T | undefined> {
  try {
    return await c.get(ref);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** `<service tag>=<cluster>/`: the prefix of every IP tag naming a Service of the test cluster. */
export const SERVICE_TAG_PREFIX = `${TAG_SERVICE}=${CLUSTER}/`;

/** The project's IPs held by any Service of the test cluster, as metal-api has them. */
export async function serviceIps(metal: MetalBed) {
  return (await metal.edit.ip.find({ projectid: PROJECT })).filter((ip) =>
    (ip.tags ?? []).some((t) => t.startsWith(SERVICE_TAG_PREFIX)),
  );
}

/** Of `ips`, those tagged for the Service `namespace/name`. */
export const taggedFor = (ips: Awaited<ReturnType<typeof serviceIps>>, namespace: string, name: string) =>
  ips.filter((ip) => ip.tags?.includes(`${SERVICE_TAG_PREFIX}${namespace}/${name}`));

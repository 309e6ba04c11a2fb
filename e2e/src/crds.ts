import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ApiextensionsV1Api,
  type KubeConfig,
  loadAllYaml,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { waitFor } from "@metal-kube/testing";
import { goModuleDir } from "./go-builder.js";
import { loadKubeConfig } from "./kubeconfig.js";
import { MODULES } from "./versions.js";

interface CrdSource {
  /** Key of MODULES in versions.ts. */
  module: keyof typeof MODULES;
  /** YAML file inside the module. */
  file: string;
}

/**
 * Where each upstream CRD lives inside its pinned Go module. The YAML is read from the module cache,
 * never copied into the repo, so a version bump in versions.ts brings the matching schema.
 */
export const CRD_SOURCES = {
  // machine.sapcloud.io (machine-controller-manager)
  machines: { module: "machineControllerManager", file: "kubernetes/crds/machine.sapcloud.io_machines.yaml" },
  machineclasses: {
    module: "machineControllerManager",
    file: "kubernetes/crds/machine.sapcloud.io_machineclasses.yaml",
  },
  machinesets: {
    module: "machineControllerManager",
    file: "kubernetes/crds/machine.sapcloud.io_machinesets.yaml",
  },
  machinedeployments: {
    module: "machineControllerManager",
    file: "kubernetes/crds/machine.sapcloud.io_machinedeployments.yaml",
  },
  // extensions.gardener.cloud
  clusters: {
    module: "gardener",
    file: "pkg/component/extensions/crds/assets/crd-extensions.gardener.cloud_clusters.yaml",
  },
  infrastructures: {
    module: "gardener",
    file: "pkg/component/extensions/crds/assets/crd-extensions.gardener.cloud_infrastructures.yaml",
  },
  workers: {
    module: "gardener",
    file: "pkg/component/extensions/crds/assets/crd-extensions.gardener.cloud_workers.yaml",
  },
  operatingsystemconfigs: {
    module: "gardener",
    file: "pkg/component/extensions/crds/assets/crd-extensions.gardener.cloud_operatingsystemconfigs.yaml",
  },
  controlplanes: {
    module: "gardener",
    file: "pkg/component/extensions/crds/assets/crd-extensions.gardener.cloud_controlplanes.yaml",
  },
  // metallb.io
  ipaddresspools: { module: "metallb", file: "config/crd/bases/metallb.io_ipaddresspools.yaml" },
  bgppeers: { module: "metallb", file: "config/crd/bases/metallb.io_bgppeers.yaml" },
  bgpadvertisements: { module: "metallb", file: "config/crd/bases/metallb.io_bgpadvertisements.yaml" },
  // cilium.io: the LB IP pools and BGP objects of the ccm's LOADBALANCER=cilium and cilium-bgp-v2 modes
  ciliumloadbalancerippools: {
    module: "cilium",
    file: "pkg/k8s/apis/cilium.io/client/crds/v2/ciliumloadbalancerippools.yaml",
  },
  ciliumbgppeeringpolicies: {
    module: "ciliumPeeringPolicy",
    file: "pkg/k8s/apis/cilium.io/client/crds/v2alpha1/ciliumbgppeeringpolicies.yaml",
  },
  ciliumbgpclusterconfigs: {
    module: "cilium",
    file: "pkg/k8s/apis/cilium.io/client/crds/v2/ciliumbgpclusterconfigs.yaml",
  },
  ciliumbgppeerconfigs: {
    module: "cilium",
    file: "pkg/k8s/apis/cilium.io/client/crds/v2/ciliumbgppeerconfigs.yaml",
  },
  ciliumbgpadvertisements: {
    module: "cilium",
    file: "pkg/k8s/apis/cilium.io/client/crds/v2/ciliumbgpadvertisements.yaml",
  },
  // metal-stack.io (firewall-controller) and firewall.metal-stack.io (firewall-controller-manager)
  clusterwidenetworkpolicies: {
    module: "firewallController",
    file: "config/crd/bases/metal-stack.io_clusterwidenetworkpolicies.yaml",
  },
  firewallmonitors: {
    module: "firewallControllerManager",
    file: "config/crds/firewall.metal-stack.io_firewallmonitors.yaml",
  },
  // The seed side: the Firewall the agent on the machine reads its spec from.
  firewalls: {
    module: "firewallControllerManager",
    file: "config/crds/firewall.metal-stack.io_firewalls.yaml",
  },
} as const satisfies Record<string, CrdSource>;

export type CrdName = keyof typeof CRD_SOURCES;
export const ALL_CRDS = Object.keys(CRD_SOURCES) as CrdName[];

/** Named groups, for callers that want "all of MCM" rather than a list. */
export const CRD_GROUPS = {
  mcm: ["machines", "machineclasses", "machinesets", "machinedeployments"],
  gardener: ["clusters", "infrastructures", "workers", "operatingsystemconfigs", "controlplanes"],
  metallb: ["ipaddresspools", "bgppeers", "bgpadvertisements"],
  cilium: ["ciliumloadbalancerippools", "ciliumbgppeeringpolicies"],
  ciliumBgpV2: [
    "ciliumloadbalancerippools",
    "ciliumbgpclusterconfigs",
    "ciliumbgppeerconfigs",
    "ciliumbgpadvertisements",
  ],
  metalStack: ["clusterwidenetworkpolicies", "firewallmonitors", "firewalls"],
} as const satisfies Record<string, readonly CrdName[]>;

export const DEFAULT_CRD_TIMEOUT_MS = 30_000;

/** Reads one CRD document from its module (downloading the module when absent). */
export async function loadCrd(name: CrdName): Promise<V1CustomResourceDefinition> {
  const src: CrdSource = CRD_SOURCES[name];
  if (!src) throw new Error(`unknown CRD "${name}"; known: ${ALL_CRDS.join(", ")}`);
  const { module, version } = MODULES[src.module];
  const dir = await goModuleDir(module, version, src.file);
  const path = join(dir, src.file);
  const docs = (loadAllYaml(readFileSync(path, "utf8")) as V1CustomResourceDefinition[]).filter(
    (d) => d?.kind === "CustomResourceDefinition",
  );
  if (docs.length !== 1)
    throw new Error(`${module}@${version}/${src.file}: expected one CRD, found ${docs.length}`);
  return docs[0] as V1CustomResourceDefinition;
}

const established = (crd: V1CustomResourceDefinition) =>
  crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false;

/** Waits until the CRD named `name` (plural.group) is Established: its resources can be created. */
export function waitEstablished(
  kc: KubeConfig,
  name: string,
  timeoutMs = DEFAULT_CRD_TIMEOUT_MS,
): Promise<boolean> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  return waitFor(
    `CRD ${name} Established`,
    async () => established(await api.readCustomResourceDefinition({ name })),
    { timeoutMs, intervalMs: 100 },
  );
}

/** Module directories of every CRD source, downloading them when absent (for ensureTestBinaries). */
export async function downloadCrdModules(): Promise<string[]> {
  const keys = [...new Set(Object.values(CRD_SOURCES).map((s: CrdSource) => s.module))];
  const dirs: string[] = [];
  // One at a time: the go command locks the module cache anyway, and the output stays readable.
  for (const k of keys) {
    const { module, version } = MODULES[k];
    const files = Object.values(CRD_SOURCES)
      .filter((s: CrdSource) => s.module === k)
      .map((s: CrdSource) => s.file);
    const dir = await goModuleDir(module, version, files[0]);
    for (const f of files)
      if (!existsSync(join(dir, f))) throw new Error(`${module}@${version} has no ${f}: fix CRD_SOURCES`);
    dirs.push(dir);
  }
  return dirs;
}

/**
 * Creates (or updates) the named upstream CRDs and waits until each is Established, so a caller can
 * create custom resources right after. Returns the CRD names (plural.group).
 */
export async function installCrds(
  kubeconfig: string | KubeConfig,
  which: readonly CrdName[],
  { timeoutMs = DEFAULT_CRD_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<string[]> {
  const kc = typeof kubeconfig === "string" ? loadKubeConfig(kubeconfig) : kubeconfig;
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const crds = await Promise.all([...new Set(which)].map((n) => loadCrd(n)));
  await Promise.all(
    crds.map(async (crd) => {
      const name = crd.metadata?.name as string;
      try {
        await api.createCustomResourceDefinition({ body: crd });
      } catch (err) {
        if ((err as { code?: number }).code !== 409)
          throw new Error(`creating CRD ${name}: ${String(err)}`, { cause: err });
        const current = await api.readCustomResourceDefinition({ name });
        crd.metadata = { ...crd.metadata, resourceVersion: current.metadata?.resourceVersion };
        await api.replaceCustomResourceDefinition({ name, body: crd });
      }
    }),
  );
  const names = crds.map((c) => c.metadata?.name as string);
  await Promise.all(names.map((name) => waitEstablished(kc, name, timeoutMs)));
  return names;
}

// End to end: the real machine-controller-manager (its controller-manager binary and our bridge, both
// built from MCM's Go module) against the test bed's kube-apiserver, the driver as a process on a unix
// socket, and the metal-api emulator. MCM and the bridge run with exactly the RBAC of deploy/machine-driver.

import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Node } from "@kubernetes/client-node";
import type { MachineResponse } from "@metal-kube/metal-api";
import { freePort, type ManagedProcess, spawnProcess, waitFor } from "@metal-kube/testing";
import test from "ava";
import { ensureBridgeBinary } from "../../services/machine-driver/test/bridge-binary.js";
import {
  CLUSTER,
  type DriverProcess,
  EDIT_KEY,
  type MetalBed,
  PROJECT,
  smallInventory,
  startDriver,
  startMetal,
} from "../../services/machine-driver/test/driver-harness.js";
import { buildGoBinary, CRD_GROUPS, MODULES, startTestbed, type Testbed } from "../src/index.js";

const NS = "metal-kube-system";
const DEPLOY = join(import.meta.dirname, "../../deploy/machine-driver");
const CLUSTER_TAG = `cluster.metal-stack.io/id=${CLUSTER}`;
const GROUP = { group: "machine.sapcloud.io", version: "v1alpha1", namespace: NS };

interface McmMachine {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { providerID?: string };
  status?: {
    currentStatus?: { phase?: string };
    lastOperation?: { description?: string; errorCode?: string; state?: string; type?: string };
  };
}

let bed: Testbed;
let metal: MetalBed;
let driver: DriverProcess;
let mcm: ManagedProcess;
let bridge: ManagedProcess;
let kc: KubeConfig;
let stopKubelets = () => {};

async function startMcm(kubeconfig: string): Promise<void> {
  const [mcmBin, bridgeBin] = [
    (
      await buildGoBinary({
        name: "machine-controller-manager",
        module: MODULES.machineControllerManager.module,
        version: MODULES.machineControllerManager.version,
        pkg: "github.com/gardener/machine-controller-manager/cmd/machine-controller-manager",
      })
    ).path,
    await ensureBridgeBinary(),
  ];
  const common = [
    `--control-kubeconfig=${kubeconfig}`,
    `--target-kubeconfig=${kubeconfig}`,
    `--namespace=${NS}`,
    "--v=3",
  ];
  mcm = spawnProcess(mcmBin, [...common, `--port=${await freePort()}`, "--safety-up=2", "--safety-down=1"], {
    keepOutput: 4 << 20,
  });
  bridge = spawnProcess(
    bridgeBin,
    [
      ...common,
      `--port=${await freePort()}`,
      "--machine-creation-timeout=5m",
      "--machine-health-timeout=5m",
      "--machine-drain-timeout=30s",
      "--machine-safety-orphan-vms-period=10s",
      "--concurrent-syncs=20",
    ],
    {
      env: {
        ...process.env,
        MACHINE_DRIVER_ENDPOINT: driver.address,
        MACHINE_DRIVER_CALL_TIMEOUT: "20s",
        MACHINE_DRIVER_INITIALIZE_TIMEOUT: "30s",
      },
      keepOutput: 8 << 20,
    },
  );
}

test.before(async (t) => {
  // Cold Go builds (the bridge, MCM's controller-manager: minutes each on 2 cores) happen here.
  t.timeout(25 * 60_000);
  await ensureBridgeBinary((l) => t.log(l));
  bed = await startTestbed({ crds: CRD_GROUPS.mcm, nats: false });
  kc = bed.kubeConfig();
  metal = await startMetal({
    inventory: smallInventory({ partitions: 2, racks: 4, perRack: 4 }),
    stepMs: 50,
  });
  driver = await startDriver({ INITIALIZE_WAIT: "10s" });
  const manifests = ["00-namespace.yaml", "10-serviceaccount.yaml", "20-rbac.yaml"].map((f) =>
    join(DEPLOY, f),
  );
  const kubeconfig = await bed.serviceAccountKubeconfig({
    namespace: NS,
    name: "machine-controller-manager",
    manifests,
  });
  await startMcm(kubeconfig);
  stopKubelets = runKubelets();
});

test.after.always(async () => {
  stopKubelets();
  await Promise.allSettled([bridge?.stop(), mcm?.stop(), driver?.proc.stop()]);
  await metal?.close();
  await bed?.stop();
});

test.afterEach.always((t) => {
  if (!t.passed) {
    t.log(`bridge:\n${bridge?.output().slice(-6000)}`);
    t.log(`mcm:\n${mcm?.output().slice(-3000)}`);
    t.log(`driver:\n${driver?.output().slice(-3000)}`);
  }
});

const custom = () => kc.makeApiClient(CustomObjectsApi);
const core = () => kc.makeApiClient(CoreV1Api);

async function machines(): Promise<McmMachine[]> {
  const list = (await custom().listNamespacedCustomObject({ ...GROUP, plural: "machines" })) as {
    items: McmMachine[];
  };
  return list.items;
}

/** Machines allocated in the emulator to the test cluster. */
async function allocated(): Promise<MachineResponse[]> {
  return metal.edit.machine.find({ allocation_project: PROJECT, tags: [CLUSTER_TAG] });
}

/**
 * What kubelets would do: register a Node named after the Machine's node label with its providerID
 * and report Ready. Machines being deleted get no node.
 */
function runKubelets(): () => void {
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      try {
        const nodes = new Set(((await core().listNode()).items ?? []).map((n) => n.metadata?.name));
        for (const m of await machines()) {
          const name = m.metadata.labels?.node;
          if (!name || !m.spec.providerID || m.metadata.deletionTimestamp || nodes.has(name)) continue;
          const node: V1Node = {
            apiVersion: "v1",
            kind: "Node",
            metadata: { name, labels: { "kubernetes.io/hostname": name } },
            spec: { providerID: m.spec.providerID },
          };
          const created = await core().createNode({ body: node });
          const now = new Date();
          created.status = {
            conditions: [
              {
                type: "Ready",
                status: "True",
                reason: "KubeletReady",
                message: "kubelet is posting ready status",
                lastHeartbeatTime: now,
                lastTransitionTime: now,
              },
            ],
          };
          await core().replaceNodeStatus({ name, body: created });
        }
      } catch {
        // The next round retries (a Machine deleted meanwhile, a conflict).
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  void loop();
  return () => {
    stopped = true;
  };
}

function machineClass(name: string, partition: string, network: string) {
  return [
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `${name}-secret`, namespace: NS },
      type: "Opaque",
      stringData: {
        userData: '{"ignition":{"version":"3.3.0"},"token":"<<BOOTSTRAP_TOKEN>>","name":"<<MACHINE_NAME>>"}',
        metalAPIURL: metal.url,
        metalAPIHMac: EDIT_KEY,
      },
    },
    {
      apiVersion: "machine.sapcloud.io/v1alpha1",
      kind: "MachineClass",
      metadata: { name, namespace: NS },
      provider: "metal",
      secretRef: { name: `${name}-secret`, namespace: NS },
      credentialsSecretRef: { name: `${name}-secret`, namespace: NS },
      providerSpec: {
        partition,
        size: "c1-large-x86",
        image: "ubuntu-24.04",
        project: PROJECT,
        network,
        tags: [CLUSTER_TAG, "kubernetes.io/role=node", `worker.gardener.cloud/pool=${name}`],
        sshKeys: [
          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmmRyX0eIGkLWSMW3k0RbOAyShNNJVpqBWdLcAYG6Nj e2e@example",
        ],
      },
    },
  ];
}

function machineDeployment(name: string, className: string, replicas: number) {
  return {
    apiVersion: "machine.sapcloud.io/v1alpha1",
    kind: "MachineDeployment",
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      minReadySeconds: 0,
      selector: { matchLabels: { pool: name } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { pool: name } },
        spec: { class: { kind: "MachineClass", name: className } },
      },
    },
  };
}

async function running(pool: string): Promise<McmMachine[]> {
  return (await machines()).filter(
    (m) => m.metadata.labels?.pool === pool && m.status?.currentStatus?.phase === "Running",
  );
}

test.serial(
  "MachineDeployment of 3: allocated with tags and placement, providerIDs, Running with nodes",
  async (t) => {
    t.timeout(5 * 60_000);
    await bed.apply([
      ...machineClass("pool-a", "p1", metal.networkId),
      machineDeployment("pool-a", "pool-a", 3),
    ]);
    await waitFor("3 Machines Running", async () => (await running("pool-a")).length === 3, {
      timeoutMs: 180_000,
    });
    const ms = await machines();
    const vms = await allocated();
    t.is(vms.length, 3);
    t.is(new Set(vms.map((v) => v.rackid)).size, 3, "placement tags spread the pool over racks");
    for (const vm of vms) {
      t.true(vm.tags.includes(CLUSTER_TAG));
      t.true(vm.tags.includes("worker.gardener.cloud/pool=pool-a"));
      const m = ms.find((x) => x.metadata.name === vm.allocation?.name);
      t.truthy(m, `a Machine for ${vm.allocation?.name}`);
      t.is(m?.spec.providerID, `metal://p1/${vm.id}`);
      t.is(m?.metadata.labels?.node, vm.allocation?.hostname);
      // MCM replaced the placeholders before the call.
      const userData = Buffer.from(vm.allocation?.user_data ?? "", "base64").toString();
      t.false(userData.includes("<<BOOTSTRAP_TOKEN>>"));
      t.true(userData.includes(`"name":"${vm.allocation?.name}"`));
    }
  },
);

test.serial(
  "scale to 1 frees two; an orphan with the cluster tag is collected; no live machine is freed",
  async (t) => {
    t.timeout(5 * 60_000);
    await bed.apply(machineDeployment("pool-a", "pool-a", 1));
    await waitFor("2 machines freed", async () => (await allocated()).length === 1, { timeoutMs: 180_000 });
    await waitFor("1 Machine left", async () => (await machines()).length === 1, { timeoutMs: 60_000 });
    const live = (await allocated())[0]!;
    const [m] = await machines();
    t.is(m?.spec.providerID, `metal://p1/${live.id}`);

    const orphan = await metal.edit.machine.allocate({
      name: "orphan-1",
      hostname: "orphan-1",
      projectid: PROJECT,
      partitionid: "p1",
      sizeid: "c1-large-x86",
      imageid: "ubuntu-24.04",
      ssh_pub_keys: [],
      networks: [{ networkid: metal.networkId, autoacquire: true }],
      tags: [CLUSTER_TAG],
    });
    await waitFor(
      "the orphan collector frees the orphan",
      async () => (await metal.edit.machine.get(orphan.id)).allocation == null,
      { timeoutMs: 90_000 },
    );
    const still = await metal.edit.machine.get(live.id);
    t.is(still.allocation?.name, live.allocation?.name, "the live machine is still allocated");
    t.is((await running("pool-a")).length, 1);
  },
);

test.serial(
  "kill -9 the driver during a scale-up to 10: exactly 10 allocated, none leaked or doubled",
  async (t) => {
    t.timeout(8 * 60_000);
    // Slow metal-api down so that allocations are in flight when the driver dies, and kill it as soon as
    // metal-api has committed the first one (read from the in-process emulator, not through the slowed
    // API): MCM's creates run in parallel, so waiting for providerIDs on the apiserver could see all ten.
    metal.emulator.faults.latencyMs = 1_000;
    await bed.apply(machineDeployment("pool-a", "pool-a", 10));
    await waitFor(
      "the scale-up is under way",
      () =>
        [...metal.emulator.store.machines.values()].some((m) => m.allocation?.name?.startsWith("pool-a-")),
      { timeoutMs: 120_000, intervalMs: 5 },
    );
    await driver.proc.kill();
    const saved = (await machines()).filter((m) => m.spec.providerID).length;
    t.log(`killed with ${saved} of 10 Machines carrying their providerID`);
    await new Promise((r) => setTimeout(r, 2_000));
    metal.emulator.faults.latencyMs = 0;
    driver = await startDriver({ INITIALIZE_WAIT: "10s" }, { socket: driver.socket });
    await waitFor("10 Machines Running", async () => (await running("pool-a")).length === 10, {
      timeoutMs: 300_000,
    });
    // Let the orphan collector run at least once more over a settled state.
    await new Promise((r) => setTimeout(r, 12_000));
    const vms = await allocated();
    const ms = await machines();
    t.true(saved < 10, `killed mid-way (${saved} of 10 Machines had their providerID)`);
    t.is(vms.length, 10);
    const sorted = (xs: Array<string | undefined>) => [...xs].sort();
    t.deepEqual(sorted(vms.map((v) => v.allocation?.name)), sorted(ms.map((m) => m.metadata.name)));
    t.deepEqual(sorted(vms.map((v) => `metal://p1/${v.id}`)), sorted(ms.map((m) => m.spec.providerID)));
  },
);

test.serial("partition exhausted: the Machine's lastOperation shows RESOURCE_EXHAUSTED", async (t) => {
  t.timeout(5 * 60_000);
  const net = await metal.edit.network.allocate({ partitionid: "p2", projectid: PROJECT, name: "nodes-p2" });
  // Someone else takes all but one machine of p2.
  const other = await metal.edit.network.allocate({ partitionid: "p2", projectid: "other", name: "other" });
  for (let i = 0; i < 15; i++) {
    await metal.edit.machine.allocate({
      name: `other-${i}`,
      projectid: "other",
      partitionid: "p2",
      sizeid: "c1-large-x86",
      imageid: "ubuntu-24.04",
      ssh_pub_keys: [],
      networks: [{ networkid: other.id, autoacquire: true }],
    });
  }
  await bed.apply([...machineClass("pool-b", "p2", net.id), machineDeployment("pool-b", "pool-b", 2)]);
  await waitFor(
    "a pool-b Machine reports ResourceExhausted",
    async () =>
      (await machines()).some(
        (m) =>
          m.metadata.labels?.pool === "pool-b" &&
          m.status?.lastOperation?.errorCode === "ResourceExhausted" &&
          /no machine available/i.test(m.status.lastOperation.description ?? ""),
      ),
    { timeoutMs: 120_000 },
  );
  await waitFor("the other pool-b Machine runs", async () => (await running("pool-b")).length === 1, {
    timeoutMs: 120_000,
  });
  t.pass();
});

test.serial(
  "a crash-looping machine surfaces at once: Uninitialized in lastOperation, CrashLoopBackOff",
  async (t) => {
    t.timeout(5 * 60_000);
    // metal-api flags every pool-c machine as crash-looping as soon as it is allocated.
    let flagging = true;
    const flagger = (async () => {
      while (flagging) {
        for (const rec of metal.emulator.store.machines.values())
          if (rec.allocation?.name?.startsWith("pool-c-") && !rec.crash_loop)
            await metal.emulator.updateMachine(rec.id, (m) => {
              m.crash_loop = true;
            });
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    t.teardown(async () => {
      flagging = false;
      await flagger;
    });
    await bed.apply([
      ...machineClass("pool-c", "p1", metal.networkId),
      machineDeployment("pool-c", "pool-c", 1),
    ]);
    await waitFor(
      "the pool-c Machine reports Uninitialized",
      async () =>
        (await machines()).some(
          (m) =>
            m.metadata.labels?.pool === "pool-c" &&
            m.status?.lastOperation?.errorCode === "Uninitialized" &&
            /provisioning crash loop/.test(m.status.lastOperation.description ?? "") &&
            m.status.currentStatus?.phase === "CrashLoopBackOff",
        ),
      { timeoutMs: 120_000 },
    );
    const [m] = (await machines()).filter((x) => x.metadata.labels?.pool === "pool-c");
    t.regex(m?.spec.providerID ?? "", /^metal:\/\/p1\//, "the Machine carries its providerID");
  },
);

test.serial("deleting the MachineDeployments frees every machine", async (t) => {
  t.timeout(5 * 60_000);
  for (const name of ["pool-a", "pool-b", "pool-c"])
    await custom().deleteNamespacedCustomObject({ ...GROUP, plural: "machinedeployments", name });
  await waitFor("every machine freed", async () => (await allocated()).length === 0, { timeoutMs: 240_000 });
  await waitFor("every Machine gone", async () => (await machines()).length === 0, { timeoutMs: 120_000 });
  t.pass();
});

test.serial(
  "deploy/machine-driver applies to the apiserver: three containers sharing the driver socket",
  async (t) => {
    await bed.apply(join(DEPLOY, "30-deployment.yaml"));
    const { AppsV1Api } = await import("@kubernetes/client-node");
    const d = await kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: "machine-controller-manager", namespace: NS });
    const containers = d.spec?.template.spec?.containers ?? [];
    t.deepEqual(
      containers.map((c) => c.name),
      ["machine-controller-manager", "machine-controller", "machine-driver"],
    );
    const socketMount = (name: string) =>
      containers.find((c) => c.name === name)?.volumeMounts?.find((v) => v.name === "sockets")?.mountPath;
    t.is(socketMount("machine-controller"), "/run/metal-kube");
    t.is(socketMount("machine-driver"), "/run/metal-kube");
    const env = (name: string, key: string) =>
      containers.find((c) => c.name === name)?.env?.find((e) => e.name === key)?.value;
    t.is(env("machine-controller", "MACHINE_DRIVER_ENDPOINT"), "unix:///run/metal-kube/machine-driver.sock");
    t.is(env("machine-driver", "GRPC_LISTEN"), "unix:///run/metal-kube/machine-driver.sock");
    t.is(d.spec?.template.spec?.serviceAccountName, "machine-controller-manager");
  },
);

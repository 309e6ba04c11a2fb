// `npm run bench ccm-adapter`: the ccm as deployed, the service's bundle as its own process on a unix
// socket and the adapter (in this process) calling it over gRPC, against the test bed's kube-apiserver
// (MetalLB CRDs) and the metal-api emulator, both on loopback:
//   - 500 nodes registered with the uninitialized taint, adapter started: time until every node has
//     its providerID, addresses and labels and lost the taint (target: at most 10 s);
//   - 1,000 LoadBalancer Services created while no ccm runs, adapter started: time until every Service
//     has its IP in status and the MetalLB IPAddressPool lists all 1,000 (target: at most 20 s);
//   - then, with 500 nodes and 1,000 Services in the caches and nothing to change, one housekeeping run
//     and one config sync (render 1,000 IPs x 500 nodes, compare): what the gRPC hop costs where the
//     adapter moves the most data.
import { join } from "node:path";
import { createKubeClient, type KubeObject } from "@metal-kube/kube";
import { createLogger } from "@metal-kube/logging";
import { makeTempDir } from "@metal-kube/testing";
import { startTestbed } from "../e2e/src/index.js";
import { serviceNodeArgs } from "../scripts/build.js";
import { startCcmAdapter } from "../services/ccm/src/adapter/adapter.js";
import { createCcmClient } from "../services/ccm/src/adapter/ccm-client.js";
import {
  NODES,
  type NodeObject,
  SERVICES,
  type ServiceObject,
} from "../services/ccm/src/adapter/resources.js";
import { ccmEnv, startMetal } from "../services/ccm/test/harness.js";
import { cpuMicros, rssKiB, startServerProcess } from "./fixtures/server-process.js";

const NODE_COUNT = Number(process.env.CCM_BENCH_NODES ?? 500);
const SERVICE_COUNT = Number(process.env.CCM_BENCH_SERVICES ?? 1000);
const NS = "bench";
const logger = createLogger({ name: "bench-ccm", level: process.env.LOG_LEVEL ?? "warn" });

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const started = performance.now();
const [bed, metal] = await Promise.all([
  startTestbed({
    crds: ["ipaddresspools", "bgppeers", "bgpadvertisements"],
    nats: false,
    // 1,000 Services need more ClusterIPs than the bed's /24.
    apiserverArgs: ["--service-cluster-ip-range=10.96.0.0/16"],
  }),
  startMetal({ machines: NODE_COUNT + 20, racks: 20 }),
]);
const kube = createKubeClient({ kubeconfigPath: bed.kubeconfigPath, logger });
const nodes = kube.resource<NodeObject>(NODES);
const services = kube.resource<ServiceObject>(SERVICES);
const socketDir = makeTempDir("bench-ccm-");
const address = `unix://${join(socketDir.path, "ccm.sock")}`;
const service = await startServerProcess(
  serviceNodeArgs("ccm"),
  {
    // A cache that outlives the run: the figures compare the gRPC hop, not when a 1 min TTL runs out.
    ...ccmEnv(metal.url, { LOG_LEVEL: "warn", INSTANCE_CACHE_TTL: "10m" }),
    EVENTS_OUTBOX_DIR: join(socketDir.path, "outbox"),
  },
  { listen: address },
);
const ccm = createCcmClient({ address });
const adapterOptions = {
  ccm,
  kubeconfigPath: bed.kubeconfigPath,
  leaderElect: false,
  leaderElectionNamespace: "kube-system",
  housekeepingIntervalMs: 60_000,
  nodeMonitorPeriodMs: 5_000,
  concurrency: 50,
  configDebounceMs: 300,
  logger,
};
try {
  await bed.apply([
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "metallb-system" } },
  ]);
  const names = Array.from({ length: NODE_COUNT }, (_, i) => `bench-node-${i}`);
  await pool(names, 16, (n) =>
    metal.allocateMachine(n).then(() =>
      nodes.create({
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: n, labels: { "kubernetes.io/hostname": n } },
        spec: {
          taints: [
            { key: "node.cloudprovider.kubernetes.io/uninitialized", value: "true", effect: "NoSchedule" },
          ],
        },
      } as NodeObject),
    ),
  );
  console.log(
    `setup: test bed, ${NODE_COUNT} machines and nodes in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  let t0 = performance.now();
  let adapter = await startCcmAdapter(adapterOptions);
  await until(
    "nodes initialized",
    async () => {
      const list = await nodes.list();
      // Only our taint: the apiserver's admission adds node.kubernetes.io/not-ready to kubelet-less nodes.
      return list.items.every(
        (n) =>
          n.spec?.providerID &&
          !(n.spec.taints ?? []).some((x) => x.key === "node.cloudprovider.kubernetes.io/uninitialized") &&
          n.status?.addresses?.length,
      );
    },
    120_000,
  );
  const nodeSeconds = (performance.now() - t0) / 1000;
  console.log(
    `${NODE_COUNT} nodes initialized (providerID, addresses, labels, taint removed): ${nodeSeconds.toFixed(2)} s (target 10 s)`,
  );
  await adapter.stop();

  await pool(
    Array.from({ length: SERVICE_COUNT }, (_, i) => `svc-${i}`),
    32,
    (n) =>
      services.create({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: n, namespace: NS },
        spec: {
          type: "LoadBalancer",
          ports: [{ port: 80, protocol: "TCP" }],
          allocateLoadBalancerNodePorts: false,
        },
      } as ServiceObject),
  );
  t0 = performance.now();
  adapter = await startCcmAdapter(adapterOptions);
  await until(
    "Services reconciled",
    async () => {
      const list = await services.list({ namespace: NS });
      return list.items.every((s) => (s.status?.loadBalancer?.ingress ?? []).length === 1);
    },
    120_000,
  );
  const svcSeconds = (performance.now() - t0) / 1000;
  const pools = kube.resource({
    group: "metallb.io",
    version: "v1beta1",
    plural: "ipaddresspools",
    kind: "IPAddressPool",
  });
  await until(
    "IPAddressPool complete",
    async () => {
      const p = (await pools.list({ namespace: "metallb-system" })).items as (KubeObject & {
        spec: { addresses: string[] };
      })[];
      return p.reduce((n, x) => n + x.spec.addresses.length, 0) === SERVICE_COUNT;
    },
    60_000,
  );
  const poolSeconds = (performance.now() - t0) / 1000;
  console.log(
    `${SERVICE_COUNT} LoadBalancer Services reconciled from scratch (finalizer, IP, status): ${svcSeconds.toFixed(2)} s; MetalLB pool complete: ${poolSeconds.toFixed(2)} s (target 20 s); config syncs: ${adapter.config.syncs}`,
  );
  // What one housekeeping run and one config sync take with 500 nodes and 1,000 Services in the caches
  // (nothing to change: the steady state every interval and every debounced change pays). CPU is this
  // process (adapter, emulator) plus the service's: wall time on a shared host is mostly waiting.
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system + cpuMicros(service.pid)) / 1000;
  };
  const median = async (fn: () => Promise<unknown>, runs = 7) => {
    const ms: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const c = cpuMs();
      await fn();
      ms.push(performance.now() - t);
      cpu.push(cpuMs() - c);
    }
    const mid = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(runs / 2)]!;
    return { p50: mid(ms), max: Math.max(...ms), cpu: mid(cpu) };
  };
  await new Promise((r) => setTimeout(r, 2000));
  // Housekeeping re-queues every node; let those reconciles finish before the next run starts.
  const hk = await median(async () => {
    await adapter.housekeep();
    await adapter.nodeQueue.drain();
  });
  const sync = await median(() => adapter.config.sync());
  console.log(
    `housekeeping run (${NODE_COUNT} nodes, ${SERVICE_COUNT} IPs; with the re-queued node reconciles): p50 ${hk.p50.toFixed(1)} ms, max ${hk.max.toFixed(1)} ms, CPU p50 ${hk.cpu.toFixed(0)} ms`,
  );
  console.log(
    `config sync (render ${SERVICE_COUNT} IPs x ${NODE_COUNT} nodes, compare): p50 ${sync.p50.toFixed(1)} ms, max ${sync.max.toFixed(1)} ms, CPU p50 ${sync.cpu.toFixed(0)} ms`,
  );
  console.log(
    `RSS: this process (adapter, emulator, test clients) ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB, ccm service process ${(rssKiB(service.pid) / 1024).toFixed(0)} MiB`,
  );
  await adapter.stop();
  if (nodeSeconds > 10 || poolSeconds > 20) process.exitCode = 1;
} finally {
  ccm.close();
  await service.stop();
  socketDir.remove();
  await kube.close();
  await metal.close();
  await bed.stop();
}

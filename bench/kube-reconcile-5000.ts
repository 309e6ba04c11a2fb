/**
 * 5,000 Infrastructure objects created against the local kube-apiserver (the e2e test bed); the clock
 * runs from the first create until every one is reconciled by the generic reconciler (finalizer added,
 * lastOperation Succeeded, observedGeneration written). Target: within 30 s.
 * Run: node --import tsx bench/kube-reconcile-5000.ts   (N, CONCURRENCY, CREATORS to vary)
 */
import { startTestbed } from "@metal-kube/e2e";
import { createController, createKubeClient, type ResourceRef, sleep } from "@metal-kube/kube";
import { createLogger } from "@metal-kube/logging";

const N = Number(process.env.N ?? 5000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
const CREATORS = Number(process.env.CREATORS ?? 16);
// 0 = Gardener's shape (Processing written before the actuator runs); >0 writes Processing only for a
// reconcile still running after that long, saving one write per fast reconcile: the setting for adapters
// whose actuators are quick, and the one measured here. PROCESSING_DELAY_MS=0 shows Gardener's shape.
const PROCESSING_DELAY_MS = Number(process.env.PROCESSING_DELAY_MS ?? 250);
const TARGET_S = 30;
const NS = "bench";
const INFRA: ResourceRef = {
  group: "extensions.gardener.cloud",
  version: "v1alpha1",
  plural: "infrastructures",
  kind: "Infrastructure",
};
const logger = createLogger({ name: "bench", level: "warn" });

const bed = await startTestbed({ crds: ["infrastructures"], nats: false, watchCache: true });
let ok = false;
try {
  const admin = createKubeClient({ kubeconfigPath: bed.kubeconfigPath, logger });
  await admin
    .resource({ group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false })
    .create({ metadata: { name: NS } });
  const adapter = createKubeClient({ kubeconfigPath: bed.kubeconfigPath, logger });
  const controller = createController({
    kube: adapter,
    resource: INFRA,
    namespace: NS,
    finalizer: "extensions.gardener.cloud/bench",
    concurrency: CONCURRENCY,
    processingDelayMs: PROCESSING_DELAY_MS,
    events: false,
    logger,
    actuator: { reconcile: async () => undefined, delete: async () => {} },
  });
  // Latency per request kind of the adapter's own calls, to tell apiserver time from kit time.
  const stats = new Map<string, { n: number; ms: number; max: number }>();
  const request = adapter.transport.request.bind(adapter.transport);
  adapter.transport.request = async <T>(req: Parameters<typeof request>[0]): Promise<T> => {
    const t = performance.now();
    try {
      return await request<T>(req);
    } finally {
      const k = `${req.target.verb} ${req.target.resource}`;
      const e = stats.get(k) ?? { n: 0, ms: 0, max: 0 };
      const d = performance.now() - t;
      e.n++;
      e.ms += d;
      e.max = Math.max(e.max, d);
      stats.set(k, e);
    }
  };
  await controller.start();
  // A separate watcher counts objects whose status says Succeeded for generation 1.
  const watcher = createKubeClient({ kubeconfigPath: bed.kubeconfigPath, logger });
  const inf = watcher.informers.informerFor(INFRA, { namespace: NS });
  const done = new Set<string>();
  const check = (o: {
    metadata: { name?: string };
    status?: { lastOperation?: { state?: string }; observedGeneration?: number };
  }) => {
    if (o.status?.lastOperation?.state === "Succeeded" && o.status.observedGeneration === 1)
      done.add(o.metadata.name ?? "");
  };
  inf.addHandler({ add: check, update: (_, o) => check(o) });
  inf.start();
  await inf.waitForSync();

  const client = admin.resource(INFRA);
  const t0 = performance.now();
  let next = 0;
  let createdAt = 0;
  await Promise.all(
    Array.from({ length: CREATORS }, async () => {
      while (next < N) {
        const i = next++;
        await client.create({
          apiVersion: "extensions.gardener.cloud/v1alpha1",
          kind: "Infrastructure",
          metadata: { name: `infra-${i}`, namespace: NS },
          spec: { type: "metal", region: "local", secretRef: { name: "cloudprovider", namespace: NS } },
        });
      }
    }),
  );
  createdAt = performance.now() - t0;
  while (done.size < N && performance.now() - t0 < 120_000) await sleep(20);
  const total = (performance.now() - t0) / 1000;
  ok = done.size === N && total <= TARGET_S;
  console.log(
    `objects: ${N}, reconcile concurrency ${CONCURRENCY}, ${CREATORS} parallel creators, processingDelayMs ${PROCESSING_DELAY_MS}`,
  );
  console.log(
    `all created after: ${(createdAt / 1000).toFixed(1)} s (${Math.round(N / (createdAt / 1000))} creates/s)`,
  );
  console.log(`reconcile lag after the last create: ${(total - createdAt / 1000).toFixed(1)} s`);
  console.log(
    `all reconciled after: ${total.toFixed(1)} s (${done.size}/${N}; ${Math.round(done.size / total)} objects/s) target <= ${TARGET_S} s ${ok ? "OK" : "FAIL"}`,
  );
  for (const [k, e] of stats) {
    console.log(
      `  adapter ${k}: ${e.n} requests, mean ${(e.ms / e.n).toFixed(1)} ms, max ${e.max.toFixed(0)} ms`,
    );
  }
  await controller.stop();
  await adapter.close();
  await watcher.close();
  await admin.close();
} finally {
  await bed.stop();
}
process.exit(ok ? 0 : 1);

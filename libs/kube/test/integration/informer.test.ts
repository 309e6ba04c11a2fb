import { startTestbed, type Testbed } from "@metal-kube/e2e";
import { createLogger } from "@metal-kube/logging";
import test from "ava";
import { Registry } from "prom-client";
import type { Informer } from "../../src/informer.js";
import { createKubeClient, type KubeClient, loadKubeConfig } from "../../src/kube-client.js";
import { createKubeMetrics } from "../../src/metrics.js";
import type { ResourceRef } from "../../src/resource.js";
import { sleep } from "../../src/sleep.js";
import type { KubeObject } from "../../src/types.js";

// Against the real kube-apiserver + etcd: the informer survives an apiserver crash and sees every change
// made meanwhile (through a second apiserver on the same etcd), and recovers from 410 after compaction.
const CONFIGMAPS: ResourceRef = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" };
const logger = createLogger({ name: "test", level: process.env.LOG_LEVEL ?? "error" });
let bed: Testbed;

test.before(async () => {
  bed = await startTestbed({ nats: false });
});
test.after.always(async () => {
  await bed?.stop();
});

async function until(what: string, check: () => boolean, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

async function namespace(kube: KubeClient, name: string) {
  await kube
    .resource({ group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false })
    .create({ metadata: { name } });
}

const cm = (name: string, ns: string, data: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: ns },
  data,
});

function record(inf: Informer) {
  const seen: string[] = [];
  inf.addHandler({
    add: (o) => seen.push(`add ${o.metadata.name} ${JSON.stringify(o.data)}`),
    update: (_, o) => seen.push(`update ${o.metadata.name} ${JSON.stringify(o.data)}`),
    delete: (o, unknown) => seen.push(`delete ${o.metadata.name}${unknown ? " (final state unknown)" : ""}`),
  });
  return seen;
}

test.serial(
  "the informer survives an apiserver crash and sees every change made during the outage",
  async (t) => {
    const registry = new Registry();
    const metrics = createKubeMetrics({ registry });
    // Default settings (may relist after repeated failures) next to a strict one that must resume its watch.
    const kube = createKubeClient({ kubeconfigPath: bed.kubeconfigPath, logger });
    t.teardown(() => kube.close());
    const ns = "restart";
    await namespace(kube, ns);
    const admin = kube.resource(CONFIGMAPS);
    await admin.create(cm("old", ns, { v: "1" }));
    await admin.create(cm("doomed", ns, { v: "1" }));
    // relistAfterFailures high: the informer must get through by resuming its watch, not by relisting.
    const inf = kube.informers.informerFor(CONFIGMAPS, { namespace: ns });
    const strictKube = createKubeClient({
      kubeconfigPath: bed.kubeconfigPath,
      logger,
      metrics,
      informerDefaults: { relistAfterFailures: 1000, retryMaxMs: 500 },
    });
    t.teardown(() => strictKube.close());
    const strict = strictKube.informers.informerFor(CONFIGMAPS, { namespace: ns });
    const seen = record(strict);
    strict.start();
    inf.start();
    await strict.waitForSync(10_000);
    t.deepEqual(seen.sort(), ['add doomed {"v":"1"}', 'add old {"v":"1"}']);
    seen.length = 0;

    const second = await bed.addApiserver();
    try {
      await bed.stopApiserver({ kill: true });
      const other = createKubeClient({ kubeconfigPath: second.kubeconfigPath, logger }).resource(CONFIGMAPS);
      await other.create(cm("born-during-outage", ns, { v: "1" }));
      await other.mergePatch({ name: "old", namespace: ns }, { data: { v: "2" } });
      await other.mergePatch({ name: "old", namespace: ns }, { data: { v: "3" } });
      await other.delete({ name: "doomed", namespace: ns });
      await sleep(500);
      t.deepEqual(seen, [], "nothing arrives while the apiserver is down");
      await bed.startApiserver();
    } finally {
      await second.stop();
    }
    await until("the outage's changes", () => seen.length >= 4);
    t.deepEqual(seen, [
      'add born-during-outage {"v":"1"}',
      'update old {"v":"2"}',
      'update old {"v":"3"}',
      "delete doomed",
    ]);
    t.deepEqual(strict.store.keys().sort(), [`${ns}/born-during-outage`, `${ns}/old`]);
    // And it watches on afterwards.
    await admin.create(cm("after", ns, { v: "1" }));
    await until("after", () => strict.store.has(`${ns}/after`));
    const text = await registry.metrics();
    t.regex(
      text,
      /informer_relists_total\{resource="core\/v1\/configmaps"\} 1\n/,
      "the initial list only: no relist",
    );
    t.regex(text, /informer_watch_restarts_total\{resource="core\/v1\/configmaps",reason="error"\} \d+/);
    await until(
      "the default informer too",
      () => inf.store.has(`${ns}/after`) && !inf.store.has(`${ns}/doomed`),
    );
    await kube.close();
    await strictKube.close();
  },
);

test.serial("the informer recovers from 410 Gone after etcd compaction by relisting", async (t) => {
  const registry = new Registry();
  const metrics = createKubeMetrics({ registry });
  const kube = createKubeClient({
    kubeconfigPath: bed.kubeconfigPath,
    logger,
    metrics,
    informerDefaults: { relistAfterFailures: 1000, retryMaxMs: 500 },
  });
  t.teardown(() => kube.close());
  const ns = "compaction";
  await namespace(kube, ns);
  const admin = kube.resource(CONFIGMAPS);
  await admin.create(cm("keep", ns, { v: "1" }));
  await admin.create(cm("lost", ns, { v: "1" }));
  const inf = kube.informers.informerFor(CONFIGMAPS, { namespace: ns, labelSelector: "" });
  const seen = record(inf);
  inf.start();
  await inf.waitForSync(10_000);
  seen.length = 0;
  const rvBefore = Number(inf.resourceVersion);

  const second = await bed.addApiserver();
  try {
    await bed.stopApiserver({ kill: true });
    const other = createKubeClient({ kubeconfigPath: second.kubeconfigPath, logger }).resource(CONFIGMAPS);
    await other.delete({ name: "lost", namespace: ns });
    await other.mergePatch({ name: "keep", namespace: ns }, { data: { v: "2" } });
    await other.create(cm("new", ns, { v: "1" }));
    const rev = await bed.compactEtcd();
    t.true(rev > rvBefore, "compacted past the informer's resourceVersion");
    await bed.startApiserver();
  } finally {
    await second.stop();
  }
  await until("relist", () => seen.length >= 3);
  t.deepEqual(seen.sort(), [
    'add new {"v":"1"}',
    "delete lost (final state unknown)",
    'update keep {"v":"2"}',
  ]);
  const text = await registry.metrics();
  t.regex(text, /informer_watch_restarts_total\{resource="core\/v1\/configmaps",reason="expired"\} [1-9]/);
  t.regex(text, /informer_relists_total\{resource="core\/v1\/configmaps"\} 2\n/);
  await admin.create(cm("after", ns, { v: "1" }));
  await until("after", () => inf.store.has(`${ns}/after`));
  await kube.close();
});

test.serial("label and field selectors narrow what the informer sees", async (t) => {
  const kube = createKubeClient({ kubeConfig: loadKubeConfig(bed.kubeconfigPath), logger });
  t.teardown(() => kube.close());
  const ns = "selectors";
  await namespace(kube, ns);
  const admin = kube.resource(CONFIGMAPS);
  await admin.create({ ...cm("a", ns, {}), metadata: { name: "a", namespace: ns, labels: { role: "x" } } });
  await admin.create({ ...cm("b", ns, {}), metadata: { name: "b", namespace: ns, labels: { role: "y" } } });
  const byLabel = kube.informers.informerFor(CONFIGMAPS, { namespace: ns, labelSelector: "role=x" });
  const byField = kube.informers.informerFor(CONFIGMAPS, {
    fieldSelector: `metadata.namespace=${ns},metadata.name=b`,
  });
  kube.informers.start();
  await kube.informers.waitForSync(10_000);
  t.deepEqual(byLabel.store.keys(), [`${ns}/a`]);
  t.deepEqual(byField.store.keys(), [`${ns}/b`]);
  await admin.mergePatch({ name: "b", namespace: ns }, { metadata: { labels: { role: "x" } } });
  await until("b gets the label", () => byLabel.store.has(`${ns}/b`));
  await admin.mergePatch({ name: "a", namespace: ns }, { metadata: { labels: { role: "z" } } });
  await until("a loses the label", () => !byLabel.store.has(`${ns}/a`));
  await kube.close();
});

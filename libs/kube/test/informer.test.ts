import { createLogger } from "@metal-kube/logging";
import test from "ava";
import { Registry } from "prom-client";
import { createInformer, type Informer } from "../src/informer.js";
import { createInformerFactory } from "../src/informer-factory.js";
import { createKubeMetrics } from "../src/metrics.js";
import type { ResourceRef } from "../src/resource.js";
import { sleep } from "../src/sleep.js";
import type { KubeObject } from "../src/types.js";
import { createFakeApi } from "./helpers/fake-api.js";

const demos: ResourceRef = { group: "demo.metal-kube.io", version: "v1", plural: "demos", kind: "Demo" };
const BASE = "/apis/demo.metal-kube.io/v1/demos";
const quiet = { retryBaseMs: 5, retryMaxMs: 20, logger: createLogger({ name: "test", level: "silent" }) };

const demo = (name: string, spec: Record<string, unknown> = {}, ns = "ns"): KubeObject => ({
  apiVersion: "demo.metal-kube.io/v1",
  kind: "Demo",
  metadata: { name, namespace: ns },
  spec,
});

async function until(what: string, check: () => boolean, timeoutMs = 2000) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

// Stopped after all tests even when an assertion failed midway, so no watch keeps the worker alive.
const running: Informer[] = [];
test.after.always(async () => {
  await Promise.all(running.map((i) => i.stop()));
});

function recorder(inf: Informer) {
  running.push(inf);
  const seen: string[] = [];
  inf.addHandler({
    add: (o) => seen.push(`add ${o.metadata.name}`),
    update: (_, o) => seen.push(`update ${o.metadata.name} ${JSON.stringify(o.spec)}`),
    delete: (o, unknown) => seen.push(`delete ${o.metadata.name}${unknown ? " (unknown)" : ""}`),
  });
  return seen;
}

test("lists, then delivers watch events to handlers and the cache", async (t) => {
  const api = createFakeApi();
  api.put(BASE, demo("a"));
  const inf = createInformer({ transport: api.transport, resource: demos, ...quiet });
  const seen = recorder(inf);
  inf.start();
  await inf.waitForSync(1000);
  t.deepEqual(seen, ["add a"]);
  t.is(inf.store.get("ns/a")?.kind, "Demo", "list items get apiVersion/kind");
  api.put(BASE, demo("a", { x: 1 }));
  api.put(BASE, demo("b"));
  api.remove(BASE, "ns/a");
  await until("three events", () => seen.length === 4);
  t.deepEqual(seen, ["add a", 'update a {"x":1}', "add b", "delete a"]);
  t.deepEqual(inf.store.keys(), ["ns/b"]);
  await inf.stop();
});

test("a broken watch resumes from its resourceVersion and replays what happened meanwhile, without relisting", async (t) => {
  const api = createFakeApi();
  const inf = createInformer({ transport: api.transport, resource: demos, ...quiet });
  const seen = recorder(inf);
  inf.start();
  await inf.waitForSync(1000);
  await until("watch open", () => api.openWatches === 1);
  api.put(BASE, demo("before"));
  await until("event", () => seen.length === 1);
  api.failNext((r) => r.path.startsWith(BASE), 503, 2);
  api.breakWatches();
  api.put(BASE, demo("during"));
  api.put(BASE, demo("before", { changed: true }));
  api.remove(BASE, "ns/during");
  await until("replay", () => seen.length === 4);
  t.deepEqual(seen, ["add before", "add during", 'update before {"changed":true}', "delete during"]);
  t.is(api.log.filter((l) => l.startsWith("GET ")).length, 1, "no relist");
  t.is(inf.resourceVersion, String(api.rv));
  await inf.stop();
});

test("410 Gone relists and reconciles the cache, reporting missed deletions as final-state-unknown", async (t) => {
  const registry = new Registry();
  const metrics = createKubeMetrics({ registry });
  const api = createFakeApi();
  api.put(BASE, demo("keep"));
  api.put(BASE, demo("gone"));
  const inf = createInformer({ transport: api.transport, resource: demos, metrics, ...quiet });
  const seen = recorder(inf);
  inf.start();
  await inf.waitForSync(1000);
  await until("watch open", () => api.openWatches === 1);
  // Cut the watch and keep it down while things change and history is compacted away.
  api.failNext((r) => r.path.startsWith(BASE), 503, 1);
  api.breakWatches();
  api.remove(BASE, "ns/gone");
  api.put(BASE, demo("keep", { v: 2 }));
  api.put(BASE, demo("new"));
  api.compact();
  await until("relist", () => seen.length === 5);
  t.deepEqual(seen.slice(2).sort(), ["add new", "delete gone (unknown)", 'update keep {"v":2}']);
  t.deepEqual(inf.store.keys().sort(), ["ns/keep", "ns/new"]);
  const text = await registry.metrics();
  t.regex(
    text,
    /informer_watch_restarts_total\{resource="demo.metal-kube.io\/v1\/demos",reason="expired"\} 1/,
  );
  t.regex(text, /informer_relists_total\{resource="demo.metal-kube.io\/v1\/demos"\} 2/);
  // And it keeps watching afterwards.
  api.put(BASE, demo("after"));
  await until("after", () => seen.includes("add after"));
  await inf.stop();
});

test("persistent watch errors back off and fall back to a relist", async (t) => {
  const api = createFakeApi();
  const inf = createInformer({ transport: api.transport, resource: demos, relistAfterFailures: 3, ...quiet });
  inf.start();
  await inf.waitForSync(1000);
  api.failNext((r) => r.path.startsWith(BASE) && r.query?.watch === 1, 500, 3);
  api.breakWatches();
  await until("relist", () => api.log.filter((l) => l.startsWith("GET ")).length === 2);
  t.truthy(inf.lastError === undefined || /500/.test(inf.lastError.message));
  await until("watching again", () => api.openWatches === 1);
  await inf.stop();
  t.is(api.openWatches, 0, "stop closes the watch");
});

test("a forbidden list makes waitForSync fail at once, naming verb and resource", async (t) => {
  const api = createFakeApi();
  api.failNext(() => true, 403, 1000);
  const inf = createInformer({ transport: api.transport, resource: demos, namespace: "ns", ...quiet });
  inf.start();
  const started = Date.now();
  const err = await t.throwsAsync(inf.waitForSync(10_000));
  t.true(Date.now() - started < 2000);
  t.regex(err!.message, /cannot list resource "demos" in group "demo.metal-kube.io" in namespace "ns"/);
  await inf.stop();
});

test("a namespace-scoped informer sees only its namespace", async (t) => {
  const api = createFakeApi();
  api.put(BASE, demo("a", {}, "one"));
  api.put(BASE, demo("b", {}, "two"));
  const inf = createInformer({ transport: api.transport, resource: demos, namespace: "one", ...quiet });
  inf.start();
  await inf.waitForSync(1000);
  api.put(BASE, demo("c", {}, "two"));
  api.put(BASE, demo("d", {}, "one"));
  await until("d", () => inf.store.has("one/d"));
  t.deepEqual(inf.store.keys().sort(), ["one/a", "one/d"]);
  await inf.stop();
});

test("indexers follow updates and deletions", async (t) => {
  const api = createFakeApi();
  api.put(BASE, demo("a", { pool: "x" }));
  api.put(BASE, demo("b", { pool: "x" }));
  const inf = createInformer({
    transport: api.transport,
    resource: demos,
    indexers: { pool: (o) => [String(o.spec.pool)] },
    ...quiet,
  });
  inf.start();
  await inf.waitForSync(1000);
  t.deepEqual(
    inf.store
      .byIndex("pool", "x")
      .map((o) => o.metadata.name)
      .sort(),
    ["a", "b"],
  );
  api.put(BASE, demo("a", { pool: "y" }));
  api.remove(BASE, "ns/b");
  await until("moved", () => inf.store.byIndex("pool", "y").length === 1 && !inf.store.has("ns/b"));
  t.deepEqual(inf.store.byIndex("pool", "x"), []);
  t.deepEqual(
    inf.store.byIndex("namespace", "ns").map((o) => o.metadata.name),
    ["a"],
  );
  t.throws(() => inf.store.byIndex("nope", "x"), { message: /no index named "nope"/ });
  await inf.stop();
});

test("the factory shares one informer per resource and selection", async (t) => {
  const api = createFakeApi();
  const f = createInformerFactory({ transport: api.transport, defaults: quiet });
  const a = f.informerFor(demos, { namespace: "ns" });
  const b = f.informerFor(demos, { namespace: "ns", indexers: { name: (o) => [o.metadata.name ?? ""] } });
  const c = f.informerFor(demos, { namespace: "other" });
  t.is(a, b);
  t.not(a, c);
  f.start();
  await f.waitForSync(1000);
  t.is(api.log.filter((l) => l.startsWith("GET ")).length, 2, "one list per distinct informer");
  const late = f.informerFor(demos, { labelSelector: "x=y" });
  await late.waitForSync(1000);
  await f.stop();
  t.pass();
});

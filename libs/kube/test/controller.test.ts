import { createLogger } from "@metal-kube/logging";
import test from "ava";
import { createController } from "../src/controller.js";
import { createInformerFactory } from "../src/informer-factory.js";
import type { KubeClient } from "../src/kube-client.js";
import { createLeaderElector } from "../src/leader-election.js";
import type { ResourceRef } from "../src/resource.js";
import { createResourceClient } from "../src/resource-client.js";
import { sleep } from "../src/sleep.js";
import type { KubeObject } from "../src/types.js";
import { createFakeApi } from "./helpers/fake-api.js";

const demos: ResourceRef = { group: "demo.metal-kube.io", version: "v1", plural: "demos", kind: "Demo" };
const BASE = "/apis/demo.metal-kube.io/v1/demos";
const logger = createLogger({ name: "test", level: "error" });

const cleanups: (() => Promise<unknown>)[] = [];
test.after.always(async () => {
  for (const c of cleanups) await c().catch(() => {});
});

function fakeKube(api: ReturnType<typeof createFakeApi>): KubeClient {
  const informers = createInformerFactory({
    transport: api.transport,
    logger,
    defaults: { retryBaseMs: 5, retryMaxMs: 20 },
  });
  cleanups.push(() => informers.stop());
  return {
    transport: api.transport,
    kubeConfig: undefined as never,
    informers,
    logger,
    metrics: undefined,
    resource: <T extends KubeObject>(ref: ResourceRef) => createResourceClient<T>(api.transport, ref),
    close: async () => {},
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const demo = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "demo.metal-kube.io/v1",
  kind: "Demo",
  metadata: { name, namespace: "ns" },
  spec,
});

test("events drive reconciles; the controller's own writes do not feed it; spec changes and deletions do", async (t) => {
  const api = createFakeApi();
  const kube = fakeKube(api);
  const runs: string[] = [];
  const c = createController({
    kube,
    resource: demos,
    finalizer: "demo.metal-kube.io/test",
    verifyPermissions: false,
    events: false,
    logger,
    actuator: {
      reconcile: async (o) => {
        runs.push(`reconcile ${o.metadata.name} g${o.metadata.generation}`);
        return undefined;
      },
      delete: async (o) => {
        runs.push(`delete ${o.metadata.name}`);
      },
    },
  });
  api.put(BASE, demo("a"));
  cleanups.push(() => c.stop());
  await c.start();
  await until("a reconciled", () => api.get(BASE, "ns/a")?.status?.lastOperation?.state === "Succeeded");
  await sleep(50);
  t.deepEqual(runs, ["reconcile a g1"], "finalizer and status writes trigger nothing");
  api.put(BASE, { ...api.get(BASE, "ns/a")!, spec: { v: 2 } });
  await until("a g2", () => api.get(BASE, "ns/a")?.status?.observedGeneration === 2);
  await createResourceClient(api.transport, demos).delete({ name: "a", namespace: "ns" });
  await until("a gone", () => api.get(BASE, "ns/a") === undefined);
  t.deepEqual(runs, ["reconcile a g1", "reconcile a g2", "delete a"]);
  await c.stop();
  await kube.informers.stop();
});

test("with a leader elector only the leader's queue runs", async (t) => {
  const api = createFakeApi();
  const timing = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 };
  const runs: string[] = [];
  const make = (id: string) => {
    const kube = fakeKube(api);
    const elector = createLeaderElector({
      transport: api.transport,
      namespace: "ns",
      name: "demo",
      identity: id,
      logger,
      ...timing,
    });
    const c = createController({
      kube,
      resource: demos,
      finalizer: "demo.metal-kube.io/test",
      verifyPermissions: false,
      events: false,
      status: "none",
      resyncPeriodMs: 50,
      leaderElector: elector,
      logger,
      actuator: {
        reconcile: async () => {
          runs.push(id);
          return undefined;
        },
        delete: async () => {},
      },
    });
    cleanups.push(
      () => c.stop(),
      () => elector.stop(),
    );
    return { kube, elector, c };
  };
  api.put(BASE, demo("a"));
  const one = make("one");
  await one.c.start();
  await until("one leads", () => one.elector.isLeader);
  const two = make("two");
  await two.c.start();
  await sleep(300);
  t.true(runs.length >= 3, "the leader resyncs");
  t.false(runs.includes("two"), "the standby never reconciles");
  await one.c.stop();
  await one.elector.stop();
  await until("two leads", () => two.elector.isLeader);
  const n = runs.length;
  await until("two reconciles", () => runs.slice(n).includes("two"));
  await two.c.stop();
  await two.elector.stop();
  await one.kube.informers.stop();
  await two.kube.informers.stop();
});

test("filter: foreign objects get no finalizer, no status and no reconcile", async (t) => {
  const api = createFakeApi();
  const kube = fakeKube(api);
  const runs: string[] = [];
  const c = createController({
    kube,
    resource: demos,
    finalizer: "demo.metal-kube.io/test",
    verifyPermissions: false,
    events: false,
    resyncPeriodMs: 30,
    filter: (o) => o.spec?.type === "metal",
    logger,
    actuator: {
      reconcile: async (o) => {
        runs.push(o.metadata.name ?? "");
        return undefined;
      },
      delete: async () => {},
    },
  });
  api.put(BASE, demo("mine", { type: "metal" }));
  api.put(BASE, demo("theirs", { type: "aws" }));
  cleanups.push(() => c.stop());
  await c.start();
  await until(
    "mine reconciled",
    () => api.get(BASE, "ns/mine")?.status?.lastOperation?.state === "Succeeded",
  );
  api.put(BASE, { ...api.get(BASE, "ns/theirs")!, spec: { type: "aws", v: 2 } });
  await sleep(100);
  t.false(runs.includes("theirs"));
  t.is(api.get(BASE, "ns/theirs")!.metadata.finalizers, undefined);
  t.is(api.get(BASE, "ns/theirs")!.status, undefined);
  await c.stop();
  await kube.informers.stop();
});

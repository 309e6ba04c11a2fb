import { createLogger } from "@metal-kube/logging";
import test from "ava";
import { Registry } from "prom-client";
import { createEventRecorder } from "../src/event-recorder.js";
import { createKubeMetrics } from "../src/metrics.js";
import { type Actuator, createReconciler, OPERATION_ANNOTATION } from "../src/reconciler.js";
import { RequeueAfterError } from "../src/requeue-after-error.js";
import type { ResourceRef } from "../src/resource.js";
import { createResourceClient } from "../src/resource-client.js";
import type { KubeRequest } from "../src/transport.js";
import type { KubeObject } from "../src/types.js";
import { createFakeApi } from "./helpers/fake-api.js";

const infras: ResourceRef = {
  group: "extensions.gardener.cloud",
  version: "v1alpha1",
  plural: "infrastructures",
  kind: "Infrastructure",
};
const BASE = "/apis/extensions.gardener.cloud/v1alpha1/infrastructures";
const FIN = "extensions.gardener.cloud/demo";

function setup(actuator: Partial<Actuator<KubeObject>> = {}, extra: Record<string, unknown> = {}) {
  const api = createFakeApi();
  const registry = new Registry();
  const metrics = createKubeMetrics({ registry });
  const client = createResourceClient(api.transport, infras);
  const logger = createLogger({ name: "test", level: "silent" });
  const events = createEventRecorder({ transport: api.transport, component: "test", logger });
  const calls: string[] = [];
  const reconciler = createReconciler({
    client,
    finalizer: FIN,
    events,
    metrics,
    logger,
    actuator: {
      reconcile: async (o) => {
        calls.push(`reconcile ${o.metadata.name}`);
        return undefined;
      },
      delete: async (o) => {
        calls.push(`delete ${o.metadata.name}`);
      },
      ...actuator,
    },
    ...extra,
  });
  const create = (name: string, meta: Record<string, unknown> = {}) =>
    api.put(BASE, {
      apiVersion: "extensions.gardener.cloud/v1alpha1",
      kind: "Infrastructure",
      metadata: { name, namespace: "shoot", ...meta },
      spec: { type: "metal", region: "r" },
    });
  const events$ = () => eventsOf(api);
  return { api, client, reconciler, calls, create, events, registry, events$ };
}

function eventsOf(api: ReturnType<typeof createFakeApi>) {
  const out: KubeObject[] = [];
  for (const l of api.log)
    if (l.startsWith("POST /api/v1/namespaces/shoot/events")) out.push({ metadata: {} });
  return out;
}

const live = () => new AbortController().signal;

test("gone = done: a missing object reconciles to nothing without a request", async (t) => {
  const { reconciler, api, calls } = setup();
  t.is(await reconciler.reconcile(undefined, live()), undefined);
  t.deepEqual(api.log, []);
  t.deepEqual(calls, []);
});

test("first reconcile: finalizer, Processing, actuator, Succeeded with observedGeneration, an Event", async (t) => {
  const s = setup();
  const obj = s.create("a");
  const seenStates: string[] = [];
  const orig = s.api.transport.request;
  s.api.transport.request = async <T>(req: KubeRequest): Promise<T> => {
    const res = await orig<T>(req);
    if (req.path.endsWith("/status")) {
      const st = (res as KubeObject).status;
      seenStates.push(`${st.lastOperation.type}/${st.lastOperation.state}`);
    }
    return res;
  };
  t.is(await s.reconciler.reconcile(obj, live()), undefined);
  await s.events.flush();
  const after = s.api.get(BASE, "shoot/a")!;
  t.deepEqual(after.metadata.finalizers, [FIN]);
  t.deepEqual(seenStates, ["Create/Processing", "Create/Succeeded"]);
  t.is(after.status.lastOperation.state, "Succeeded");
  t.is(after.status.lastOperation.progress, 100);
  t.is(after.status.observedGeneration, 1);
  t.deepEqual(s.calls, ["reconcile a"]);
  t.is(s.events$().length, 1, "CreateSucceeded event");
  // Second run: a Reconcile, already up to date, so no new Event.
  await s.reconciler.reconcile(s.api.get(BASE, "shoot/a")!, live());
  await s.events.flush();
  t.is(s.api.get(BASE, "shoot/a")!.status.lastOperation.type, "Reconcile");
  t.is(s.events$().length, 1);
});

test("actuator failure: status Error with lastError, Warning event, error re-thrown, metric counted", async (t) => {
  const s = setup({
    reconcile: async () => {
      throw new Error("metal-api said no");
    },
  });
  const obj = s.create("a");
  await t.throwsAsync(s.reconciler.reconcile(obj, live()), { message: "metal-api said no" });
  await s.events.flush();
  const st = s.api.get(BASE, "shoot/a")!.status;
  t.is(st.lastOperation.state, "Error");
  t.regex(st.lastError.description, /metal-api said no/);
  t.is(st.observedGeneration, 1);
  const eventBody = s.api.log.filter((l) => l.includes("/events"));
  t.is(eventBody.length, 1);
  t.regex(await s.registry.metrics(), /reconcile_errors_total\{kind="Infrastructure",operation="Create"\} 1/);
});

test("success after an error clears lastError", async (t) => {
  let fail = true;
  const s = setup({
    reconcile: async () => {
      if (fail) throw new Error("first");
      return { status: { providerStatus: { network: "n1" } } };
    },
  });
  await t.throwsAsync(s.reconciler.reconcile(s.create("a"), live()));
  fail = false;
  await s.reconciler.reconcile(s.api.get(BASE, "shoot/a")!, live());
  const st = s.api.get(BASE, "shoot/a")!.status;
  t.is(st.lastOperation.state, "Succeeded");
  t.is(st.lastError, undefined);
  t.deepEqual(st.providerStatus, { network: "n1" }, "actuator status merged into the success write");
});

test("RequeueAfterError is not a failure: Processing with the reason, requeue delay returned", async (t) => {
  const s = setup({
    reconcile: async () => {
      throw new RequeueAfterError(1500, "waiting for the node network");
    },
  });
  const res = await s.reconciler.reconcile(s.create("a"), live());
  t.deepEqual(res, { requeueAfterMs: 1500 });
  const st = s.api.get(BASE, "shoot/a")!.status;
  t.is(st.lastOperation.state, "Processing");
  t.is(st.lastOperation.description, "waiting for the node network");
  t.is(st.lastError, undefined);
  const text = await s.registry.metrics();
  t.notRegex(text, /reconcile_errors_total\{/);
  t.regex(
    text,
    /reconcile_duration_seconds_count\{kind="Infrastructure",operation="Create",result="requeue"\} 1/,
  );
});

test("deletion: actuator.delete, status Delete Succeeded, finalizer removed, object gone", async (t) => {
  const s = setup();
  await s.reconciler.reconcile(s.create("a"), live());
  await s.client.delete({ name: "a", namespace: "shoot" });
  const deleting = s.api.get(BASE, "shoot/a")!;
  t.truthy(deleting.metadata.deletionTimestamp);
  await s.reconciler.reconcile(deleting, live());
  t.deepEqual(s.calls, ["reconcile a", "delete a"]);
  t.is(s.api.get(BASE, "shoot/a"), undefined);
});

test("a failing delete keeps the finalizer and reports Delete Error", async (t) => {
  const s = setup({
    delete: async () => {
      throw new Error("cannot free IP");
    },
  });
  await s.reconciler.reconcile(s.create("a"), live());
  await s.client.delete({ name: "a", namespace: "shoot" });
  await t.throwsAsync(s.reconciler.reconcile(s.api.get(BASE, "shoot/a")!, live()));
  const obj = s.api.get(BASE, "shoot/a")!;
  t.deepEqual(obj.metadata.finalizers, [FIN]);
  t.is(obj.status.lastOperation.type, "Delete");
  t.is(obj.status.lastOperation.state, "Error");
});

test("a deleting object without our finalizer is left alone", async (t) => {
  const s = setup();
  const obj = s.create("a", { finalizers: ["someone.else/x"] });
  await s.client.delete({ name: "a", namespace: "shoot" });
  const before = s.api.log.length;
  await s.reconciler.reconcile(s.api.get(BASE, "shoot/a")!, live());
  t.deepEqual(s.calls, []);
  t.is(s.api.log.length, before);
  t.truthy(obj);
});

test("a stale cached copy conflicts once, is re-read, and the finalizer of another controller survives", async (t) => {
  const s = setup();
  const stale = s.create("a");
  s.api.put(BASE, { ...stale, metadata: { ...stale.metadata, finalizers: ["other/x"] } });
  await s.reconciler.reconcile(stale, live());
  const obj = s.api.get(BASE, "shoot/a")!;
  t.deepEqual(obj.metadata.finalizers, ["other/x", FIN]);
  t.is(obj.status.lastOperation.state, "Succeeded");
  t.true(
    s.api.log.includes("GET /apis/extensions.gardener.cloud/v1alpha1/namespaces/shoot/infrastructures/a"),
  );
});

test("Gardener's operation annotation is taken up and removed", async (t) => {
  const s = setup();
  const obj = s.create("a", { annotations: { [OPERATION_ANNOTATION]: "reconcile", keep: "me" } });
  await s.reconciler.reconcile(obj, live());
  t.deepEqual(s.api.get(BASE, "shoot/a")!.metadata.annotations, { keep: "me" });
});

test("an aborted signal (lost leadership) stops before writing status", async (t) => {
  const ac = new AbortController();
  const s = setup({
    reconcile: async () => {
      ac.abort(new Error("lost the lease"));
      return undefined;
    },
  });
  await t.throwsAsync(s.reconciler.reconcile(s.create("a"), ac.signal), { message: "lost the lease" });
  t.is(s.api.get(BASE, "shoot/a")!.status.lastOperation.state, "Processing", "no Succeeded/Error written");
});

test("conditions style: Ready condition and observedGeneration", async (t) => {
  let fail = false;
  const s = setup(
    {
      reconcile: async () => {
        if (fail) throw new Error("bad");
        return undefined;
      },
    },
    { status: "conditions" },
  );
  await s.reconciler.reconcile(s.create("a"), live());
  let st = s.api.get(BASE, "shoot/a")!.status;
  t.is(st.observedGeneration, 1);
  t.like(st.conditions[0], {
    type: "Ready",
    status: "True",
    reason: "CreateSucceeded",
    observedGeneration: 1,
  });
  const since = st.conditions[0].lastTransitionTime;
  fail = true;
  await t.throwsAsync(s.reconciler.reconcile(s.api.get(BASE, "shoot/a")!, live()));
  st = s.api.get(BASE, "shoot/a")!.status;
  t.like(st.conditions[0], { type: "Ready", status: "False", reason: "ReconcileFailed" });
  t.is(st.conditions.length, 1);
  t.truthy(since);
});

test("status 'none' writes no status", async (t) => {
  const s = setup({}, { status: "none" });
  await s.reconciler.reconcile(s.create("a"), live());
  t.is(s.api.get(BASE, "shoot/a")!.status, undefined);
  t.false(s.api.log.some((l) => l.endsWith("/status")));
});

test("processingDelayMs: a fast reconcile goes straight to Succeeded, a slow one reports Processing first", async (t) => {
  let delay = 0;
  const s = setup(
    {
      reconcile: async () => {
        await new Promise((r) => setTimeout(r, delay));
        return undefined;
      },
    },
    { processingDelayMs: 500 },
  );
  const statusWrites = () => s.api.log.filter((l) => l.endsWith("/status")).length;
  await s.reconciler.reconcile(s.create("fast"), live());
  t.is(statusWrites(), 1, "Succeeded only");
  t.is(s.api.get(BASE, "shoot/fast")!.status.lastOperation.state, "Succeeded");
  delay = 800;
  await s.reconciler.reconcile(s.create("slow"), live());
  t.is(statusWrites(), 3, "Processing after the delay, then Succeeded");
  t.is(s.api.get(BASE, "shoot/slow")!.status.lastOperation.state, "Succeeded");
  await new Promise((r) => setTimeout(r, 600));
  t.is(s.api.get(BASE, "shoot/slow")!.status.lastOperation.state, "Succeeded", "no late Processing write");
});

import test from "ava";
import { createEventRecorder, MAX_EVENT_MESSAGE_LENGTH } from "../src/event-recorder.js";
import type { KubeObject } from "../src/types.js";
import { createFakeApi } from "./helpers/fake-api.js";

const EVENTS = "/api/v1/events";
const obj: KubeObject = {
  apiVersion: "extensions.gardener.cloud/v1alpha1",
  kind: "Infrastructure",
  metadata: { name: "infra", namespace: "shoot", uid: "u1", resourceVersion: "7" },
};

test("an event names the object and its source; repeats bump count on the same Event", async (t) => {
  const api = createFakeApi();
  const rec = createEventRecorder({ transport: api.transport, component: "metal-ext", instance: "pod-1" });
  rec.event(obj, "Warning", "ReconcileFailed", "boom");
  rec.event(obj, "Warning", "ReconcileFailed", "boom");
  rec.event(obj, "Warning", "ReconcileFailed", "boom");
  rec.event(obj, "Normal", "ReconcileSucceeded", "ok");
  await rec.flush();
  t.deepEqual(api.log.map((l) => l.split(" ")[0]).sort(), ["PATCH", "PATCH", "POST", "POST"]);
  t.true(
    api.log.filter((l) => l.startsWith("POST")).every((l) => l === "POST /api/v1/namespaces/shoot/events"),
  );
  const events = api.list(EVENTS);
  t.is(events.length, 2);
  const warning = events.find((e) => e.type === "Warning")!;
  t.like(warning, {
    count: 3,
    reason: "ReconcileFailed",
    message: "boom",
    involvedObject: {
      apiVersion: "extensions.gardener.cloud/v1alpha1",
      kind: "Infrastructure",
      name: "infra",
      namespace: "shoot",
      uid: "u1",
    },
    source: { component: "metal-ext", host: "pod-1" },
    reportingComponent: "metal-ext",
    reportingInstance: "pod-1",
  });
  t.regex(warning.lastTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.like(
    events.find((e) => e.type === "Normal"),
    { count: 1, reason: "ReconcileSucceeded" },
  );
});

test("recording never throws or rejects; failures are logged; long messages are cut", async (t) => {
  const api = createFakeApi();
  api.failNext(() => true, 403, 1);
  const rec = createEventRecorder({ transport: api.transport, component: "c" });
  t.notThrows(() => rec.event(obj, "Normal", "R", "x"));
  await t.notThrowsAsync(rec.flush());
  t.is(api.list(EVENTS).length, 0);
  rec.event(obj, "Normal", "Long", "y".repeat(5000));
  await rec.flush();
  const [ev] = api.list(EVENTS);
  t.is(ev!.message.length, MAX_EVENT_MESSAGE_LENGTH);
  t.true(ev!.message.endsWith("..."));
});

test("cluster-scoped objects get their events in the default namespace", async (t) => {
  const api = createFakeApi();
  const rec = createEventRecorder({ transport: api.transport, component: "c" });
  rec.event({ apiVersion: "v1", kind: "Node", metadata: { name: "n1", uid: "n" } }, "Normal", "R", "m");
  await rec.flush();
  t.deepEqual(api.log, ["POST /api/v1/namespaces/default/events"]);
  t.throws(() => createEventRecorder({ transport: api.transport, component: "" }), { message: /component/ });
});

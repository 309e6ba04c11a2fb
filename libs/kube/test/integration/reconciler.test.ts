import { startTestbed, type Testbed } from "@metal-kube/e2e";
import { createLogger } from "@metal-kube/logging";
import test from "ava";
import { Registry } from "prom-client";
import { createController } from "../../src/controller.js";
import { createKubeClient, type KubeClient } from "../../src/kube-client.js";
import { isConflict, isNotFound } from "../../src/kube-error.js";
import { createKubeMetrics } from "../../src/metrics.js";
import { jsonPatchWithRetry, mutateWithRetry } from "../../src/patch.js";
import { type Permission, PermissionError, policyRules } from "../../src/permissions.js";
import type { Actuator } from "../../src/reconciler.js";
import { RequeueAfterError } from "../../src/requeue-after-error.js";
import type { ResourceRef } from "../../src/resource.js";
import { sleep } from "../../src/sleep.js";
import type { KubeObject } from "../../src/types.js";

// A demo actuator on Gardener's Infrastructure CRD (the upstream YAML), run by an adapter whose
// ServiceAccount has exactly the permissions the controller says it needs.
const INFRA: ResourceRef = {
  group: "extensions.gardener.cloud",
  version: "v1alpha1",
  plural: "infrastructures",
  kind: "Infrastructure",
};
const EVENTS: ResourceRef = { group: "", version: "v1", plural: "events", kind: "Event" };
const FINALIZER = "extensions.gardener.cloud/metal-demo";
const NS = "shoot--demo";
const logger = createLogger({ name: "test", level: process.env.LOG_LEVEL ?? "error" });
let bed: Testbed;
let admin: KubeClient;

test.before(async () => {
  bed = await startTestbed({ crds: ["infrastructures"], nats: false });
  admin = createKubeClient({ kubeconfigPath: bed.kubeconfigPath, logger });
  await admin
    .resource({ group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false })
    .create({ metadata: { name: NS } });
});
test.after.always(async () => {
  await admin?.close();
  await bed?.stop();
});

async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await sleep(50);
  }
}

const infra = (name: string, providerConfig: Record<string, unknown> = { mode: "ok" }): KubeObject => ({
  apiVersion: "extensions.gardener.cloud/v1alpha1",
  kind: "Infrastructure",
  metadata: { name, namespace: NS },
  spec: {
    type: "metal",
    region: "local",
    secretRef: { name: "cloudprovider", namespace: NS },
    providerConfig,
  },
});

/** Actuator steered by spec.providerConfig: ok, fail (an error), wait (RequeueAfterError `times` times). */
function demoActuator(log: string[]): Actuator<KubeObject> {
  const waits = new Map<string, number>();
  return {
    async reconcile(obj, ctx) {
      const pc = obj.spec.providerConfig ?? {};
      const key = `${obj.metadata.name}@${obj.metadata.generation}`;
      log.push(`reconcile ${key} ${ctx.operation}`);
      if (pc.mode === "fail") throw new Error("simulated metal-api failure");
      if (pc.mode === "wait") {
        const n = (waits.get(key) ?? 0) + 1;
        waits.set(key, n);
        if (n <= (pc.times ?? 1)) throw new RequeueAfterError(300, `waiting for the node network (${n})`);
      }
      return {
        status: {
          providerStatus: {
            apiVersion: "metal.provider.extensions.gardener.cloud/v1alpha1",
            kind: "InfrastructureStatus",
            seen: key,
          },
        },
      };
    },
    async delete(obj) {
      log.push(`delete ${obj.metadata.name}`);
    },
  };
}

async function startAdapter(name: string, permissions?: (p: Permission[]) => Permission[]) {
  const log: string[] = [];
  const registry = new Registry();
  const build = (kube: KubeClient) =>
    createController({
      kube,
      resource: INFRA,
      namespace: NS,
      finalizer: FINALIZER,
      actuator: demoActuator(log),
      component: "metal-demo",
      backoff: { baseMs: 200, maxMs: 1000 },
      logger,
    });
  // The permissions the controller declares become the ServiceAccount's Role, minus what a test removes.
  const needed = build(admin).permissions;
  const granted = permissions ? permissions(needed) : needed;
  const kubeconfigPath = await bed.serviceAccountKubeconfig({
    namespace: NS,
    name,
    rules: policyRules(granted),
  });
  const kube = createKubeClient({ kubeconfigPath, logger, metrics: createKubeMetrics({ registry }) });
  const controller = build(kube);
  return { kube, controller, log, registry };
}

const get = (name: string) => admin.resource(INFRA).get({ name, namespace: NS });
const eventsFor = async (name: string) =>
  (await admin.resource(EVENTS).list({ namespace: NS, fieldSelector: `involvedObject.name=${name}` })).items;

test.serial(
  "lifecycle on Infrastructure: finalizer, lastOperation, observedGeneration, Events, requeue-after, error, deletion",
  async (t) => {
    const a = await startAdapter("demo-adapter");
    await a.controller.start();
    const client = admin.resource(INFRA);
    try {
      // Create -> finalizer, Create Succeeded, observedGeneration 1, a Normal event.
      await client.create(infra("ok"));
      const ok = await until("ok succeeded", async () => {
        const o = await get("ok");
        return o.status?.lastOperation?.state === "Succeeded" && o;
      });
      t.deepEqual(ok.metadata.finalizers, [FINALIZER]);
      t.like(ok.status.lastOperation, { type: "Create", state: "Succeeded", progress: 100 });
      t.is(ok.status.observedGeneration, 1);
      t.is(ok.status.providerStatus.seen, "ok@1", "actuator status written with the success");
      const okEvents = await until("event", async () => {
        const e = await eventsFor("ok");
        return e.length > 0 && e;
      });
      t.like(okEvents[0], { type: "Normal", reason: "CreateSucceeded", source: { component: "metal-demo" } });
      t.is(okEvents[0]!.involvedObject.uid, ok.metadata.uid);

      // A spec change -> Reconcile, observedGeneration 2.
      await client.mergePatch({ name: "ok", namespace: NS }, { spec: { region: "other" } });
      const ok2 = await until("generation 2", async () => {
        const o = await get("ok");
        return o.status?.observedGeneration === 2 && o;
      });
      t.like(ok2.status.lastOperation, { type: "Reconcile", state: "Succeeded" });

      // Requeue-after: Processing with the reason, no Error, then Succeeded.
      await client.create(infra("waits", { mode: "wait", times: 2 }));
      const waiting = await until("waiting", async () => {
        const o = await get("waits");
        return o.status?.lastOperation?.description?.startsWith("waiting for the node network") && o;
      });
      t.is(waiting.status.lastOperation.state, "Processing");
      t.is(waiting.status.lastError, undefined);
      await until(
        "waits succeeded",
        async () => (await get("waits")).status?.lastOperation?.state === "Succeeded",
      );
      t.is(a.log.filter((l) => l.startsWith("reconcile waits@1")).length, 3);

      // Failure -> Error with lastError, a Warning, retried with backoff; fixed spec -> Succeeded, lastError gone.
      await client.create(infra("fails", { mode: "fail" }));
      const failed = await until("error", async () => {
        const o = await get("fails");
        return o.status?.lastOperation?.state === "Error" && o;
      });
      t.regex(failed.status.lastError.description, /simulated metal-api failure/);
      await until("retried", async () => a.log.filter((l) => l.startsWith("reconcile fails@1")).length >= 2);
      const warn = await until("warning", async () =>
        (await eventsFor("fails")).find((e) => e.type === "Warning"),
      );
      t.like(warn, { reason: "CreateFailed" });
      await client.mergePatch({ name: "fails", namespace: NS }, { spec: { providerConfig: { mode: "ok" } } });
      const fixed = await until("fixed", async () => {
        const o = await get("fails");
        return o.status?.lastOperation?.state === "Succeeded" && o.status.observedGeneration === 2 && o;
      });
      t.is(fixed.status.lastError, undefined);
      const metrics = await a.registry.metrics();
      t.regex(metrics, /reconcile_errors_total\{kind="Infrastructure",operation="Create"\} [1-9]/);
      t.regex(
        metrics,
        /reconcile_duration_seconds_count\{kind="Infrastructure",operation="Create",result="requeue"\} 2/,
      );

      // Deletion -> actuator.delete, finalizer removed, object gone.
      await client.delete({ name: "ok", namespace: NS });
      await until("ok gone", async () => {
        try {
          await get("ok");
          return false;
        } catch (err) {
          return isNotFound(err);
        }
      });
      t.true(a.log.includes("delete ok"));
      const del = await until("delete event", async () =>
        (await eventsFor("ok")).find((e) => e.reason === "DeleteSucceeded"),
      );
      t.truthy(del);
    } finally {
      await a.controller.stop();
      await a.kube.close();
    }
  },
);

test.serial(
  "an adapter whose ServiceAccount lacks a verb fails at start naming the verb and resource",
  async (t) => {
    const a = await startAdapter("no-watch", (p) =>
      p.filter((x) => !(x.verb === "watch" && x.resource === "infrastructures")),
    );
    const err = await t.throwsAsync(a.controller.start());
    t.true(err instanceof PermissionError);
    t.regex(
      err!.message,
      /user "system:serviceaccount:shoot--demo:no-watch" lacks RBAC permission: cannot watch resource "infrastructures" in group "extensions.gardener.cloud" in namespace "shoot--demo"/,
    );
    await a.kube.close();
  },
);

test.serial(
  "without the preflight, a missing status permission surfaces as an error naming verb and subresource",
  async (t) => {
    const a = await startAdapter("no-status", (p) => p.filter((x) => x.subresource !== "status"));
    const controller = createController({
      kube: a.kube,
      resource: INFRA,
      namespace: NS,
      finalizer: FINALIZER,
      actuator: demoActuator(a.log),
      verifyPermissions: false,
      component: "metal-demo",
      logger,
    });
    await controller.start();
    try {
      await admin.resource(INFRA).create(infra("no-status"));
      const warn = await until("warning", async () =>
        (await eventsFor("no-status")).find((e) => e.type === "Warning"),
      );
      t.regex(
        warn.message,
        /forbidden: cannot patch resource "infrastructures\/status" in group "extensions.gardener.cloud" in namespace "shoot--demo" \(check the RBAC of system:serviceaccount:shoot--demo:no-status\)/,
      );
      t.deepEqual((await get("no-status")).metadata.finalizers, [FINALIZER], "what it may do, it did");
    } finally {
      await controller.stop();
      await a.kube.close();
    }
  },
);

test.serial(
  "patch helpers: concurrent read-modify-writes lose no update (merge and JSON patch), status subresource",
  async (t) => {
    const cms = admin.resource({ group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" });
    await cms.create({ metadata: { name: "counter", namespace: NS }, data: { merge: "0", json: "0" } });
    const ref = { name: "counter", namespace: NS };
    const WRITERS = 8;
    const EACH = 5;
    // Every writer starts from the same stale copy, so nearly every first attempt conflicts.
    const stale = await cms.get(ref);
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        for (let i = 0; i < EACH; i++) {
          await mutateWithRetry(
            cms,
            ref,
            (o) => {
              o.data.merge = String(Number(o.data.merge) + 1);
            },
            { current: i === 0 ? stale : undefined, attempts: 100 },
          );
          await jsonPatchWithRetry(
            cms,
            ref,
            (o) => [{ op: "replace", path: "/data/json", value: String(Number(o.data.json) + 1) }],
            { current: i === 0 ? stale : undefined, attempts: 100 },
          );
        }
      }),
    );
    const final = await cms.get(ref);
    t.deepEqual(final.data, { merge: String(WRITERS * EACH), json: String(WRITERS * EACH) });

    // A stale resourceVersion without retry is refused with 409 by the real apiserver.
    const err = await t.throwsAsync(
      mutateWithRetry(
        cms,
        ref,
        (o) => {
          o.data.x = "y";
        },
        { current: stale, attempts: 1 },
      ),
    );
    t.true(isConflict(err));
    const jsonErr = await t.throwsAsync(
      jsonPatchWithRetry(cms, ref, () => [{ op: "add", path: "/data/x", value: "y" }], {
        current: stale,
        attempts: 1,
      }),
    );
    t.true(isConflict(jsonErr), "the JSON patch carries the resourceVersion it was built from");

    // Status subresource: the spec is untouched, generation does not move.
    const client = admin.resource(INFRA);
    const created = await client.create(infra("status-only"));
    const patched = await mutateWithRetry(
      client,
      { name: "status-only", namespace: NS },
      (o) => {
        o.status = {
          lastOperation: {
            type: "Create",
            state: "Processing",
            description: "x",
            lastUpdateTime: "2026-01-01T00:00:00Z",
            progress: 1,
          },
        };
        o.spec.region = "ignored-through-status";
      },
      { subresource: "status" },
    );
    t.is(patched.status.lastOperation.state, "Processing");
    t.is(patched.spec.region, "local", "the status subresource ignores spec changes");
    t.is(patched.metadata.generation, created.metadata.generation);
  },
);

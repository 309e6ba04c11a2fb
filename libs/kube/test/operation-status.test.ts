import test from "ava";
import { conditionsStatus, kubeTime, lastOperationStatus } from "../src/operation-status.js";

const now = new Date("2026-01-02T03:04:05.678Z");

test("kubeTime has second precision", (t) => {
  t.is(kubeTime(now), "2026-01-02T03:04:05Z");
});

test("lastOperation: Processing keeps observedGeneration, Error adds lastError, Succeeded clears it", (t) => {
  const status: Record<string, unknown> = { observedGeneration: 1 };
  lastOperationStatus.write(
    status,
    { type: "Reconcile", state: "Processing", description: "p", generation: 2 },
    now,
  );
  t.deepEqual(status, {
    observedGeneration: 1,
    lastOperation: {
      type: "Reconcile",
      state: "Processing",
      description: "p",
      lastUpdateTime: "2026-01-02T03:04:05Z",
      progress: 1,
    },
  });
  lastOperationStatus.write(
    status,
    { type: "Reconcile", state: "Error", description: "e", generation: 2 },
    now,
  );
  t.deepEqual(status.lastError, { description: "e", lastUpdateTime: "2026-01-02T03:04:05Z" });
  t.is(status.observedGeneration, 2);
  lastOperationStatus.write(
    status,
    {
      type: "Reconcile",
      state: "Succeeded",
      description: "ok",
      generation: 2,
      extra: { nodesCIDR: "10.0.0.0/24" },
    },
    now,
  );
  t.is(status.lastError, undefined);
  t.is(status.nodesCIDR, "10.0.0.0/24");
  t.like(status.lastOperation, { state: "Succeeded", progress: 100 });
});

test("lastOperation: Create first, Reconcile afterwards; up to date only when Succeeded for this generation", (t) => {
  const obj = { metadata: { generation: 3 }, status: undefined as unknown as Record<string, unknown> };
  t.is(lastOperationStatus.operationType(obj), "Create");
  obj.status = { lastOperation: { state: "Error", type: "Create" }, observedGeneration: 3 };
  t.is(lastOperationStatus.operationType(obj), "Create", "a failed Create is retried as a Create");
  obj.status = { lastOperation: { state: "Succeeded", type: "Create" }, observedGeneration: 2 };
  t.is(lastOperationStatus.operationType(obj), "Reconcile");
  t.false(lastOperationStatus.isUpToDate(obj));
  obj.status.observedGeneration = 3;
  t.true(lastOperationStatus.isUpToDate(obj));
});

test("conditions: transitions move lastTransitionTime, a resync of a Ready object does not flap", (t) => {
  const w = conditionsStatus("Ready");
  const status: Record<string, unknown> = {};
  w.write(status, { type: "Create", state: "Processing", description: "working", generation: 1 }, now);
  t.like((status.conditions as unknown[])[0], {
    status: "Unknown",
    reason: "Processing",
    message: "working",
  });
  t.is(status.observedGeneration, undefined);
  w.write(status, { type: "Create", state: "Succeeded", description: "done", generation: 1 }, now);
  const later = new Date(now.getTime() + 60_000);
  w.write(status, { type: "Reconcile", state: "Processing", description: "resync", generation: 1 }, later);
  const c = (status.conditions as Record<string, unknown>[])[0]!;
  t.like(c, {
    status: "True",
    reason: "CreateSucceeded",
    lastTransitionTime: "2026-01-02T03:04:05Z",
    observedGeneration: 1,
  });
  w.write(status, { type: "Reconcile", state: "Succeeded", description: "again", generation: 1 }, later);
  t.is((status.conditions as Record<string, unknown>[])[0]!.lastTransitionTime, "2026-01-02T03:04:05Z");
  w.write(status, { type: "Reconcile", state: "Error", description: "bad", generation: 2 }, later);
  t.like((status.conditions as Record<string, unknown>[])[0], {
    status: "False",
    reason: "ReconcileFailed",
    lastTransitionTime: "2026-01-02T03:05:05Z",
  });
  t.true(w.isUpToDate({ metadata: { generation: 1 }, status: { observedGeneration: 1, conditions: [c] } }));
});

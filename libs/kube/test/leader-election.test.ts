import { createLogger } from "@metal-kube/logging";
import test from "ava";
import { createLeaderElector, type LeaderElector } from "../src/leader-election.js";
import { sleep } from "../src/sleep.js";
import { createFakeApi } from "./helpers/fake-api.js";

const LEASES = "/apis/coordination.k8s.io/v1/leases";
const logger = createLogger({ name: "test", level: "silent" });
const timing = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 };

async function until(what: string, check: () => boolean, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

// Stopped after all tests even when an assertion failed midway, so no timer keeps the worker alive.
const started: LeaderElector[] = [];
test.after.always(async () => {
  await Promise.all(started.map((e) => e.stop()));
});

function elector(api: ReturnType<typeof createFakeApi>, identity: string, extra = {}): LeaderElector {
  const e = createLeaderElector({
    logger,
    transport: api.transport,
    namespace: "kube-system",
    name: "demo",
    identity,
    ...timing,
    ...extra,
  });
  started.push(e);
  return e;
}

test("one of two candidates leads; the lease names it with MicroTime timestamps", async (t) => {
  const api = createFakeApi();
  const a = elector(api, "a");
  const b = elector(api, "b");
  a.start();
  await until("a leads", () => a.isLeader);
  b.start();
  await sleep(300);
  t.false(b.isLeader);
  const lease = api.get(LEASES, "kube-system/demo")!;
  t.is(lease.spec.holderIdentity, "a");
  t.is(lease.spec.leaseDurationSeconds, 1);
  t.regex(lease.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  await b.stop();
  await a.stop();
});

test("a standby takes over after the lease expires when the leader goes silent, not before", async (t) => {
  const api = createFakeApi();
  const a = elector(api, "a", { releaseOnStop: false });
  const b = elector(api, "b");
  const changes: string[] = [];
  a.onChange((l) => changes.push(`a ${l}`));
  b.onChange((l) => changes.push(`b ${l}`));
  a.start();
  await until("a leads", () => a.isLeader);
  b.start();
  await sleep(200);
  // "Kill" a: it stops renewing without releasing.
  await a.stop();
  const silentAt = performance.now();
  await until("b leads", () => b.isLeader);
  const took = performance.now() - silentAt;
  t.true(took >= 700, `took over after ${took} ms; must wait for expiry`);
  t.true(took <= 1000 + 500, `took over after ${took} ms`);
  t.deepEqual(changes, ["a true", "a false", "b true"]);
  t.is(api.get(LEASES, "kube-system/demo")!.spec.leaseTransitions, 1);
  await b.stop();
});

test("release on stop hands over at once", async (t) => {
  const api = createFakeApi();
  const a = elector(api, "a");
  const b = elector(api, "b");
  a.start();
  await until("a leads", () => a.isLeader);
  b.start();
  await sleep(150);
  const t0 = performance.now();
  await a.stop();
  await until("b leads", () => b.isLeader);
  t.true(performance.now() - t0 < 400, `handover took ${performance.now() - t0} ms`);
  await b.stop();
});

test("a leader that cannot renew steps down within the renew deadline, before its lease can expire", async (t) => {
  const api = createFakeApi();
  const a = elector(api, "a");
  a.start();
  await until("a leads", () => a.isLeader);
  api.failNext((r) => r.path.includes("/leases/"), 503, 1_000_000);
  const t0 = performance.now();
  await until("a steps down", () => !a.isLeader);
  const after = performance.now() - t0;
  t.true(after <= timing.renewDeadlineMs + 150, `stepped down after ${after} ms`);
  t.true(after < timing.leaseDurationMs);
  await a.stop();
});

test("inconsistent timing is refused naming the option", (t) => {
  const api = createFakeApi();
  const base = { transport: api.transport, namespace: "n", name: "l" };
  t.throws(() => createLeaderElector({ ...base, leaseDurationMs: 5000, renewDeadlineMs: 5000 }), {
    message: /renewDeadlineMs/,
  });
  t.throws(() => createLeaderElector({ ...base, retryPeriodMs: 20_000 }), { message: /retryPeriodMs/ });
  t.throws(() => createLeaderElector({ ...base, name: "" }), { message: /name/ });
});

import test from "ava";
import { Registry } from "prom-client";
import type { Backoff } from "../src/backoff.js";
import { createKubeMetrics } from "../src/metrics.js";
import { sleep } from "../src/sleep.js";
import { createWorkQueue, type QueueResult } from "../src/work-queue.js";

/** A backoff that records calls and returns fixed delays, so tests control time. */
function fakeBackoff(delayMs = 20): Backoff & { calls: string[]; forgotten: string[] } {
  const counts = new Map<string, number>();
  const calls: string[] = [];
  const forgotten: string[] = [];
  return {
    calls,
    forgotten,
    next(key) {
      calls.push(key);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return delayMs;
    },
    forget(key) {
      forgotten.push(key);
      counts.delete(key);
    },
    failures: (key) => counts.get(key) ?? 0,
    get size() {
      return counts.size;
    },
  };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

test("repeated adds of a waiting key coalesce into one run", async (t) => {
  const runs: string[] = [];
  const q = createWorkQueue({
    name: "coalesce",
    process: async (key) => {
      runs.push(key);
      return undefined;
    },
  });
  for (let i = 0; i < 100; i++) q.add("ns/a");
  q.add("ns/b");
  t.is(q.depth, 2);
  q.start();
  await q.drain();
  t.deepEqual(runs, ["ns/a", "ns/b"]);
  await q.stop();
});

test("a key is never processed twice at once; adds during a run cause exactly one more run", async (t) => {
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  const gate = deferred();
  const q = createWorkQueue({
    name: "single-flight",
    concurrency: 8,
    process: async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      runs++;
      if (runs === 1) await gate.promise;
      active--;
      return undefined;
    },
  });
  q.start();
  q.add("k");
  await sleep(5);
  t.is(q.inFlight, 1);
  for (let i = 0; i < 10; i++) q.add("k");
  await sleep(5);
  t.is(q.inFlight, 1, "no second worker took the key while it ran");
  gate.resolve();
  await q.drain();
  t.is(maxActive, 1);
  t.is(runs, 2);
  await q.stop();
});

test("the global concurrency limit bounds parallel work", async (t) => {
  let active = 0;
  let maxActive = 0;
  const q = createWorkQueue({
    name: "limit",
    concurrency: 3,
    process: async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(10);
      active--;
      return undefined;
    },
  });
  for (let i = 0; i < 20; i++) q.add(`ns/k${i}`);
  q.start();
  await q.drain();
  t.is(maxActive, 3);
  await q.stop();
});

test("failures back off per key and success forgets the key", async (t) => {
  const backoff = fakeBackoff(30);
  const times: number[] = [];
  const q = createWorkQueue({
    name: "retry",
    backoff,
    process: async () => {
      times.push(performance.now());
      if (times.length < 3) throw new Error("boom");
      return undefined;
    },
  });
  q.start();
  q.add("k");
  while (times.length < 3) await sleep(5);
  await q.drain();
  t.deepEqual(backoff.calls, ["k", "k"]);
  t.deepEqual(backoff.forgotten, ["k"]);
  t.true(times[1]! - times[0]! >= 25, `retry waited ${times[1]! - times[0]!} ms`);
  t.true(times[2]! - times[1]! >= 25);
  await q.stop();
});

test("the default backoff is exponential with a cap", async (t) => {
  const q = createWorkQueue({
    name: "default-backoff",
    backoff: { baseMs: 10, maxMs: 40, jitter: 0 },
    process: async () => {
      throw new Error("always");
    },
  });
  const delays = [1, 2, 3, 4, 5].map(() => q.backoff.next("x"));
  t.deepEqual(delays, [10, 20, 40, 40, 40]);
  await q.stop();
});

test("requeue-after is not a failure: no backoff, runs again after the delay", async (t) => {
  const backoff = fakeBackoff();
  let runs = 0;
  const q = createWorkQueue({
    name: "requeue",
    backoff,
    process: async (): Promise<QueueResult> => {
      runs++;
      return runs === 1 ? { requeueAfterMs: 40 } : undefined;
    },
  });
  q.start();
  const t0 = performance.now();
  q.add("k");
  await sleep(10);
  t.is(runs, 1);
  t.is(q.delayed, 1);
  while (runs < 2) await sleep(5);
  t.true(performance.now() - t0 >= 38);
  t.deepEqual(backoff.calls, []);
  await q.stop();
});

test("an earlier addAfter wins over a later one; add runs at once", async (t) => {
  const runs: number[] = [];
  const q = createWorkQueue({
    name: "after",
    process: async () => {
      runs.push(performance.now());
      return undefined;
    },
  });
  q.start();
  const t0 = performance.now();
  q.addAfter("k", 10_000);
  q.addAfter("k", 30);
  t.is(q.delayed, 1);
  while (runs.length < 1) await sleep(5);
  t.true(runs[0]! - t0 >= 28 && runs[0]! - t0 < 5000);
  await q.stop();
});

test("periodic resync re-queues every listed key", async (t) => {
  const runs = new Map<string, number>();
  const q = createWorkQueue({
    name: "resync",
    resyncPeriodMs: 30,
    listKeys: () => ["a", "b"],
    process: async (key) => {
      runs.set(key, (runs.get(key) ?? 0) + 1);
      return undefined;
    },
  });
  q.start();
  // Nothing is ever added: every run comes from the resync timer.
  const end = Date.now() + 5000;
  while (((runs.get("a") ?? 0) < 3 || (runs.get("b") ?? 0) < 3) && Date.now() < end) await sleep(10);
  await q.stop();
  t.true((runs.get("a") ?? 0) >= 3, `a ran ${runs.get("a")} times`);
  t.true((runs.get("b") ?? 0) >= 3);
});

test("pause holds work, abortInFlight aborts it without counting a failure, resume runs it again", async (t) => {
  const backoff = fakeBackoff();
  let runs = 0;
  let aborted = 0;
  const q = createWorkQueue({
    name: "pause",
    backoff,
    process: (_key, signal) =>
      new Promise((resolve, reject) => {
        runs++;
        if (runs > 1) return resolve(undefined);
        signal.addEventListener("abort", () => {
          aborted++;
          reject(signal.reason);
        });
      }),
  });
  q.start();
  q.add("k");
  await sleep(5);
  q.pause({ abortInFlight: true });
  await sleep(10);
  t.is(aborted, 1);
  t.deepEqual(backoff.calls, [], "an aborted run is not a failure");
  t.is(runs, 1, "nothing runs while paused");
  t.is(q.depth, 1, "the aborted key waits for resume");
  q.resume();
  await q.drain();
  t.is(runs, 2);
  await q.stop();
});

test("stop aborts in-flight work and waits for it", async (t) => {
  let settled = false;
  const q = createWorkQueue({
    name: "stop",
    process: (_k, signal) =>
      new Promise((_, reject) => {
        signal.addEventListener("abort", () => {
          setTimeout(() => {
            settled = true;
            reject(new Error("aborted"));
          }, 20);
        });
      }),
  });
  q.start();
  q.add("k");
  await sleep(5);
  await q.stop();
  t.true(settled);
  q.add("late");
  t.is(q.depth, 0, "a stopped queue takes no more keys");
});

test("a synchronous throw in process counts as a failure", async (t) => {
  const backoff = fakeBackoff(1000);
  const q = createWorkQueue({
    name: "sync-throw",
    backoff,
    process: () => {
      throw new Error("sync");
    },
  });
  q.start();
  q.add("k");
  await sleep(10);
  t.deepEqual(backoff.calls, ["k"]);
  t.is(q.delayed, 1);
  await q.stop();
});

test("metrics: depth gauge, adds and retries per queue", async (t) => {
  const registry = new Registry();
  const metrics = createKubeMetrics({ registry });
  const q = createWorkQueue({
    name: "metered",
    metrics,
    backoff: fakeBackoff(10_000),
    process: async (key) => {
      if (key === "bad") throw new Error("x");
      return undefined;
    },
  });
  q.add("a");
  q.add("a");
  q.add("b");
  const depth = await registry.getSingleMetricAsString("metal_kube_workqueue_depth");
  t.regex(depth, /metal_kube_workqueue_depth\{queue="metered"\} 2/);
  q.start();
  await q.drain();
  q.add("bad");
  await sleep(10);
  const text = await registry.metrics();
  t.regex(text, /metal_kube_workqueue_adds_total\{queue="metered"\} 4/);
  t.regex(text, /metal_kube_workqueue_retries_total\{queue="metered"\} 1/);
  t.regex(text, /metal_kube_workqueue_depth\{queue="metered"\} 1/, "the backed-off key counts as waiting");
  await q.stop();
});

test("invalid options are refused naming the field", (t) => {
  const process = async () => undefined;
  t.throws(() => createWorkQueue({ name: "x", process, concurrency: 0 }), { message: /concurrency/ });
  t.throws(() => createWorkQueue({ name: "x", process, resyncPeriodMs: -5 }), { message: /resyncPeriodMs/ });
});

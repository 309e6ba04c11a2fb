/**
 * Work queue overhead per item: distinct keys added, processed by a no-op, drained; plus the cost of
 * coalesced re-adds. Target: at most 0.1 ms per item.
 * Run: npm run bench kube-queue-overhead
 */

import { createKubeMetrics, createWorkQueue } from "@metal-kube/kube";
import { Registry } from "prom-client";

const N = Number(process.env.N ?? 200_000);
const TARGET_MS = 0.1;

async function run(label: string, withMetrics: boolean, addsPerKey: number) {
  const metrics = withMetrics ? createKubeMetrics({ registry: new Registry() }) : undefined;
  const q = createWorkQueue({
    name: label,
    concurrency: 10,
    process: async () => undefined,
    metrics,
    resyncPeriodMs: 0,
  });
  const keys = Array.from({ length: N }, (_, i) => `ns-${i % 100}/obj-${i}`);
  const t0 = performance.now();
  q.start();
  for (let r = 0; r < addsPerKey; r++) for (const k of keys) q.add(k);
  await q.drain();
  const ms = performance.now() - t0;
  await q.stop();
  const per = ms / N;
  console.log(
    `${label.padEnd(34)} ${N} keys x${addsPerKey} adds: ${ms.toFixed(0)} ms, ${(per * 1000).toFixed(2)} µs/item, ${Math.round(N / (ms / 1000)).toLocaleString("en")} items/s`,
  );
  return per;
}

// Warm-up so JIT compilation is not measured.
await run("warm-up", false, 1);
const results = [
  await run("no metrics", false, 1),
  await run("with metrics", true, 1),
  await run("with metrics, 3 coalesced adds", true, 3),
];
const worst = Math.max(...results);
console.log(
  `queue overhead per item: ${(worst * 1000).toFixed(2)} µs (target <= ${TARGET_MS * 1000} µs) ${worst <= TARGET_MS ? "OK" : "FAIL"}`,
);
process.exit(worst <= TARGET_MS ? 0 : 1);

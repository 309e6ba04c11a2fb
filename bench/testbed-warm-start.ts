// `npm run bench testbed-warm-start` (or `node --import tsx bench/testbed-warm-start.ts [runs]`): how long startTestbed takes with the binaries
// cached (target: at most 15 s), with every upstream CRD and NATS, as the test suites start it.
// Prints each run and the median; exits 1 when the median is over the target.
import { ALL_CRDS, ensureTestBinaries, startTestbed } from "@metal-kube/e2e";

const TARGET_MS = 15_000;
const runs = Number(process.argv[2] ?? 3);

await ensureTestBinaries(); // a cold build is not part of a warm start
const times: { total: number; stopMs: number }[] = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const bed = await startTestbed({ crds: ALL_CRDS });
  const total = performance.now() - t0;
  const s0 = performance.now();
  await bed.stop();
  const stopMs = performance.now() - s0;
  times.push({ total, stopMs });
  console.log(`run ${i + 1}: start ${(total / 1000).toFixed(2)} s, stop ${(stopMs / 1000).toFixed(2)} s`);
}
const sorted = times.map((x) => x.total).sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
console.log(
  `warm start (etcd + kube-apiserver + ${ALL_CRDS.length} CRDs Established + NATS): median ${(median / 1000).toFixed(2)} s, ` +
    `max ${((sorted.at(-1) ?? 0) / 1000).toFixed(2)} s over ${runs} runs (target ${TARGET_MS / 1000} s)`,
);
process.exit(median <= TARGET_MS ? 0 : 1);

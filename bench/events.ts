/**
 * Events benchmark: prints figures, asserts nothing.
 *  1. sustained: events/s into JetStream through the outbox (publish() resolves after fdatasync; counted
 *     when JetStream acknowledged them), target >= 20,000/s;
 *  2. backlog: 100,000 events stored while NATS is down, then the time to drain them once NATS is back,
 *     target <= 10 s.
 * Run: `npm run events -w bench` (env BENCH_SECONDS, BENCH_BACKLOG, BENCH_FSYNC=0 to compare).
 */
import { createEventPublisher, type EventPublisher } from "@metal-kube/events";
import { createLogger } from "@metal-kube/logging";
import { makeTempDir, startNats, waitFor } from "@metal-kube/testing";
import pino from "pino";

const SECONDS = Number(process.env.BENCH_SECONDS ?? "10");
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? "100000");
const FSYNC = process.env.BENCH_FSYNC !== "0";
/** publish() calls awaiting the outbox at once: many request handlers publishing concurrently. */
const OUTSTANDING = 1000;

const logger = createLogger({
  name: "bench",
  level: "warn",
  destination: pino.destination({ dest: 2, sync: true }),
});
const data = {
  machine: "5f2a9f0e-0c1d-4a6b-9a39-2b1f8e1c2d3e",
  partition: "fra-equ01",
  size: "c1-xlarge-x86",
  state: "Phoned Home",
};

function pct(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

async function waitPublished(p: EventPublisher, n: number, timeoutMs: number) {
  await waitFor(`${n} events acknowledged`, () => p.stats().published >= n, { timeoutMs, intervalMs: 5 });
}

async function sustained() {
  const nats = await startNats();
  const dir = makeTempDir("bench-outbox-");
  const publisher = createEventPublisher({
    service: "bench",
    natsUrl: nats.url,
    outboxDir: dir.path,
    fsync: FSYNC,
    logger,
  });
  await publisher.ready();
  const latencies: number[] = [];
  let issued = 0;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  let warmPublished = 0;
  let warmAt = 0;
  while (performance.now() < deadline) {
    if (warmAt === 0 && performance.now() - started > 2000) {
      warmAt = performance.now();
      warmPublished = publisher.stats().published;
    }
    if (inFlight >= OUTSTANDING) {
      await new Promise<void>((r) => {
        wake = r;
      });
      continue;
    }
    inFlight++;
    issued++;
    const t0 = performance.now();
    void publisher.publish({ entity: "machine", action: "updated", subject: data.machine, data }).then(() => {
      latencies.push(performance.now() - t0);
      inFlight--;
      if (inFlight < OUTSTANDING / 2 && wake) {
        const w = wake;
        wake = undefined;
        w();
      }
    });
    // Yield now and then so the outbox and the flusher run while we produce.
    if (issued % 200 === 0) await new Promise((r) => setImmediate(r));
  }
  const endAt = performance.now();
  const endPublished = publisher.stats().published;
  await waitPublished(publisher, issued, 60_000);
  const drainedAt = performance.now();
  const steady = ((endPublished - warmPublished) / (endAt - warmAt)) * 1000;
  const overall = (issued / (drainedAt - started)) * 1000;
  const lat = Float64Array.from(latencies).sort();
  console.log(`events sustained (${SECONDS} s, fsync=${FSYNC}, ${OUTSTANDING} publishes outstanding)`);
  console.log(
    `  steady state into JetStream : ${Math.round(steady).toLocaleString("en")} events/s (target >= 20,000)`,
  );
  console.log(
    `  overall incl. final drain   : ${Math.round(overall).toLocaleString("en")} events/s (${issued.toLocaleString("en")} events)`,
  );
  console.log(
    `  publish() latency (durable) : p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms`,
  );
  await publisher.close();
  await nats.stop();
  dir.remove();
  return steady;
}

async function backlog() {
  const nats = await startNats();
  await nats.halt();
  const dir = makeTempDir("bench-backlog-");
  const publisher = createEventPublisher({
    service: "bench",
    natsUrl: nats.url,
    outboxDir: dir.path,
    fsync: FSYNC,
    logger,
  });
  await publisher.ready();
  const t0 = performance.now();
  let batch: Promise<unknown>[] = [];
  for (let i = 0; i < BACKLOG; i++) {
    batch.push(
      publisher.publish({
        entity: "machine",
        action: "updated",
        subject: data.machine,
        data: { ...data, i },
      }),
    );
    if (batch.length >= OUTSTANDING) {
      await Promise.all(batch);
      batch = [];
    }
  }
  await Promise.all(batch);
  const stored = performance.now() - t0;
  const s = publisher.stats();
  // Timed from launching nats-server, so its boot and our reconnect backoff are both included.
  const up = performance.now();
  await nats.start();
  await waitFor("first event after NATS is back", () => publisher.stats().published > 0, {
    timeoutMs: 30_000,
    intervalMs: 2,
  });
  const first = performance.now();
  await waitPublished(publisher, BACKLOG, 120_000);
  const done = performance.now();
  console.log(
    `events backlog (${BACKLOG.toLocaleString("en")} events, ${(s.pendingBytes / 1048576).toFixed(1)} MiB in the outbox)`,
  );
  console.log(
    `  stored while NATS down      : ${(stored / 1000).toFixed(2)} s (${Math.round((BACKLOG / stored) * 1000).toLocaleString("en")} events/s)`,
  );
  console.log(
    `  drained after NATS is back  : ${((done - up) / 1000).toFixed(2)} s (target <= 10 s), of which nats-server boot + reconnect ${((first - up) / 1000).toFixed(2)} s`,
  );
  console.log(
    `  drain rate once connected   : ${Math.round((BACKLOG / (done - first)) * 1000).toLocaleString("en")} events/s`,
  );
  await publisher.close();
  await nats.stop();
  dir.remove();
  return (done - up) / 1000;
}

await sustained();
await backlog();
process.exit(0);

import { fileURLToPath } from "node:url";
import {
  type ManagedProcess,
  makeTempDir,
  type NatsServer,
  spawnProcess,
  startNats,
  waitFor,
} from "@metal-kube/testing";
import test from "ava";
import { readStream, type StoredEvent } from "./helpers.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/publisher-process.ts", import.meta.url));

let nats: NatsServer;
test.before(async () => {
  nats = await startNats();
});
test.after.always(async () => {
  await nats?.stop();
});

function startPublisher(outboxDir: string, run: string, count: number): ManagedProcess {
  return spawnProcess("node", ["--import", "tsx", FIXTURE], {
    env: {
      ...process.env,
      NATS_URL: nats.url,
      OUTBOX_DIR: outboxDir,
      RUN: run,
      COUNT: String(count),
      LOG_LEVEL: "info",
    },
  });
}

/** kill -9, then wait until everything the process wrote to its pipes has been read. */
async function kill9(p: ManagedProcess): Promise<void> {
  const closed = new Promise((r) => p.child.once("close", r));
  await p.kill();
  await closed;
}

/** Highest `ACKED <run> <n>` the fixture printed: events 0..n-1 of that run were durable in the outbox. */
function acked(p: ManagedProcess, run: string): number {
  let n = 0;
  for (const m of p.output().matchAll(new RegExp(`^ACKED ${run} (\\d+)$`, "gm")))
    n = Math.max(n, Number(m[1]));
  return n;
}

/**
 * Checks the stream holds, for each run in order, events n = 0..k-1 exactly once (k >= the acknowledged
 * count, since an append being written at kill time may have reached the disk), with ascending stream
 * sequences, Nats-Msg-Id equal to the event id, and unique ids. Returns k per run.
 */
function checkExactlyOnceInOrder(
  events: StoredEvent[],
  runs: Array<{ run: string; minCount: number; maxCount: number }>,
) {
  const ids = new Set<string>();
  let prevSeq = 0;
  let i = 0;
  const counts: Record<string, number> = {};
  for (const { run, minCount, maxCount } of runs) {
    let n = 0;
    while (i < events.length && (events[i]!.event.data as { run: string }).run === run) {
      const e = events[i]!;
      const data = e.event.data as { run: string; n: number };
      if (data.n !== n)
        throw new Error(`run ${run}: event #${n} has n=${data.n} (stream seq ${e.streamSeq})`);
      if (e.streamSeq <= prevSeq) throw new Error(`stream sequence ${e.streamSeq} after ${prevSeq}`);
      if (e.msgId !== e.event.id) throw new Error(`Nats-Msg-Id ${e.msgId} differs from id ${e.event.id}`);
      if (ids.has(e.event.id)) throw new Error(`id ${e.event.id} twice`);
      if (e.subject !== "metal.crashtest.item.made" || e.event.type !== e.subject) {
        throw new Error(`subject ${e.subject} / type ${e.event.type}`);
      }
      ids.add(e.event.id);
      prevSeq = e.streamSeq;
      n++;
      i++;
    }
    if (n < minCount || n > maxCount)
      throw new Error(`run ${run}: ${n} events, expected ${minCount}..${maxCount}`);
    counts[run] = n;
  }
  if (i !== events.length)
    throw new Error(`unexpected event at index ${i}: ${JSON.stringify(events[i]!.event.data)}`);
  return counts;
}

test.serial(
  "events published while NATS is down survive kill -9 and arrive exactly once, in order",
  async (t) => {
    const dir = makeTempDir("outbox-crash-");
    t.teardown(dir.remove);
    await nats.halt();

    // Run 1: publishes into the outbox while NATS is down; killed -9 mid-stream.
    const first = startPublisher(dir.path, "a", 1_000_000);
    await waitFor(
      "first publisher to store 3000 events",
      () => acked(first, "a") >= 3000 || first.child.exitCode !== null,
      {
        timeoutMs: 60_000,
      },
    );
    t.is(first.child.exitCode, null, first.output());
    await kill9(first);
    const ackedA = acked(first, "a");

    // Run 2: a restarted publisher adds more while NATS is still down, then NATS comes back.
    const second = startPublisher(dir.path, "b", 500);
    t.teardown(() => second.stop());
    await waitFor("second publisher to store its events", () => /^DONE$/m.test(second.output()), {
      timeoutMs: 60_000,
    });
    t.notRegex(second.output(), /DRAINED/, "nothing can drain while NATS is down");
    await nats.start();
    await waitFor("the outbox to drain", () => /^DRAINED/m.test(second.output()), { timeoutMs: 60_000 });

    const events = await readStream(nats.url, "metal.crashtest.>");
    const counts = checkExactlyOnceInOrder(events, [
      { run: "a", minCount: ackedA, maxCount: ackedA + 50 },
      { run: "b", minCount: 500, maxCount: 500 },
    ]);
    t.log(`run a: ${counts.a} events (${ackedA} acknowledged before kill -9), run b: ${counts.b}`);
    const drained = JSON.parse(/^DRAINED (.*)$/m.exec(second.output())![1]!);
    t.is(drained.pending, 0);
    // Each stored event was acknowledged once as new; a re-send after a slow ack may add duplicates.
    t.true(drained.published <= counts.a! + 500, JSON.stringify(drained));
    t.true(drained.published + drained.duplicates >= counts.a! + 500, JSON.stringify(drained));
    t.is(drained.dropped, 0);
  },
);

test.serial(
  "kill -9 while flushing into a live NATS: re-sent events are dropped as duplicates",
  async (t) => {
    const dir = makeTempDir("outbox-crash-live-");
    t.teardown(dir.remove);
    const before = (await readStream(nats.url, "metal.crashtest.>")).length;

    const first = startPublisher(dir.path, "c", 1_000_000);
    await waitFor(
      "first publisher to store 5000 events",
      () => acked(first, "c") >= 5000 || first.child.exitCode !== null,
      {
        timeoutMs: 60_000,
      },
    );
    t.is(first.child.exitCode, null, first.output());
    await kill9(first);
    const ackedC = acked(first, "c");

    const second = startPublisher(dir.path, "d", 200);
    t.teardown(() => second.stop());
    await waitFor("the restarted publisher to drain", () => /^DRAINED/m.test(second.output()), {
      timeoutMs: 60_000,
    });
    const events = (await readStream(nats.url, "metal.crashtest.>")).slice(before);
    const counts = checkExactlyOnceInOrder(events, [
      { run: "c", minCount: ackedC, maxCount: ackedC + 50 },
      { run: "d", minCount: 200, maxCount: 200 },
    ]);
    const drained = JSON.parse(/^DRAINED (.*)$/m.exec(second.output())![1]!);
    t.log(
      `run c: ${counts.c} events, ${drained.duplicates} re-sent after the crash and dropped by JetStream`,
    );
    t.is(drained.dropped, 0);
  },
);

import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, makeTempDir, startNats, waitFor } from "@metal-kube/testing";
import test from "ava";
import {
  createEventPublisher,
  EventsError,
  InvalidOptionError,
  maskUrl,
  parseOptions,
} from "../src/index.js";
import { captureLogger, readStream } from "./helpers.js";

const segments = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".seg"))
    .sort();

async function downPublisher(dir: string, service: string, extra: Record<string, unknown> = {}) {
  const port = await freePort();
  const log = captureLogger(service);
  const publisher = createEventPublisher({
    service,
    natsUrl: `nats://127.0.0.1:${port}`,
    outboxDir: dir,
    logger: log.logger,
    ...extra,
  });
  return { publisher, log, port };
}

test("a torn record at the end of the outbox (kill -9 mid-write) is cut off; the rest is sent", async (t) => {
  const dir = makeTempDir("outbox-torn-");
  t.teardown(dir.remove);
  const a = await downPublisher(dir.path, "torn");
  for (let n = 0; n < 10; n++) await a.publisher.publish({ entity: "e", action: "a", data: { n } });
  await a.publisher.close();
  const seg = join(dir.path, segments(dir.path).at(-1)!);
  const size = statSync(seg).size;
  // Half of a record: what a crash during the write leaves.
  appendFileSync(seg, readFileSync(seg).subarray(0, Math.floor(size / 10 / 2)));

  const nats = await startNats();
  t.teardown(() => nats.stop());
  const log = captureLogger("torn");
  const c = createEventPublisher({
    service: "torn",
    natsUrl: nats.url,
    outboxDir: dir.path,
    logger: log.logger,
  });
  await c.publish({ entity: "e", action: "a", data: { n: 10 } });
  await waitFor("drain", () => c.stats().pending === 0, { timeoutMs: 20_000 });
  await c.close();
  const stored = await readStream(nats.url, "metal.torn.>");
  t.deepEqual(
    stored.map((s) => (s.event.data as { n: number }).n),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  const warn = log.lines().find((l) => /damaged tail/.test(String(l.msg)));
  t.like(warn, { level: 40, problem: "torn record at end" });
});

test("a record damaged on disk loses only its segment's tail; the outbox does not stall on the gap", async (t) => {
  const dir = makeTempDir("outbox-gap-");
  t.teardown(dir.remove);
  const a = await downPublisher(dir.path, "gap", { segmentBytes: 4096 });
  for (let n = 0; n < 100; n++)
    await a.publisher.publish({ entity: "e", action: "a", data: { n, pad: "z".repeat(100) } });
  await a.publisher.close();
  const first = join(dir.path, segments(dir.path)[0]!);
  const bytes = readFileSync(first);
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = bytes[middle]! ^ 0xff;
  writeFileSync(first, bytes);

  const nats = await startNats();
  t.teardown(() => nats.stop());
  const log = captureLogger("gap");
  const b = createEventPublisher({
    service: "gap",
    natsUrl: nats.url,
    outboxDir: dir.path,
    logger: log.logger,
  });
  await b.publish({ entity: "e", action: "a", data: { n: 100 } });
  await waitFor("drain past the gap", () => b.stats().pending === 0, { timeoutMs: 20_000 });
  const dropped = b.stats().dropped;
  await b.close();
  const got = (await readStream(nats.url, "metal.gap.>")).map((s) => (s.event.data as { n: number }).n);
  const lost = Array.from({ length: 101 }, (_, i) => i).filter((n) => !got.includes(n));
  t.true(lost.length > 0 && lost.length < 30, `lost ${lost}`);
  t.is(dropped, lost.length);
  t.deepEqual(
    got,
    [...got].sort((x, y) => x - y),
    "still in order",
  );
  t.is(got.at(-1), 100);
  t.true(log.lines().some((l) => l.level === 50 && /damaged tail/.test(String(l.msg))));
  t.true(log.lines().some((l) => l.level === 50 && /missing from the outbox/.test(String(l.msg))));
});

test("segments roll over and are deleted once JetStream has their events", async (t) => {
  const dir = makeTempDir("outbox-seg-");
  t.teardown(dir.remove);
  const a = await downPublisher(dir.path, "seg", {
    segmentBytes: 4096,
    backoffInitialMs: 20,
    backoffMaxMs: 100,
  });
  for (let n = 0; n < 200; n++)
    await a.publisher.publish({ entity: "e", action: "a", data: { n, pad: "y".repeat(100) } });
  t.true(segments(dir.path).length > 5, `${segments(dir.path).length} segments`);
  const nats = await startNats({ port: a.port });
  t.teardown(() => nats.stop());
  await waitFor("drain", () => a.publisher.stats().pending === 0, { timeoutMs: 20_000 });
  await waitFor("acked segments deleted", () => segments(dir.path).length === 1, { timeoutMs: 5_000 });
  await a.publisher.close();
  t.is((await readStream(nats.url, "metal.seg.>")).length, 200);
});

test("a damaged ack file makes the outbox re-send everything; JetStream drops the duplicates", async (t) => {
  const dir = makeTempDir("outbox-ack-");
  t.teardown(dir.remove);
  const nats = await startNats();
  t.teardown(() => nats.stop());
  const log = captureLogger("ack");
  const a = createEventPublisher({
    service: "ack",
    natsUrl: nats.url,
    outboxDir: dir.path,
    logger: log.logger,
  });
  for (let n = 0; n < 50; n++) await a.publish({ entity: "e", action: "a", data: { n } });
  await waitFor("drain", () => a.stats().pending === 0, { timeoutMs: 20_000 });
  await a.close();
  writeFileSync(join(dir.path, "ack"), Buffer.alloc(64, 0xff));
  const b = createEventPublisher({
    service: "ack",
    natsUrl: nats.url,
    outboxDir: dir.path,
    logger: log.logger,
  });
  await waitFor("re-sent", () => b.stats().pending === 0 && b.stats().duplicates === 50, {
    timeoutMs: 20_000,
  });
  await b.close();
  t.true(log.lines().some((l) => /ack file unreadable/.test(String(l.msg))));
  t.deepEqual(
    (await readStream(nats.url, "metal.ack.>")).map((s) => (s.event.data as { n: number }).n),
    Array.from({ length: 50 }, (_, i) => i),
  );
});

test("one publisher per outbox directory", async (t) => {
  const dir = makeTempDir("outbox-lock-");
  t.teardown(dir.remove);
  const a = await downPublisher(dir.path, "lock");
  await a.publisher.ready();
  const b = await downPublisher(dir.path, "lock");
  const err = await t.throwsAsync(b.publisher.ready(), { instanceOf: EventsError });
  t.is(err?.code, "OUTBOX_IO");
  t.regex(err!.message, /already open/);
  await a.publisher.close();
});

test("bad publisher options are named", (t) => {
  const base = { service: "svc", outboxDir: "/tmp/x" };
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ ...base, service: "Bad.Name" }, "service"],
    [{ ...base, service: undefined }, "service"],
    [{ ...base, outboxDir: "" }, "outboxDir"],
    [{ ...base, natsUrl: [] }, "natsUrl"],
    [{ ...base, source: "" }, "source"],
    [{ ...base, fsync: "yes" }, "fsync"],
    [{ ...base, streamName: "a b" }, "streamName"],
    [{ ...base, maxInFlight: 0 }, "maxInFlight"],
    [{ ...base, outboxMaxEvents: 1.5 }, "outboxMaxEvents"],
    [{ ...base, backoffJitter: 2 }, "backoffJitter"],
    [{ ...base, backoffInitialMs: 500, backoffMaxMs: 100 }, "backoffMaxMs"],
    [{ ...base, streamMaxAgeMs: 60_000, duplicateWindowMs: 120_000 }, "duplicateWindowMs"],
    [{ ...base, segmentBytes: 10 }, "segmentBytes"],
    [{ ...base, closeTimeoutMs: -1 }, "closeTimeoutMs"],
  ];
  for (const [opts, option] of bad) {
    const err = t.throws(() => createEventPublisher(opts as never), { instanceOf: InvalidOptionError });
    t.is(err?.option, option, err?.message);
    t.true(err!.message.includes(option), err?.message);
  }
  const parsed = parseOptions(base);
  t.is(parsed.natsUrl[0], "nats://127.0.0.1:4222");
  t.is(parsed.source, "/metal-kube/svc");
  t.is(parsed.streamName, "METAL");
});

test("credentials in the NATS URL never reach the logs", async (t) => {
  const dir = makeTempDir("outbox-creds-");
  t.teardown(dir.remove);
  const port = await freePort();
  const log = captureLogger("creds");
  const publisher = createEventPublisher({
    service: "creds",
    natsUrl: `nats://alice:s3cret-pw@127.0.0.1:${port}`,
    outboxDir: dir.path,
    logger: log.logger,
  });
  await publisher.ready();
  await publisher.close();
  const text = JSON.stringify(log.lines());
  t.true(text.includes("NATS unreachable"));
  t.false(text.includes("s3cret-pw"));
  t.is(maskUrl("nats://alice:pw@h:4222"), "nats://[REDACTED]@h:4222");
  t.is(maskUrl("nats://h:4222"), "nats://h:4222");
});

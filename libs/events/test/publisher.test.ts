import { freePort, makeTempDir, type NatsServer, startNats, waitFor } from "@metal-kube/testing";
import test from "ava";
import { connect, nanos, StorageType } from "nats";
import { createEventPublisher, type EventPublisher, EventsError, InvalidEventError } from "../src/index.js";
import { captureLogger, readStream } from "./helpers.js";

let nats: NatsServer;
test.before(async () => {
  nats = await startNats();
});
test.after.always(async () => {
  await nats?.stop();
});

function publisherFor(
  t: { teardown(fn: () => unknown): void },
  service: string,
  extra: Partial<Parameters<typeof createEventPublisher>[0]> = {},
) {
  const dir = makeTempDir(`outbox-${service}-`);
  const log = captureLogger(service);
  const publisher = createEventPublisher({
    service,
    natsUrl: nats.url,
    outboxDir: dir.path,
    logger: log.logger,
    ...extra,
  });
  t.teardown(async () => {
    await publisher.close();
    dir.remove();
  });
  return { publisher, dir, log };
}

async function drained(p: EventPublisher) {
  await waitFor("outbox to drain", () => p.stats().pending === 0, { timeoutMs: 20_000 });
}

test("publishes CloudEvents 1.0 structured JSON on metal.<service>.<entity>.<action> with Nats-Msg-Id = id", async (t) => {
  const { publisher } = publisherFor(t, "shape");
  await publisher.ready();
  const ev = await publisher.publish({
    entity: "machine",
    action: "allocated",
    subject: "m-1",
    data: { size: "c1-large" },
  });
  t.is(ev.specversion, "1.0");
  t.is(ev.type, "metal.shape.machine.allocated");
  t.is(ev.source, "/metal-kube/shape");
  t.is(ev.subject, "m-1");
  t.is(ev.datacontenttype, "application/json");
  t.regex(ev.id, /^[0-9a-f-]{36}$/);
  t.false(Number.isNaN(Date.parse(ev.time)));
  await drained(publisher);
  const stored = await readStream(nats.url, "metal.shape.>");
  t.is(stored.length, 1);
  t.is(stored[0]!.subject, "metal.shape.machine.allocated");
  t.is(stored[0]!.msgId, ev.id);
  t.deepEqual(stored[0]!.event, ev);
  t.deepEqual(publisher.stats(), {
    pending: 0,
    pendingBytes: 0,
    published: 1,
    duplicates: 0,
    dropped: 0,
    connected: 1,
  });
});

test("a second event with the same id is dropped by the server", async (t) => {
  const { publisher } = publisherFor(t, "dedup");
  await publisher.publish({ entity: "ip", action: "acquired", id: "fixed-id-1", data: { ip: "10.0.0.1" } });
  await publisher.publish({ entity: "ip", action: "acquired", id: "fixed-id-1", data: { ip: "10.0.0.1" } });
  await publisher.publish({ entity: "ip", action: "released", data: null });
  await drained(publisher);
  const stored = await readStream(nats.url, "metal.dedup.>");
  t.deepEqual(
    stored.map((s) => [s.event.id === "fixed-id-1", s.event.type]),
    [
      [true, "metal.dedup.ip.acquired"],
      [false, "metal.dedup.ip.released"],
    ],
  );
  t.like(publisher.stats(), { published: 2, duplicates: 1, pending: 0 });
});

test("keeps order across many concurrent publishes", async (t) => {
  const { publisher } = publisherFor(t, "order", { maxInFlight: 64 });
  const all = [];
  for (let n = 0; n < 3000; n++) all.push(publisher.publish({ entity: "x", action: "y", data: { n } }));
  await Promise.all(all);
  await drained(publisher);
  const stored = await readStream(nats.url, "metal.order.>");
  t.deepEqual(
    stored.map((s) => (s.event.data as { n: number }).n),
    Array.from({ length: 3000 }, (_, i) => i),
  );
});

test("while NATS is down: ready() does not block, publish resolves, a full outbox drops and says so", async (t) => {
  const port = await freePort();
  const dir = makeTempDir("outbox-full-");
  t.teardown(dir.remove);
  const log = captureLogger("full");
  const publisher = createEventPublisher({
    service: "full",
    natsUrl: `nats://127.0.0.1:${port}`,
    outboxDir: dir.path,
    outboxMaxEvents: 5,
    backoffInitialMs: 50,
    backoffMaxMs: 200,
    logger: log.logger,
  });
  const started = Date.now();
  await publisher.ready();
  // NATS only starts later in this test: waiting for it would never end.
  t.true(Date.now() - started < 10_000, "ready() waited for NATS");
  t.is(publisher.stats().connected, 0);
  const events = [];
  for (let n = 0; n < 8; n++) events.push(await publisher.publish({ entity: "e", action: "a", data: { n } }));
  t.is(events.length, 8);
  t.like(publisher.stats(), { pending: 5, dropped: 3, published: 0 });
  const warnings = log.lines().filter((l) => /EVENT OUTBOX FULL/.test(String(l.msg)));
  t.is(warnings.length, 1, "one warning, not one per event");
  t.like(warnings[0], { level: 40, limit: "maxEvents", value: 5 });
  t.true(log.lines().some((l) => /NATS unreachable/.test(String(l.msg))));

  const late = await startNats({ port });
  t.teardown(() => late.stop());
  await waitFor("the outbox to drain into the late NATS", () => publisher.stats().pending === 0, {
    timeoutMs: 20_000,
  });
  // Room again: new events are stored.
  await publisher.publish({ entity: "e", action: "a", data: { n: 100 } });
  await waitFor("the last event", () => publisher.stats().published === 6, { timeoutMs: 20_000 });
  await publisher.close();
  const stored = await readStream(late.url, "metal.full.>");
  t.deepEqual(
    stored.map((s) => (s.event.data as { n: number }).n),
    [0, 1, 2, 3, 4, 100],
  );
  t.true(log.lines().some((l) => /accepts events again/.test(String(l.msg))));
});

test("outboxMaxBytes bounds the outbox too", async (t) => {
  const port = await freePort();
  const dir = makeTempDir("outbox-bytes-");
  t.teardown(dir.remove);
  const log = captureLogger("bytes");
  const publisher = createEventPublisher({
    service: "bytes",
    natsUrl: `nats://127.0.0.1:${port}`,
    outboxDir: dir.path,
    outboxMaxBytes: 4096,
    logger: log.logger,
  });
  t.teardown(() => publisher.close());
  for (let n = 0; n < 20; n++)
    await publisher.publish({ entity: "e", action: "a", data: { pad: "x".repeat(500) } });
  const s = publisher.stats();
  t.true(s.pendingBytes <= 4096);
  t.true(s.pending >= 5 && s.pending < 20);
  t.is(s.pending + s.dropped, 20);
  t.like(
    log.lines().find((l) => /EVENT OUTBOX FULL/.test(String(l.msg))),
    { limit: "maxBytes" },
  );
});

test("close() flushes what is pending, then publish rejects", async (t) => {
  const dir = makeTempDir("outbox-close-");
  t.teardown(dir.remove);
  const publisher = createEventPublisher({
    service: "closing",
    natsUrl: nats.url,
    outboxDir: dir.path,
    logger: captureLogger().logger,
  });
  await publisher.ready();
  const all = [];
  for (let n = 0; n < 500; n++) all.push(publisher.publish({ entity: "e", action: "a", data: { n } }));
  await Promise.all(all);
  await publisher.close();
  t.is((await readStream(nats.url, "metal.closing.>")).length, 500);
  const err = await t.throwsAsync(publisher.publish({ entity: "e", action: "a", data: 1 }), {
    instanceOf: EventsError,
  });
  t.is(err?.code, "CLOSED");
});

test("bad events are rejected naming the field, and nothing is stored", async (t) => {
  const { publisher } = publisherFor(t, "badevents", { maxEventBytes: 1024 });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const cases: Array<[Parameters<EventPublisher["publish"]>[0], string]> = [
    [{ entity: "machine.x", action: "created", data: 1 }, "entity"],
    [{ entity: "machine", action: "", data: 1 }, "action"],
    [{ entity: "Machine", action: "created", data: 1 }, "entity"],
    [{ entity: "machine", action: "created", data: undefined }, "data"],
    [{ entity: "machine", action: "created", data: cyclic }, "data"],
    [{ entity: "machine", action: "created", data: "x".repeat(2000) }, "data"],
    [{ entity: "machine", action: "created", data: 1, id: "has space" }, "id"],
    [{ entity: "machine", action: "created", data: 1, subject: "" }, "subject"],
  ];
  for (const [input, field] of cases) {
    const err = await t.throwsAsync(publisher.publish(input), { instanceOf: InvalidEventError });
    t.is(err?.field, field, err?.message);
    t.true(err!.message.includes(field));
  }
  t.is(publisher.stats().pending, 0);
});

test("creates the stream with metal.>, file storage, bounded age and duplicate window; updates an existing one", async (t) => {
  const own = await startNats();
  t.teardown(() => own.stop());
  const nc = await connect({ servers: own.url });
  t.teardown(() => nc.close());
  const jsm = await nc.jetstreamManager();
  const dir = makeTempDir("outbox-stream-");
  t.teardown(dir.remove);

  const first = createEventPublisher({
    service: "s",
    natsUrl: own.url,
    outboxDir: dir.path,
    logger: captureLogger().logger,
  });
  await first.ready();
  await first.close();
  const created = (await jsm.streams.info("METAL")).config;
  t.deepEqual(created.subjects, ["metal.>"]);
  t.is(created.storage, StorageType.File);
  t.is(created.max_age, nanos(7 * 24 * 3600_000));
  t.is(created.duplicate_window, nanos(20 * 60_000));

  // An operator added a subject and changed limits: the age and window are set back, the subject kept.
  await jsm.streams.update("METAL", {
    ...created,
    subjects: ["metal.>", "audit.>"],
    max_age: nanos(60_000),
    duplicate_window: nanos(30_000),
  });
  const log = captureLogger("s");
  const second = createEventPublisher({
    service: "s",
    natsUrl: own.url,
    outboxDir: dir.path,
    streamMaxAgeMs: 3600_000,
    duplicateWindowMs: 120_000,
    logger: log.logger,
  });
  await second.ready();
  await second.close();
  const updated = (await jsm.streams.info("METAL")).config;
  t.deepEqual([...updated.subjects].sort(), ["audit.>", "metal.>"]);
  t.is(updated.max_age, nanos(3600_000));
  t.is(updated.duplicate_window, nanos(120_000));
  t.true(log.lines().some((l) => l.msg === "updated event stream"));
});

test("NATS restarting mid-stream loses nothing and doubles nothing", async (t) => {
  const own = await startNats();
  t.teardown(() => own.stop());
  const dir = makeTempDir("outbox-restart-");
  t.teardown(dir.remove);
  const publisher = createEventPublisher({
    service: "restart",
    natsUrl: own.url,
    outboxDir: dir.path,
    backoffInitialMs: 50,
    backoffMaxMs: 200,
    logger: captureLogger().logger,
  });
  t.teardown(() => publisher.close());
  await publisher.ready();
  const total = 12_000;
  let n = 0;
  const produce = async (until: number) => {
    while (n < until) {
      const batch = [];
      for (let i = 0; i < 100 && n < until; i++)
        batch.push(publisher.publish({ entity: "e", action: "a", data: { n: n++ } }));
      await Promise.all(batch);
    }
  };
  const producing = produce(total);
  await waitFor("some events in JetStream", () => publisher.stats().published >= 3000, { timeoutMs: 30_000 });
  await own.halt();
  const atHalt = n;
  await waitFor("more events while NATS is down", () => n >= atHalt + 2000 || n === total, {
    timeoutMs: 30_000,
  });
  t.is(publisher.stats().connected, 0);
  await own.start();
  await producing;
  await waitFor("drain", () => publisher.stats().pending === 0, { timeoutMs: 30_000 });
  const stored = await readStream(own.url, "metal.restart.>");
  const ns = stored.map((s) => (s.event.data as { n: number }).n);
  t.is(ns.length, total);
  t.true(
    ns.every((v, i) => v === i),
    "in order, exactly once",
  );
  // Acks lost in the restart make some re-sends count as duplicates instead: together they cover all.
  const stats = publisher.stats();
  t.true(stats.published + stats.duplicates >= total, JSON.stringify(stats));
  t.is(stats.dropped, 0);
});

test("an event JetStream keeps rejecting is dropped after maxRejects, logged, and does not wedge the rest", async (t) => {
  const own = await startNats();
  t.teardown(() => own.stop());
  const nc = await connect({ servers: own.url });
  const jsm = await nc.jetstreamManager();
  // An operator's limit the publisher keeps: messages over 600 bytes are refused by the server.
  await jsm.streams.add({
    name: "METAL",
    subjects: ["metal.>"],
    storage: StorageType.File,
    max_msg_size: 600,
  });
  await nc.close();
  const dir = makeTempDir("outbox-poison-");
  t.teardown(dir.remove);
  const log = captureLogger("poison");
  const publisher = createEventPublisher({
    service: "poison",
    natsUrl: own.url,
    outboxDir: dir.path,
    maxRejects: 3,
    backoffInitialMs: 10,
    backoffMaxMs: 50,
    logger: log.logger,
  });
  t.teardown(() => publisher.close());
  await publisher.publish({ entity: "e", action: "a", data: { n: 0 } });
  const poison = await publisher.publish({ entity: "e", action: "a", data: { n: 1, pad: "p".repeat(1000) } });
  await publisher.publish({ entity: "e", action: "a", data: { n: 2 } });
  await waitFor("drain", () => publisher.stats().pending === 0, { timeoutMs: 20_000 });
  t.like(publisher.stats(), { published: 2, dropped: 1 });
  const stored = await readStream(own.url, "metal.poison.>");
  t.deepEqual(
    stored.map((s) => (s.event.data as { n: number }).n),
    [0, 2],
  );
  const dropped = log.lines().find((l) => /keeps rejecting/.test(String(l.msg)));
  t.like(dropped, { level: 50, rejects: 3, id: poison.id });
  t.regex(String(dropped?.reason), /size|maximum/i);
});

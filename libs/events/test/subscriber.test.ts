import { makeTempDir, type NatsServer, startNats, waitFor } from "@metal-kube/testing";
import test from "ava";
import { connect, headers } from "nats";
import {
  type CloudEvent,
  createEventPublisher,
  createEventSubscriber,
  type EventPublisher,
  type EventSubscriber,
  InvalidOptionError,
  type ReceivedEvent,
} from "../src/index.js";
import { captureLogger } from "./helpers.js";

let nats: NatsServer;
let publisher: EventPublisher;
test.before(async () => {
  nats = await startNats();
  const dir = makeTempDir("outbox-sub-");
  publisher = createEventPublisher({
    service: "sub",
    natsUrl: nats.url,
    outboxDir: dir.path,
    logger: captureLogger().logger,
  });
  await publisher.ready();
});
test.after.always(async () => {
  await publisher?.close();
  await nats?.stop();
});

async function publishAll(entity: string, ns: number[]): Promise<CloudEvent[]> {
  const out = await Promise.all(ns.map((n) => publisher.publish({ entity, action: "made", data: { n } })));
  await waitFor("published", () => publisher.stats().pending === 0, { timeoutMs: 10_000 });
  return out;
}

/** Collects `count` events from the subscriber (then closes it), failing after `timeoutMs`. */
async function take(sub: EventSubscriber, count: number, timeoutMs = 10_000): Promise<ReceivedEvent[]> {
  const out: ReceivedEvent[] = [];
  const timer = setTimeout(() => void sub.close(), timeoutMs);
  for await (const r of sub.received()) {
    out.push(r);
    if (out.length >= count) break;
  }
  clearTimeout(timer);
  return out;
}

const ns = (rs: ReceivedEvent[]) => rs.map((r) => (r.event.data as { n: number }).n);

test.serial(
  "deliver all yields every stored event in order, decoded, with stream sequence and msg id",
  async (t) => {
    const sent = await publishAll("all", [0, 1, 2, 3, 4]);
    const sub = createEventSubscriber({ natsUrl: nats.url, subject: "metal.sub.all.>", deliver: "all" });
    const got = await take(sub, 5);
    t.deepEqual(ns(got), [0, 1, 2, 3, 4]);
    t.deepEqual(
      got.map((r) => r.event),
      sent,
    );
    t.deepEqual(
      got.map((r) => r.msgId),
      sent.map((e) => e.id),
    );
    t.true(got.every((r, i) => i === 0 || r.streamSeq > got[i - 1]!.streamSeq));
    t.true(got.every((r) => r.subject === "metal.sub.all.made"));
  },
);

test.serial("the plain iterator yields CloudEvents; a subject filter keeps others out", async (t) => {
  await publishAll("other", [7]);
  await publishAll("plain", [0, 1]);
  const sub = createEventSubscriber({ natsUrl: nats.url, subject: "metal.sub.plain.*", deliver: "all" });
  const got: CloudEvent[] = [];
  for await (const e of sub) {
    got.push(e);
    if (got.length === 2) break;
  }
  t.deepEqual(
    got.map((e) => [e.type, (e.data as { n: number }).n]),
    [
      ["metal.sub.plain.made", 0],
      ["metal.sub.plain.made", 1],
    ],
  );
});

test.serial("deliver new skips what is already stored; sinceMs starts at a time", async (t) => {
  await publishAll("fresh", [0]);
  const before = Date.now();
  await new Promise((r) => setTimeout(r, 50));
  const sub = createEventSubscriber({ natsUrl: nats.url, subject: "metal.sub.fresh.>", deliver: "new" });
  const got = take(sub, 1);
  // The consumer is created when iteration starts: publish until it sees one.
  let n = 1;
  const pump = setInterval(
    () => void publisher.publish({ entity: "fresh", action: "made", data: { n: n++ } }),
    100,
  );
  const first = await got;
  clearInterval(pump);
  t.true(ns(first)[0]! >= 1, "the old event must not be delivered");

  const since = createEventSubscriber({
    natsUrl: nats.url,
    subject: "metal.sub.fresh.>",
    deliver: { sinceMs: Date.now() - before },
  });
  const recent = await take(since, 1);
  t.true(ns(recent)[0]! >= 1, "an event older than sinceMs was delivered");
});

test.serial("a durable consumer continues where it stopped; handled events are acknowledged", async (t) => {
  await publishAll("durable", [0, 1, 2, 3]);
  const opts = {
    natsUrl: nats.url,
    subject: "metal.sub.durable.>",
    durable: "t-durable",
    deliver: "all",
    ackWaitMs: 1000,
  } as const;
  const first = await take(createEventSubscriber(opts), 2);
  t.deepEqual(ns(first), [0, 1]);
  await publishAll("durable", [4]);
  // 2 and 3 were fetched but not handed out: redelivered after the ack wait; 0 and 1 never again.
  const second = await take(createEventSubscriber(opts), 3);
  t.deepEqual(ns(second).sort(), [2, 3, 4]);
  const third = createEventSubscriber(opts);
  const more = take(third, 1, 2500);
  t.deepEqual(ns(await more), [], "everything handled was acknowledged");
});

test.serial("messages that are not CloudEvents are skipped, logged and counted", async (t) => {
  const nc = await connect({ servers: nats.url });
  const js = nc.jetstream();
  const h = headers();
  h.set("Nats-Msg-Id", "junk-1");
  await js.publish("metal.sub.junk.made", new TextEncoder().encode("not json"), { headers: h });
  await nc.close();
  await publishAll("junk", [1]);
  const log = captureLogger("sub");
  const sub = createEventSubscriber({
    natsUrl: nats.url,
    subject: "metal.sub.junk.>",
    deliver: "all",
    logger: log.logger,
  });
  const got = await take(sub, 1);
  t.deepEqual(ns(got), [1]);
  t.is(sub.invalid, 1);
  t.true(log.lines().some((l) => /not a CloudEvent/.test(String(l.msg))));
});

test("a subscriber started before NATS waits for it", async (t) => {
  const late = await startNats();
  await late.halt();
  t.teardown(() => late.stop());
  const sub = createEventSubscriber({
    natsUrl: late.url,
    deliver: "all",
    retryMs: 100,
    logger: captureLogger().logger,
  });
  const got = take(sub, 1, 30_000);
  await new Promise((r) => setTimeout(r, 300));
  await late.start();
  const dir = makeTempDir("outbox-late-");
  t.teardown(dir.remove);
  const p = createEventPublisher({
    service: "late",
    natsUrl: late.url,
    outboxDir: dir.path,
    logger: captureLogger().logger,
  });
  await p.publish({ entity: "x", action: "y", data: { n: 42 } });
  const r = await got;
  await p.close();
  t.deepEqual(ns(r), [42]);
});

test("bad subscriber options are named", (t) => {
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ natsUrl: "" }, "natsUrl"],
    [{ subject: "metal.>.x" }, "subject"],
    [{ subject: "metal..x" }, "subject"],
    [{ subject: "metal.a*" }, "subject"],
    [{ durable: "has.dot" }, "durable"],
    [{ deliver: "last" }, "deliver"],
    [{ deliver: { sinceMs: -1 } }, "deliver"],
    [{ streamName: "a b" }, "streamName"],
    [{ retryMs: 0 }, "retryMs"],
    [{ ackWaitMs: 5 }, "ackWaitMs"],
  ];
  for (const [opts, option] of bad) {
    const err = t.throws(() => createEventSubscriber(opts as never), { instanceOf: InvalidOptionError });
    t.is(err?.option, option, err?.message);
    t.true(err!.message.includes(option));
  }
});

test("an ordered subscriber keeps going across a NATS restart", async (t) => {
  const own = await startNats();
  t.teardown(() => own.stop());
  const dir = makeTempDir("outbox-sub-restart-");
  t.teardown(dir.remove);
  const logger = captureLogger().logger;
  const p = createEventPublisher({
    service: "rs",
    natsUrl: own.url,
    outboxDir: dir.path,
    backoffMaxMs: 200,
    logger,
  });
  t.teardown(() => p.close());
  await p.publish({ entity: "a", action: "b", data: { n: 0 } });
  const sub = createEventSubscriber({ natsUrl: own.url, deliver: "all", retryMs: 100, logger });
  const got = take(sub, 4, 30_000);
  await waitFor("the first event stored", () => p.stats().published === 1, { timeoutMs: 10_000 });
  await new Promise((r) => setTimeout(r, 500));
  await own.halt();
  await own.start();
  for (const n of [1, 2, 3]) await p.publish({ entity: "a", action: "b", data: { n } });
  t.deepEqual(ns(await got), [0, 1, 2, 3]);
});

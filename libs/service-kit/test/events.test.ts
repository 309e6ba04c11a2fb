// Events through the kit: a call publishes into the outbox, never waits for NATS, and the event reaches
// JetStream once NATS is there; the figures show on /metrics.
import { createEventSubscriber, type ReceivedEvent } from "@metal-kube/events";
import { freePort, spawnProcess, startNats, waitFor } from "@metal-kube/testing";
import test from "ava";
import { ECHO_FIXTURE, echoClient, startEcho } from "./echo-harness.js";

async function firstEvents(sub: AsyncIterable<ReceivedEvent>, n: number): Promise<ReceivedEvent[]> {
  const out: ReceivedEvent[] = [];
  for await (const e of sub) {
    out.push(e);
    if (out.length === n) break;
  }
  return out;
}

const metric = async (metricsAddress: string, name: string) => {
  const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.split(" ").pop()) : Number.NaN;
};

test("a call publishes a CloudEvent even while NATS is down; it arrives once NATS starts", async (t) => {
  const natsPort = await freePort();
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  const echo = await startEcho({ NATS_URL: natsUrl });
  t.teardown(() => echo.proc.kill());
  const { call, client } = echoClient(echo.address);
  t.teardown(() => client.close());

  // NATS is not running: the call still succeeds at once, the event waits in the outbox.
  const started = Date.now();
  await call({ message: "one", failWith: "publish", token: "e-1" });
  await call({ message: "two", failWith: "publish", token: "e-2" });
  t.true(Date.now() - started < 2_000, "calls do not wait for NATS");
  await waitFor(
    "2 events pending",
    async () => (await metric(echo.metricsAddress, "events_outbox_pending")) === 2,
  );
  t.is(await metric(echo.metricsAddress, "events_nats_connected"), 0);

  const nats = await startNats({ port: natsPort });
  t.teardown(() => nats.stop());
  const sub = createEventSubscriber({ natsUrl, subject: "metal.echo.>", deliver: "all" });
  t.teardown(() => sub.close());
  const got = await firstEvents(sub.received(), 2);
  t.deepEqual(
    got.map((e) => [e.subject, e.event.subject, (e.event.data as { message: string }).message]),
    [
      ["metal.echo.echo.said", "e-1", "one"],
      ["metal.echo.echo.said", "e-2", "two"],
    ],
  );
  t.is(got[0]!.event.specversion, "1.0");
  t.is(got[0]!.msgId, got[0]!.event.id, "Nats-Msg-Id is the event id");
  await waitFor(
    "published on /metrics",
    async () => (await metric(echo.metricsAddress, "events_published_total")) === 2,
  );
  t.is(await metric(echo.metricsAddress, "events_outbox_pending"), 0);
});

test("a second process on the same outbox stops at start instead of sharing it", async (t) => {
  const first = await startEcho();
  t.teardown(() => first.proc.kill());
  const dir = /"EVENTS_OUTBOX_DIR":"([^"]+)"/.exec(first.proc.output())?.[1] ?? "";
  t.truthy(dir, "the effective config names the outbox dir");
  // It may bind its port before the outbox check fails, but it never reports SERVING and exits 1.
  const second = spawnProcess(process.execPath, ["--import", "tsx", ECHO_FIXTURE], {
    env: {
      ...process.env,
      EVENTS_OUTBOX_DIR: dir,
      GRPC_LISTEN: "127.0.0.1:0",
      METRICS_LISTEN: "127.0.0.1:0",
    },
  });
  t.is(await second.exited, 1);
  t.regex(second.output(), /in use by process/);
  t.notRegex(second.output(), /"msg":"serving"/);
});

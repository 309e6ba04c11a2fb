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
import { createEventPublisher, type EventPublisher } from "../src/index.js";
import { formatPretty } from "../src/tail-format.js";
import { captureLogger } from "./helpers.js";

const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));

let nats: NatsServer;
let publisher: EventPublisher;
test.before(async () => {
  nats = await startNats();
  const dir = makeTempDir("outbox-cli-");
  publisher = createEventPublisher({
    service: "clitest",
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

function tail(args: string[]): ManagedProcess {
  return spawnProcess("node", ["--import", "tsx", CLI, "tail", ...args]);
}

const stdoutLines = (p: ManagedProcess) =>
  p
    .output()
    .split("\n")
    .filter((l) => l.length > 0 && !l.startsWith('{"level"'));

async function interrupt(p: ManagedProcess): Promise<number | string> {
  p.child.kill("SIGINT");
  return p.exited;
}

test.serial(
  "tail --all --json prints every event as one CloudEvent JSON line and exits 0 on Ctrl-C",
  async (t) => {
    const sent = [];
    for (let n = 0; n < 3; n++)
      sent.push(await publisher.publish({ entity: "json", action: "made", subject: `m-${n}`, data: { n } }));
    const p = tail(["metal.clitest.json.>", "--all", "--json", "--nats", nats.url]);
    t.teardown(() => p.kill());
    await waitFor("3 JSON lines", () => stdoutLines(p).length >= 3, { timeoutMs: 20_000 });
    t.deepEqual(
      stdoutLines(p).map((l) => JSON.parse(l)),
      sent,
    );
    t.is(await interrupt(p), 0);
  },
);

test.serial(
  "tail prints pretty lines (time, type, subject, id, short data) of new events only",
  async (t) => {
    await publisher.publish({ entity: "pretty", action: "old", data: { old: true } });
    const p = tail(["clitest", "--nats", nats.url]); // a bare service name: metal.clitest.>
    t.teardown(() => p.kill());
    // The consumer starts a moment after the process: publish until the tail shows one.
    let n = 0;
    const sent = new Map<string, Awaited<ReturnType<EventPublisher["publish"]>>>();
    const pump = setInterval(async () => {
      const e = await publisher.publish({
        entity: "pretty",
        action: "made",
        subject: `m-${n}`,
        data: { n: n++, long: "x".repeat(300) },
      });
      sent.set(e.id, e);
    }, 100);
    t.teardown(() => clearInterval(pump));
    await waitFor("a pretty line", () => stdoutLines(p).length >= 2, { timeoutMs: 20_000 });
    clearInterval(pump);
    const lines = stdoutLines(p);
    t.false(
      lines.some((l) => l.includes('"old"')),
      "deliver new must skip stored events",
    );
    for (const line of lines.slice(0, 2)) {
      const [time, type, subject, id, data] = line.split("  ");
      const e = sent.get(id!);
      t.truthy(e, line);
      t.is(line, formatPretty({ event: e!, subject: e!.type, streamSeq: 0, msgId: e!.id }));
      t.is(time, e!.time);
      t.is(type, "metal.clitest.pretty.made");
      t.regex(subject!, /^m-\d+$/);
      t.true(data!.length <= 100 && data!.endsWith("…"), data);
    }
    t.is(await interrupt(p), 0);
  },
);

test("tail names a bad flag and exits 2", async (t) => {
  const p = tail(["--since", "soon"]);
  t.is(await p.exited, 2);
  t.regex(p.output(), /--since "soon" is not a duration/);
  const q = tail(["--bogus"]);
  t.is(await q.exited, 2);
  t.regex(q.output(), /bogus/);
});

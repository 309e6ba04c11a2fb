// GRPC_WORKERS: a primary and its workers, run for real as processes sharing one address.
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  freePort,
  jsonLogs,
  type ManagedProcess,
  makeTempDir,
  spawnProcess,
  waitFor,
} from "@metal-kube/testing";
import test from "ava";
import { ECHO_FIXTURE, echoClient } from "./echo-harness.js";

interface Workers {
  proc: ManagedProcess;
  address: string;
  metrics: string;
  outbox: string;
  logs(): Array<Record<string, unknown>>;
}

async function startWorkers(n: number): Promise<Workers> {
  const outbox = makeTempDir("echo-workers-outbox-");
  const address = `127.0.0.1:${await freePort()}`;
  const metrics = `127.0.0.1:${await freePort()}`;
  const proc = spawnProcess(process.execPath, ["--import", "tsx", ECHO_FIXTURE], {
    env: {
      ...process.env,
      LOG_LEVEL: "info",
      GRPC_WORKERS: String(n),
      GRPC_LISTEN: address,
      METRICS_LISTEN: metrics,
      EVENTS_OUTBOX_DIR: outbox.path,
    },
    keepOutput: 4 * 1024 * 1024,
  });
  const logs = jsonLogs(proc);
  void proc.exited.then(() => outbox.remove());
  await waitFor("every worker serving", () => logs().some((l) => l.msg === "every worker serving"), {
    timeoutMs: 30_000,
  });
  return { proc, address, metrics, outbox: outbox.path, logs };
}

/** A client on a connection of its own (grpc-js shares connections between equal clients otherwise). */
const ownConnection = (address: string) =>
  echoClient(address, undefined, { "grpc.use_local_subchannel_pool": 1 });

test("GRPC_WORKERS=2: both workers serve the one address, /metrics sums them, SIGTERM drains both and exits 0", async (t) => {
  const w = await startWorkers(2);
  t.teardown(() => w.proc.kill());
  const echoLines = () =>
    w.logs().filter((l) => l.msg === "call" && l.method === "/metalstack.echo.v1.EchoService/Echo");
  // The primary hands each new connection to the next free worker; on a busy host one worker can get
  // several in a row, so connections are opened until both have served (at most 40). Log lines are
  // buffered for up to 100 ms, so each round waits for its calls' lines first.
  const clients: Array<ReturnType<typeof ownConnection>> = [];
  let calls = 0;
  const servedBy = () => new Set(echoLines().map((l) => l.worker));
  while (clients.length < 40 && (clients.length < 6 || servedBy().size < 2)) {
    const c = ownConnection(w.address);
    clients.push(c);
    for (let i = 0; i < 5; i++, calls++)
      t.deepEqual(await c.call({ message: `m${i}` }), { message: `m${i}` });
    await waitFor("the calls' log lines", () => echoLines().length >= calls);
  }
  t.deepEqual(
    [...servedBy()].sort(),
    [0, 1],
    `connections are handed to both workers (${clients.length} opened)`,
  );
  t.true(
    existsSync(join(w.outbox, "worker-1")),
    "worker 1 has an outbox of its own; worker 0 keeps the configured one",
  );

  const ready = await fetch(`http://${w.metrics}/readyz`);
  t.is(ready.status, 200);
  const body = await (await fetch(`http://${w.metrics}/metrics`)).text();
  const handled = [
    ...body.matchAll(
      /^grpc_server_handled_total\{[^}]*method="\/metalstack\.echo\.v1\.EchoService\/Echo"[^}]*\} (\d+)$/gm,
    ),
  ];
  t.is(
    handled.reduce((s, m) => s + Number(m[1]), 0),
    calls,
    "the primary's /metrics counts the calls of both workers",
  );

  const inflight = clients[0]?.call({ message: "slow", delayMs: 1200 });
  await new Promise((r) => setTimeout(r, 200));
  w.proc.child.kill("SIGTERM");
  t.deepEqual(await inflight, { message: "slow" }, "a call in flight finishes");
  t.is(await w.proc.exited, 0);
  const lines = w.logs();
  t.is(lines.filter((l) => l.msg === "stopped cleanly").length, 2, "each worker stopped cleanly");
  t.true(lines.some((l) => l.msg === "all workers stopped" && l.exitCode === 0));
});

test("a worker that dies takes the service down: the primary stops the other and exits 1", async (t) => {
  const w = await startWorkers(2);
  t.teardown(() => w.proc.kill());
  // Workers' lines are buffered for up to 100 ms.
  const worker1 = await waitFor("a log line of worker 1", () =>
    w.logs().find((l) => l.worker === 1 && typeof l.pid === "number"),
  );
  process.kill(worker1.pid as number, "SIGKILL");
  t.is(await w.proc.exited, 1);
  const lines = w.logs();
  t.true(lines.some((l) => l.msg === "a worker exited; stopping the others" && l.worker === 1));
  t.true(
    lines.some((l) => l.msg === "stopped cleanly" && l.worker === 0),
    "worker 0 drained",
  );
});

test("GRPC_WORKERS with a unix socket is a config error naming the variable", async (t) => {
  const dir = makeTempDir("echo-workers-sock-");
  t.teardown(() => dir.remove());
  const proc = spawnProcess(process.execPath, ["--import", "tsx", ECHO_FIXTURE], {
    env: {
      ...process.env,
      GRPC_WORKERS: "2",
      GRPC_LISTEN: `unix://${join(dir.path, "echo.sock")}`,
      EVENTS_OUTBOX_DIR: join(dir.path, "outbox"),
    },
  });
  t.is(await proc.exited, 2);
  t.regex(proc.output(), /GRPC_WORKERS/);
});

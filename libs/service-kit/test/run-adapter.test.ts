// runAdapter with a fixture adapter as a real process: config errors exit 2 naming the variable, its own
// /metrics, /healthz and /readyz, its service reached through createServiceClient, SIGTERM exits 0.

import { join } from "node:path";
import { spawnProcess, startServiceProcess } from "@metal-kube/testing";
import test from "ava";
import { startEcho } from "./echo-harness.js";

const ADAPTER = join(import.meta.dirname, "fixtures/echo-adapter.ts");

test("a bad variable of the kit or of the adapter exits 2 naming each", async (t) => {
  const p = spawnProcess(process.execPath, ["--import", "tsx", ADAPTER], {
    env: { ...process.env, ECHO_ADDRESS: "nowhere", ECHO_TIMEOUT: "soon", ADAPTER_METRICS_LISTEN: "x" },
  });
  t.is(await p.exited, 2);
  t.regex(p.output(), /ECHO_ADDRESS: must be host:port or unix:\/\/\/path\/to\.sock/);
  t.regex(p.output(), /ECHO_TIMEOUT/);
  t.regex(p.output(), /ADAPTER_METRICS_LISTEN/);
});

test("the adapter calls its service, serves its own metrics and health, and stops cleanly on SIGTERM", async (t) => {
  const echo = await startEcho();
  t.teardown(() => echo.proc.kill());
  const adapter = await startServiceProcess({
    name: "echo adapter",
    entry: ADAPTER,
    env: { ECHO_ADDRESS: echo.address, ECHO_GREETING: "hi there", LOG_LEVEL: "info" },
    ready: "echo adapter running",
  });
  t.teardown(() => adapter.kill());
  t.is(adapter.ready.reply, "hi there");
  const metricsAddress = String(
    adapter.logs().find((l) => l.msg === "adapter metrics listening")?.metricsAddress,
  );
  const get = (path: string) => fetch(`http://${metricsAddress}${path}`);
  t.is((await get("/healthz")).status, 200);
  t.is((await get("/readyz")).status, 200);
  const metrics = await (await get("/metrics")).text();
  t.regex(metrics, /^echo_adapter_calls_total\{service="echo-adapter"\} 1$/m);
  t.regex(metrics, /process_cpu_user_seconds_total/);
  // The service counted the adapter's call.
  const served = await (await fetch(`http://${echo.metricsAddress}/metrics`)).text();
  t.regex(
    served,
    /grpc_server_handled_total\{[^}]*method="\/metalstack\.echo\.v1\.EchoService\/Echo"[^}]*code="OK"/,
  );
  t.is(await adapter.stop(), 0);
  t.true(adapter.logs().some((l) => l.msg === "stopped cleanly"));
});

// The kit's client against the echo fixture as a real process: promise calls, the server's code and
// message in a ServiceError (grpc-js' error as cause), deadlines, AbortSignal, unix sockets.

import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { EchoServiceClient, EchoServiceService } from "@metal-kube/proto/metalstack/echo/v1/echo";
import { makeTempDir } from "@metal-kube/testing";
import test from "ava";
import { createServiceClient, ServiceError } from "../src/index.js";
import { startEcho } from "./echo-harness.js";

const req = (over: Partial<{ message: string; delayMs: number; failWith: string; token: string }> = {}) => ({
  message: "",
  delayMs: 0,
  failWith: "",
  token: "",
  ...over,
});

test("calls resolve with the response; failures are ServiceErrors with the server's code and message", async (t) => {
  const echo = await startEcho();
  t.teardown(() => echo.proc.kill());
  // The generated client constructor works as well as the definition.
  const client = createServiceClient(EchoServiceClient, { address: echo.address });
  t.teardown(() => client.close());
  t.deepEqual(await client.echo(req({ message: "hi" })), { message: "hi" });

  const invalid = await t.throwsAsync(client.echo(req({ failWith: "invalid" })), {
    instanceOf: ServiceError,
  });
  t.is(invalid?.code, status.INVALID_ARGUMENT);
  t.is(invalid?.message, "message: must not be empty");
  t.is(
    (invalid?.cause as { code?: number } | undefined)?.code,
    status.INVALID_ARGUMENT,
    "grpc-js' error is the cause",
  );
  const quota = await t.throwsAsync(client.echo(req({ failWith: "quota" })), { instanceOf: ServiceError });
  t.is(quota?.code, status.RESOURCE_EXHAUSTED);
  t.is(quota?.message, "quota reached");
});

test("the client's deadline, a call's own deadline, and an AbortSignal end a call", async (t) => {
  const echo = await startEcho();
  t.teardown(() => echo.proc.kill());
  const client = createServiceClient(EchoServiceService, { address: echo.address, timeoutMs: 1000 });
  t.teardown(() => client.close());
  const slow = req({ message: "slow", delayMs: 6000 });
  t.is((await t.throwsAsync<ServiceError>(client.echo(slow)))?.code, status.DEADLINE_EXCEEDED);
  // A longer per-call deadline lets a 1.5 s call finish although the client's is 1 s.
  t.deepEqual(await client.echo(req({ message: "ok", delayMs: 1500 }), { timeoutMs: 10_000 }), {
    message: "ok",
  });
  const abort = new AbortController();
  const started = Date.now();
  setTimeout(() => abort.abort(), 300);
  const cancelled = await t.throwsAsync<ServiceError>(
    client.echo(slow, { signal: abort.signal, timeoutMs: 10_000 }),
  );
  t.is(cancelled?.code, status.CANCELLED);
  t.true(Date.now() - started < 5000, "the abort ended the call, not the deadline");
  // Already aborted: rejected without a call.
  const pre = await t.throwsAsync<ServiceError>(client.echo(slow, { signal: AbortSignal.abort() }));
  t.is(pre?.code, status.CANCELLED);
});

test("unix:///path.sock: waitForReady waits for the service's socket, then calls go through it", async (t) => {
  const dir = makeTempDir("kit-client-");
  t.teardown(dir.remove);
  const address = `unix://${join(dir.path, "echo.sock")}`;
  const client = createServiceClient(EchoServiceService, { address });
  t.teardown(() => client.close());
  // Nothing listens yet: a quick wait fails with UNAVAILABLE naming the address.
  const early = await t.throwsAsync<ServiceError>(client.waitForReady(200));
  t.is(early?.code, status.UNAVAILABLE);
  t.true(early?.message.includes(address));
  const ready = client.waitForReady(30_000);
  const echo = await startEcho({ GRPC_LISTEN: address });
  t.teardown(() => echo.proc.kill());
  await ready;
  t.deepEqual(await client.echo(req({ message: "over the socket" })), { message: "over the socket" });
});

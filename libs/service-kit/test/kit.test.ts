import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { connect as connectHttp2 } from "node:http2";
import { join } from "node:path";
import { credentials, type ServiceError as GrpcError, Metadata, status } from "@grpc/grpc-js";
import { DEFAULT_FLOW_CONTROL_WINDOW_BYTES } from "@metal-kube/service-kit";
import {
  checkHealth,
  healthClient,
  listServicesByReflection,
  makeTempDir,
  waitFor,
} from "@metal-kube/testing";
import test from "ava";
import { echoClient, startEcho } from "./echo-harness.js";

const grpcCode = async (p: Promise<unknown>) => {
  try {
    await p;
    return status.OK;
  } catch (err) {
    return (err as GrpcError).code;
  }
};

test("reflection lists the service and health; health SERVING once ready", async (t) => {
  const echo = await startEcho({ ECHO_READY_AFTER_MS: "4000" });
  t.teardown(() => echo.proc.kill());
  t.is(await checkHealth(echo.address, "metalstack.echo.v1.EchoService"), "NOT_SERVING");
  t.deepEqual(await listServicesByReflection(echo.address), [
    "grpc.health.v1.Health",
    "metalstack.echo.v1.EchoService",
  ]);
  await waitFor(
    "SERVING",
    async () => (await checkHealth(echo.address, "metalstack.echo.v1.EchoService")) === "SERVING",
  );
  t.is(await checkHealth(echo.address, ""), "SERVING");
});

test("SIGTERM: NOT_SERVING, the call in flight finishes, new calls refused, exit 0", async (t) => {
  const echo = await startEcho();
  t.teardown(() => echo.proc.kill());
  await waitFor("SERVING", async () => (await checkHealth(echo.address)) === "SERVING");
  const statuses: string[] = [];
  const watch = healthClient(echo.address).watch({ service: "" });
  watch.on("data", (m: { status: string }) => statuses.push(m.status));
  watch.on("error", () => {});
  const { call } = echoClient(echo.address);
  const inflight = call({ message: "slow", delayMs: 1500 });
  await waitFor("watch sees SERVING", () => statuses.includes("SERVING"));
  await new Promise((r) => setTimeout(r, 200));
  echo.proc.child.kill("SIGTERM");
  await waitFor("watch sees NOT_SERVING", () => statuses.at(-1) === "NOT_SERVING", { timeoutMs: 3000 });
  t.deepEqual(await inflight, { message: "slow" });
  t.is(await echo.proc.exited, 0);
  const lines = echo.logs();
  // Not 1500: a Node timer may fire up to a few ms early against the monotonic clock the kit measures with.
  t.true(
    lines.some((l) => l.msg === "call" && l.code === "OK" && (l.durationMs as number) >= 1450),
    "the call in flight ran to its end",
  );
  t.true(
    lines.some((l) => l.msg === "stopped cleanly"),
    "the last line is written before exit",
  );
  t.not(await grpcCode(echoClient(echo.address).call({ message: "late" }, 1000)), status.OK);
});

test("domain errors map to gRPC codes; internal errors hide their cause", async (t) => {
  const echo = await startEcho();
  t.teardown(() => echo.proc.kill());
  const { call } = echoClient(echo.address);
  const err = (p: Promise<unknown>) =>
    p.then(
      () => t.fail("expected an error"),
      (e: GrpcError) => e,
    );
  const invalid = await err(call({ failWith: "invalid" }));
  t.is(invalid.code, status.INVALID_ARGUMENT);
  t.is(invalid.details, "message: must not be empty");
  t.is((await err(call({ failWith: "not-found" }))).code, status.NOT_FOUND);
  const quota = await err(call({ failWith: "quota" }));
  t.is(quota.code, status.RESOURCE_EXHAUSTED);
  t.is(quota.details, "quota reached");
  const internal = await err(call({ failWith: "boom", token: "tok-123" }));
  t.is(internal.code, status.INTERNAL);
  t.regex(internal.details, /^internal error \(ref [0-9a-f]{8}\)$/);
  t.false(internal.details.includes("tok-123"));
  const ref = /ref ([0-9a-f]{8})/.exec(internal.details)![1];
  await waitFor("error log line", () => echo.logs().find((l) => l.ref === ref && l.level === 50));
  // An upstream's own words may be shown for INTERNAL when the service says so; the cause still is not.
  const upstream = await err(call({ failWith: "upstream", token: "tok-456" }));
  t.is(upstream.code, status.INTERNAL);
  t.regex(upstream.details, /^metal-api said: image not usable \(ref [0-9a-f]{8}\)$/);
  t.false(upstream.details.includes("tok-456"));
  // A budget that survives a loaded host: under 300 ms the call could expire before the server saw it.
  t.is(await grpcCode(call({ message: "x", delayMs: 6000 }, 1000)), status.DEADLINE_EXCEEDED);
  const deadlineLine = await waitFor("deadline log", () =>
    echo.logs().find((l) => l.code === "DEADLINE_EXCEEDED" || l.code === "CANCELLED"),
  );
  t.is(deadlineLine.code, "DEADLINE_EXCEEDED", "the server logs the deadline, not a cancellation");
  t.true((deadlineLine.durationMs as number) < 4000, "the handler's signal was aborted at the deadline");
});

test("a cancel well before the deadline is CANCELLED; one at the deadline's edge is the deadline", async (t) => {
  const echo = await startEcho();
  t.teardown(() => echo.proc.kill());
  const { client } = echoClient(echo.address);
  // The caller's own clock ends the call first when it runs ahead of ours by the transit time.
  const cancelAfter = (message: string, ms: number) =>
    new Promise<void>((resolve) => {
      const req = { message, delayMs: 6000, failWith: "", token: "" };
      const c = client.echo(req, new Metadata(), { deadline: Date.now() + 4000 }, () => resolve());
      setTimeout(() => c.cancel(), ms);
    });
  // The early cancel comes late enough that a loaded host has started the handler (a call cancelled
  // before that is never seen by the service, so it has no line).
  await Promise.all([cancelAfter("early", 1000), cancelAfter("edge", 3985)]);
  const lines = await waitFor(
    "both call lines",
    () => {
      const l = echo.logs().filter((x) => x.msg === "call" && (x.durationMs as number) > 500);
      return l.length === 2 ? l : undefined;
    },
    { timeoutMs: 15_000 },
  );
  const byDuration = lines.sort((a, b) => (a.durationMs as number) - (b.durationMs as number));
  t.is(byDuration[0]?.code, "CANCELLED");
  t.is(byDuration[1]?.code, "DEADLINE_EXCEEDED");
});

test("the server grants a 4 MiB HTTP/2 window per stream and per connection, so large requests need no window updates", async (t) => {
  const echo = await startEcho();
  t.teardown(() => echo.proc.kill());
  const session = connectHttp2(`http://${echo.address}`);
  t.teardown(() => session.close());
  await new Promise<void>((resolve, reject) => {
    session.once("remoteSettings", () => resolve());
    session.once("error", reject);
  });
  t.is(session.remoteSettings.initialWindowSize, DEFAULT_FLOW_CONTROL_WINDOW_BYTES);
  // The connection window arrives as a WINDOW_UPDATE right after the settings.
  await waitFor(
    "connection window",
    () => session.state.remoteWindowSize === DEFAULT_FLOW_CONTROL_WINDOW_BYTES,
  );
});

test("metrics count calls by method and code; /healthz and /readyz", async (t) => {
  const echo = await startEcho();
  t.teardown(() => echo.proc.kill());
  await waitFor("ready", async () => (await fetch(`http://${echo.metricsAddress}/readyz`)).status === 200);
  const { call } = echoClient(echo.address);
  await Promise.all([call({ message: "a" }), call({ message: "b" }), call({ message: "c" })]);
  await grpcCode(call({ failWith: "not-found" }));
  const body = await (await fetch(`http://${echo.metricsAddress}/metrics`)).text();
  const m = "/metalstack.echo.v1.EchoService/Echo";
  const sample = (name: string, labels: Record<string, string>) =>
    body
      .split("\n")
      .find(
        (l) =>
          l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
      )
      ?.split(" ")[1];
  t.is(sample("grpc_server_handled_total", { method: m, code: "OK", service: "echo" }), "3");
  t.is(sample("grpc_server_handled_total", { method: m, code: "NOT_FOUND" }), "1");
  t.is(sample("grpc_server_handling_seconds_count", { method: m }), "4");
  t.is((await fetch(`http://${echo.metricsAddress}/healthz`)).status, 200);
});

test("secrets never appear in logs, even at debug level", async (t) => {
  const echo = await startEcho({ LOG_LEVEL: "debug" });
  t.teardown(() => echo.proc.kill());
  const { call } = echoClient(echo.address);
  await call({ message: "visible", token: "SECRET-TOKEN-1" });
  await grpcCode(call({ failWith: "invalid", token: "SECRET-TOKEN-2" }));
  const line = await waitFor("debug call line", () =>
    echo.logs().find((l) => (l.request as { message?: string })?.message === "visible"),
  );
  t.is((line.request as { token: string }).token, "[REDACTED]");
  t.deepEqual(line.response, { message: "visible" });
  t.false(echo.proc.output().includes("SECRET-TOKEN"));
});

test("a bad config value stops the service naming the variable", async (t) => {
  const echo = startEcho({ GRPC_LISTEN: "not an address", SHUTDOWN_TIMEOUT: "soon" });
  const err = await t.throwsAsync(echo);
  t.regex(err.message, /GRPC_LISTEN: must be host:port or unix:\/\/\/path\/to\.sock/);
  t.regex(err.message, /SHUTDOWN_TIMEOUT: must be a duration/);
  const tlsHalf = await t.throwsAsync(startEcho({ TLS_KEY_FILE: "/nope.key" }));
  t.regex(tlsHalf.message, /TLS_CERT_FILE: is required when TLS_KEY_FILE is set/);
});

test("listens on a unix socket", async (t) => {
  const dir = makeTempDir();
  t.teardown(dir.remove);
  const sock = join(dir.path, "echo.sock");
  const echo = await startEcho({ GRPC_LISTEN: `unix://${sock}` });
  t.teardown(() => echo.proc.kill());
  t.deepEqual(await echoClient(`unix://${sock}`).call({ message: "over a socket" }), {
    message: "over a socket",
  });
});

test("TLS and mutual TLS from PEM files", async (t) => {
  const dir = makeTempDir();
  t.teardown(dir.remove);
  const f = (n: string) => join(dir.path, n);
  const ossl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  writeFileSync(f("san.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  ossl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.pem"),
    "-days",
    "1",
    "-subj",
    "/CN=test-ca",
  );
  for (const who of ["server", "client"]) {
    ossl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      f(`${who}.key`),
      "-out",
      f(`${who}.csr`),
      "-subj",
      `/CN=${who}`,
    );
    ossl(
      "x509",
      "-req",
      "-in",
      f(`${who}.csr`),
      "-CA",
      f("ca.pem"),
      "-CAkey",
      f("ca.key"),
      "-CAcreateserial",
      "-out",
      f(`${who}.pem`),
      "-days",
      "1",
      "-extfile",
      f("san.cnf"),
    );
  }
  const read = (n: string) => readFileSync(f(n));
  const echo = await startEcho({
    TLS_CERT_FILE: f("server.pem"),
    TLS_KEY_FILE: f("server.key"),
    TLS_CLIENT_CA_FILE: f("ca.pem"),
  });
  t.teardown(() => echo.proc.kill());
  const addr = echo.address.replace("127.0.0.1", "localhost");
  const mtls = credentials.createSsl(read("ca.pem"), read("client.key"), read("client.pem"));
  t.deepEqual(await echoClient(addr, mtls).call({ message: "mtls" }), { message: "mtls" });
  const noClientCert = credentials.createSsl(read("ca.pem"));
  t.is(await grpcCode(echoClient(addr, noClientCert).call({ message: "x" }, 3000)), status.UNAVAILABLE);
  t.is(await grpcCode(echoClient(addr).call({ message: "plaintext" }, 3000)), status.UNAVAILABLE);
});

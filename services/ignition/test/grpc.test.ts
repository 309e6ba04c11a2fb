import { randomBytes } from "node:crypto";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { Purpose, SpecVersion } from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import type { ServiceError } from "@metal-kube/service-kit";
import { checkHealth, listServicesByReflection, spawnProcess, startNats, waitFor } from "@metal-kube/testing";
import test from "ava";
import { connect } from "nats";
import { createRecordingEventSink } from "../src/events.js";
import { createRenderer } from "../src/renderer.js";
import { createIgnitionService } from "../src/service.js";
import { b64File, ignitionFiles, ignitionValidate, plainFile, request, secretFile, unit } from "./helpers.js";
import { type IgnitionServer, ignitionClient, SERVER_MAIN, startIgnitionServer } from "./server-harness.js";

let server: IgnitionServer;
test.before(async () => {
  server = await startIgnitionServer();
});
test.after.always(async () => {
  await server?.stop();
});

test("the service is SERVING, lists IgnitionRenderer by reflection and serves /metrics", async (t) => {
  t.is(await checkHealth(server.address), "SERVING");
  t.is(await checkHealth(server.address, "metalstack.ignition.v1.IgnitionRenderer"), "SERVING");
  t.true(
    (await listServicesByReflection(server.address)).includes("metalstack.ignition.v1.IgnitionRenderer"),
  );
  const metrics = await (await fetch(`http://${server.metricsAddress}/metrics`)).text();
  t.regex(metrics, /grpc|rpc/);
});

test("Render through gRPC: user data that ignition-validate accepts, secret content included", async (t) => {
  const { client, render } = ignitionClient(server.address);
  t.teardown(() => client.close());
  const res = await render(
    request({
      files: [
        plainFile("/etc/a.conf", "a=1\n"),
        secretFile("/etc/token", Buffer.from("t0k3n")),
        b64File("/opt/x", Buffer.alloc(10_000, 7)),
      ],
      units: [
        unit("kubelet.service", {
          content: "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
        }),
      ],
      providerConfig: { networkIsolation: { dnsServers: ["10.0.0.2"], ntpServers: [], registryMirrors: [] } },
    }),
  );
  t.is(res.specVersion, "3.3.0");
  t.regex(res.sha256, /^[0-9a-f]{64}$/);
  const v = await ignitionValidate(res.userData);
  t.true(v.ok, v.output);
  const files = ignitionFiles(JSON.parse(res.userData.toString()));
  t.is(files.get("/etc/token")?.data.toString(), "t0k3n");
  t.is(files.get("/opt/x")?.compression, "gzip");
  t.true(res.extensionFiles.some((f) => f.path === "/etc/resolv.conf"));
});

test("the adapter's client takes user data beyond grpc-js's 4 MiB default", async (t) => {
  const { client, render } = ignitionClient(server.address);
  t.teardown(() => client.close());
  // Random bytes do not compress: the user data carries all 6 MiB (as base64).
  const res = await render(request({ files: [b64File("/opt/blob", randomBytes(6 * 1024 * 1024))] }));
  t.true(res.userData.length > 6 * 1024 * 1024);
});

test("bad input comes back as INVALID_ARGUMENT whose message names the file or unit", async (t) => {
  const { client, render } = ignitionClient(server.address);
  t.teardown(() => client.close());
  const err = await t.throwsAsync<ServiceError>(
    render(request({ files: [plainFile("/etc/a", "x", 0o17777)], units: [unit("kubelet")] })),
  );
  t.is(err?.code, GrpcStatus.INVALID_ARGUMENT);
  t.regex(err?.message ?? "", /^files\[0\] \(\/etc\/a\): invalid mode 0o17777/);
  t.regex(err?.message ?? "", /units\[0\] \(kubelet\): name must end in a unit type suffix/);
});

test("reconcile through gRPC returns no user data, only the extension files and units", async (t) => {
  const { client, render } = ignitionClient(server.address);
  t.teardown(() => client.close());
  const res = await render(request({ purpose: Purpose.PURPOSE_RECONCILE }));
  t.is(res.userData.length, 0);
  t.deepEqual(
    res.extensionUnits.map((u) => u.name),
    ["containerd.service"],
  );
});

test("IGNITION_SPEC_VERSION sets the default spec; a bad value stops the process naming the variable", async (t) => {
  const v2 = await startIgnitionServer({ IGNITION_SPEC_VERSION: "2.3.0" });
  t.teardown(() => v2.stop());
  const { client, render } = ignitionClient(v2.address);
  t.teardown(() => client.close());
  t.is((await render(request())).specVersion, "2.3.0");
  t.is((await render(request({ specVersion: SpecVersion.SPEC_VERSION_3_3_0 }))).specVersion, "3.3.0");

  const bad = spawnProcess(process.execPath, ["--import", "tsx", SERVER_MAIN], {
    env: {
      ...process.env,
      IGNITION_SPEC_VERSION: "4.0.0",
      GRPC_LISTEN: "127.0.0.1:0",
      METRICS_LISTEN: "127.0.0.1:0",
    },
  });
  t.is(await bad.exited, 2);
  t.regex(bad.output(), /IGNITION_SPEC_VERSION/);
});

test("the service emits rendered and render-failed events with OSC name, checksum and size", async (t) => {
  const sink = createRecordingEventSink();
  const svc = createIgnitionService({ renderer: createRenderer(), events: sink });
  const handler = svc.handlers.render as (
    req: unknown,
    ctx: unknown,
  ) => Promise<{ sha256: string; userData: Buffer }>;
  const ok = await handler(request({ files: [plainFile("/etc/a", "a")] }), {});
  await t.throwsAsync(handler(request({ units: [unit("bad")] }), {}));
  t.deepEqual(
    sink.events.map((e) => e.action),
    ["rendered", "render-failed"],
  );
  t.like(sink.events[0]?.data, {
    namespace: "shoot--p--c",
    name: "osc-worker-a",
    checksum: ok.sha256,
    size: ok.userData.length,
    purpose: "provision",
    specVersion: "3.3.0",
  });
  t.like(sink.events[1]?.data, { name: "osc-worker-a", code: "INVALID_ARGUMENT", field: "units[0] (bad)" });
});

test("events metal.ignition.osc.{rendered,render-failed} reach NATS JetStream from the real service", async (t) => {
  const nats = await startNats();
  t.teardown(() => nats.stop());
  const withNats = await startIgnitionServer({ NATS_URL: nats.url });
  t.teardown(() => withNats.stop());
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  const seen: Array<{
    subject: string;
    event: { type: string; subject?: string; data: Record<string, unknown> };
  }> = [];
  const sub = nc.subscribe("metal.ignition.osc.>");
  void (async () => {
    for await (const msg of sub) seen.push({ subject: msg.subject, event: JSON.parse(msg.string()) });
  })();
  await nc.flush();
  const { client, render } = ignitionClient(withNats.address);
  t.teardown(() => client.close());
  const ok = await render(request({ files: [plainFile("/etc/a", "a")] }));
  await t.throwsAsync(render(request({ units: [unit("kubelet")] })));
  await waitFor("2 events", () => seen.length >= 2, { timeoutMs: 20_000 });
  t.deepEqual(
    seen.map((s) => s.subject),
    ["metal.ignition.osc.rendered", "metal.ignition.osc.render-failed"],
  );
  t.is(seen[0]?.event.subject, "shoot--p--c/osc-worker-a");
  t.like(seen[0]?.event.data, { name: "osc-worker-a", checksum: ok.sha256, size: ok.userData.length });
  t.like(seen[1]?.event.data, {
    name: "osc-worker-a",
    code: "INVALID_ARGUMENT",
    field: "units[0] (kubelet)",
  });
});

// `npm start` as a newcomer runs it: NATS, the emulator and every service that exists come up; grpcurl
// (built from its Go module) lists each service by reflection and sees it SERVING; Ctrl-C stops it all.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { get as httpGet } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { ApiextensionsV1Api, CoordinationV1Api, KubeConfig } from "@kubernetes/client-node";
import { ensureGrpcurl } from "@metal-kube/e2e";
import { type ManagedProcess, makeTempDir, spawnProcess, waitFor } from "@metal-kube/testing";
import test, { type ExecutionContext } from "ava";
import { connect } from "nats";
import {
  EMULATOR_PORT,
  GRPC_SERVICES,
  NATS_MONITOR_PORT,
  NATS_PORT,
  ROOT,
  serviceEntry,
} from "../../scripts/stack.js";

const run = promisify(execFile);

/** Every port a stack at this offset listens on. */
const stackPorts = (offset: number) =>
  [NATS_PORT, NATS_MONITOR_PORT, EMULATOR_PORT, ...GRPC_SERVICES.flatMap((s) => [s.port, s.metricsPort])].map(
    (p) => p + offset,
  );

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });

/**
 * An offset (in steps of 10 from `start`) whose ports are all free now. The stack's gRPC ports lie in
 * the kernel's ephemeral range, where other tests' connections and listeners come and go.
 */
async function freeOffset(start: number): Promise<number> {
  for (let offset = start; offset < start + 5_000; offset += 10) {
    const free = await Promise.all(stackPorts(offset).map(portFree));
    if (free.every(Boolean)) return offset;
  }
  throw new Error(`no offset from ${start} with all stack ports free`);
}

/**
 * Runs scripts/start.ts (what `npm start` runs) with a free port offset and its own work dir, until it is
 * up. A port taken between the check and the bind (EADDRINUSE) moves the stack to another offset; any
 * other failure fails the test.
 */
async function startStack(
  t: ExecutionContext,
  start: number,
  flags: string[],
): Promise<{ stack: ManagedProcess; offset: number }> {
  for (let attempt = 1; ; attempt++) {
    const offset = await freeOffset(start);
    try {
      return { stack: await startStackAt(t, offset, flags), offset };
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
      t.log(`a port of offset ${offset} was taken meanwhile; trying another`);
      start = offset + 10;
    }
  }
}

async function startStackAt(t: ExecutionContext, offset: number, flags: string[]) {
  const work = makeTempDir("stack-");
  t.teardown(() => work.remove());
  const stack = spawnProcess(
    process.execPath,
    [
      "--import",
      "tsx",
      join(ROOT, "scripts/start.ts"),
      ...flags,
      "--port-offset",
      String(offset),
      "--work-dir",
      work.path,
    ],
    { cwd: ROOT, keepOutput: 256 * 1024 },
  );
  t.teardown(() => stack.kill());
  const exited = stack.exited.then((code) => {
    throw new Error(`npm start exited with ${code}: ${stack.output()}`);
  });
  await Promise.race([
    exited,
    waitFor("the stack", () => stack.output().includes("local stack is up") || undefined, {
      timeoutMs: 150_000,
    }),
  ]);
  exited.catch(() => {});
  return stack;
}

test("npm start brings up NATS, the emulator and the services; grpcurl sees reflection and health; Ctrl-C stops all", async (t) => {
  const grpcurl = (await ensureGrpcurl()).path;
  // An offset away from the default ports, so a developer's running stack does not collide.
  const { stack, offset } = await startStack(t, 1_000 + (process.pid % 1_000) * 10, []);

  const expected = GRPC_SERVICES.filter((s) => serviceEntry(s.name));
  t.true(expected.length > 0, "at least one service exists");
  for (const svc of expected) {
    const address = `127.0.0.1:${svc.port + offset}`;
    const { stdout: list } = await run(grpcurl, ["-plaintext", address, "list"]);
    t.true(list.split("\n").includes(svc.grpcService), `${svc.name}: grpcurl list shows ${svc.grpcService}`);
    t.true(list.includes("grpc.health.v1.Health"), `${svc.name}: health service listed`);
    const { stdout: described } = await run(grpcurl, ["-plaintext", address, "describe", svc.grpcService]);
    t.regex(described, /is a service:/, `${svc.name}: describe works`);
    const { stdout: health } = await run(grpcurl, [
      "-plaintext",
      "-d",
      JSON.stringify({ service: svc.grpcService }),
      address,
      "grpc.health.v1.Health/Check",
    ]);
    t.regex(health, /"status": "SERVING"/, `${svc.name}: SERVING`);
    t.true(stack.output().includes(`grpc ${address}`), `${svc.name} is in the endpoint table`);
  }

  const nc = await connect({ servers: `nats://127.0.0.1:${NATS_PORT + offset}` });
  const info = await (await nc.jetstreamManager()).getAccountInfo();
  t.truthy(info, "JetStream is on");
  await nc.close();

  if (serviceEntry("metal-api-emulator")) {
    // node:http: fetch refuses some ports an offset can land on.
    const status = await new Promise<number>((resolve, reject) =>
      httpGet(`http://127.0.0.1:${EMULATOR_PORT + offset}/v1/health`, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).once("error", reject),
    );
    t.is(status, 200, "emulator health");
  }

  stack.child.kill("SIGINT");
  t.is(await stack.exited, 0, "Ctrl-C exits 0");
  t.true(stack.output().includes("stopped"));
  // Every part is gone: its ports no longer accept connections.
  for (const svc of expected) {
    await t.throwsAsync(
      run(grpcurl, ["-plaintext", "-max-time", "2", `127.0.0.1:${svc.port + offset}`, "list"]),
    );
  }
});

test("npm start -- --testbed starts a local apiserver with the upstream CRDs and turns the adapters on", async (t) => {
  // 5 ports above the first test's, which may run at the same time.
  // Offsets ending in 5: never the other test's ports.
  const { stack } = await startStack(t, 1_005 + (process.pid % 1_000) * 10, ["--testbed"]);
  const kubeconfig = /Kubernetes adapters\s+on, KUBECONFIG=(\S+)/.exec(stack.output())?.[1];
  t.truthy(kubeconfig, "the table says the adapters are on and names the kubeconfig");

  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig!);
  const crds = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
  const names = crds.items.map((c) => c.metadata?.name);
  for (const crd of [
    "machines.machine.sapcloud.io",
    "operatingsystemconfigs.extensions.gardener.cloud",
    "ipaddresspools.metallb.io",
    "clusterwidenetworkpolicies.metal-stack.io",
  ])
    t.true(names.includes(crd), `${crd} installed`);
  // The ccm's adapter runs in the service process when KUBECONFIG is set: it takes its leader Lease.
  if (serviceEntry("ccm")) {
    const coordination = kc.makeApiClient(CoordinationV1Api);
    const lease = await waitFor(
      "the ccm adapter's Lease",
      () =>
        coordination
          .readNamespacedLease({ name: "metal-kube-ccm", namespace: "kube-system" })
          .then((l) => l.spec?.holderIdentity || undefined)
          .catch(() => undefined),
      { timeoutMs: 60_000 },
    );
    t.truthy(lease, "a ccm adapter holds the Lease");
  }

  stack.child.kill("SIGINT");
  t.is(await stack.exited, 0, "Ctrl-C exits 0");
  t.false(existsSync(kubeconfig!), "the test bed's files are removed on Ctrl-C");
});

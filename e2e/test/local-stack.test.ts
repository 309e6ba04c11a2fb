// `npm start` as a newcomer runs it: NATS, the emulator and every service that exists come up; grpcurl
// (built from its Go module) lists each service by reflection and sees it SERVING; Ctrl-C stops it all.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { get as httpGet } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { ApiextensionsV1Api, CoordinationV1Api, KubeConfig } from "@kubernetes/client-node";
import { ensureGrpcurl } from "@metal-kube/e2e";
import { makeTempDir, spawnProcess, waitFor } from "@metal-kube/testing";
import test, { type ExecutionContext } from "ava";
import { connect } from "nats";
import { EMULATOR_PORT, GRPC_SERVICES, NATS_PORT, ROOT, serviceEntry } from "../../scripts/stack.js";

const run = promisify(execFile);

/** Runs scripts/start.ts (what `npm start` runs) with a port offset and its own work dir, until it is up. */
async function startStack(t: ExecutionContext, offset: number, flags: string[]) {
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
  const offset = 1_000 + (process.pid % 1_000) * 10;
  const stack = await startStack(t, offset, []);

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
  const stack = await startStack(t, 1_005 + (process.pid % 1_000) * 10, ["--testbed"]);
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

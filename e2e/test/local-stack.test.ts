// `npm start` as a newcomer runs it: NATS, the emulator and every service that exists come up; grpcurl
// (built from its Go module) lists each service by reflection and sees it SERVING; Ctrl-C stops it all.
import { execFile, spawn } from "node:child_process";
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
  adapterEntry,
  EMULATOR_PORT,
  GRPC_SERVICES,
  NATS_MONITOR_PORT,
  NATS_PORT,
  ROOT,
  serviceEntry,
} from "../../scripts/stack.js";

const run = promisify(execFile);

/** Every port a stack at this offset listens on (the adapters' only with a cluster). */
const stackPorts = (offset: number) =>
  [
    NATS_PORT,
    NATS_MONITOR_PORT,
    EMULATOR_PORT,
    ...GRPC_SERVICES.flatMap((s) => [
      s.port,
      s.metricsPort,
      s.adapterMetricsPort,
      ...Object.values(s.localPorts ?? {}),
    ]),
  ].map((p) => p + offset);

/** The same ports, each named by its part, so a port left taken says whose it is. */
const namedStackPorts = (offset: number): Array<[string, number]> => [
  ["nats", NATS_PORT + offset],
  ["nats monitor", NATS_MONITOR_PORT + offset],
  ["metal-api emulator", EMULATOR_PORT + offset],
  ...GRPC_SERVICES.flatMap(
    (s): Array<[string, number]> => [
      [`${s.name} grpc`, s.port + offset],
      [`${s.name} metrics`, s.metricsPort + offset],
      [`${s.name} adapter metrics`, s.adapterMetricsPort + offset],
      ...Object.entries(s.localPorts ?? {}).map(([n, p]): [string, number] => [`${s.name} ${n}`, p + offset]),
    ],
  ),
];

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The one line of the stack's output matching `re` (indent trimmed): a command as a user would copy it. */
function printedLine(output: string, re: RegExp): string | undefined {
  return output
    .split("\n")
    .map((l) => l.trim())
    .find((l) => re.test(l));
}

/** Runs a printed command as pasted into a shell, quoting included. */
const pasted = (line: string) => run("/bin/sh", ["-c", line], { timeout: 30_000 });

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
  const output = stack.output();
  // The table's grpcurl commands are run as printed (through a shell, quoting and all): what a newcomer
  // pastes must name the right address and work, not merely look right.
  const gc = "\\S*grpcurl\\S*";
  for (const svc of expected) {
    const address = `127.0.0.1:${svc.port + offset}`;
    const at = escapeRegExp(address);
    t.true(
      output.includes(`grpc ${address}  metrics http://127.0.0.1:${svc.metricsPort + offset}/metrics`),
      `${svc.name} is in the endpoint table with its gRPC and metrics address`,
    );

    const listLine = printedLine(output, new RegExp(`^${gc} -plaintext ${at} list$`));
    if (!listLine) return t.fail(`${svc.name}: no "grpcurl -plaintext ${address} list" in:\n${output}`);
    const { stdout: list } = await pasted(listLine);
    t.true(list.split("\n").includes(svc.grpcService), `${svc.name}: grpcurl list shows ${svc.grpcService}`);
    t.true(list.includes("grpc.health.v1.Health"), `${svc.name}: health service listed`);

    const describeLine = printedLine(
      output,
      new RegExp(`^${gc} -plaintext ${at} describe ${escapeRegExp(svc.grpcService)}$`),
    );
    if (!describeLine)
      return t.fail(`${svc.name}: no grpcurl describe command for ${address} in:\n${output}`);
    const { stdout: described } = await pasted(describeLine);
    t.regex(described, /is a service:/, `${svc.name}: describe works`);

    const healthLine = printedLine(
      output,
      new RegExp(
        `^${gc} -plaintext -d '${escapeRegExp(JSON.stringify({ service: svc.grpcService }))}' ${at} grpc\\.health\\.v1\\.Health/Check$`,
      ),
    );
    if (!healthLine)
      return t.fail(`${svc.name}: no grpcurl Health/Check command for ${address} in:\n${output}`);
    const { stdout: health } = await pasted(healthLine);
    t.regex(health, /"status": "SERVING"/, `${svc.name}: SERVING`);
  }

  const natsUrl = `nats://127.0.0.1:${NATS_PORT + offset}`;
  const nc = await connect({ servers: natsUrl });
  const info = await (await nc.jetstreamManager()).getAccountInfo();
  t.truthy(info, "JetStream is on");

  // The printed events tail command reads the stack's stream: an event published now shows up in it.
  const tailLine = printedLine(
    output,
    new RegExp(`^npm run events -- tail --nats ${escapeRegExp(natsUrl)}$`),
  );
  if (!tailLine) return t.fail(`no "npm run events -- tail --nats ${natsUrl}" in:\n${output}`);
  const id = `local-stack-probe-${process.pid}-${Date.now()}`;
  // --all: the probe may be published before the tail's consumer exists. Its own process group, so the
  // shell, npm and the CLI all stop together.
  const tail = spawn("/bin/sh", ["-c", `${tailLine} --all --json`], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const stopTail = () => {
    try {
      if (tail.pid) process.kill(-tail.pid, "SIGKILL");
    } catch {
      // The group is already gone.
    }
  };
  t.teardown(stopTail);
  let tailed = "";
  tail.stdout.on("data", (d: Buffer) => {
    tailed += d.toString();
  });
  tail.stderr.on("data", (d: Buffer) => {
    tailed += d.toString();
  });
  const event = {
    specversion: "1.0",
    id,
    source: "e2e/local-stack",
    type: "metal.e2e.probe.created",
    time: new Date().toISOString(),
    datacontenttype: "application/json",
    data: { probe: true },
  };
  await nc.jetstream().publish("metal.e2e.probe.created", JSON.stringify(event), { msgID: id });
  await waitFor("the probe event in events tail", () => tailed.includes(id) || undefined, {
    timeoutMs: 60_000,
  }).catch(() => t.fail(`events tail did not show ${id}:\n${tailed}`));
  stopTail();
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
  // Every part is gone: no gRPC port answers, and every port of the stack (NATS, its monitor, the emulator,
  // each gRPC and metrics port) can be bound again, so a second `npm start` finds them free. start.ts exits
  // only after every part has, so a short grace covers the kernel's teardown, not a part still running.
  for (const svc of expected) {
    await t.throwsAsync(
      run(grpcurl, ["-plaintext", "-max-time", "2", `127.0.0.1:${svc.port + offset}`, "list"]),
    );
  }
  const ports = namedStackPorts(offset);
  t.deepEqual(
    ports.map(([, p]) => p).sort((a, b) => a - b),
    stackPorts(offset).sort((a, b) => a - b),
    "every stack port is checked",
  );
  let taken: string[] = [];
  for (const end = Date.now() + 5_000; ; ) {
    const free = await Promise.all(ports.map(([, p]) => portFree(p)));
    taken = ports.filter((_, i) => !free[i]).map(([name, p]) => `${name} (${p})`);
    if (taken.length === 0 || Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  t.deepEqual(taken, [], "every stack port is free after Ctrl-C");
});

test("npm start -- --testbed starts a local apiserver with the upstream CRDs and turns the adapters on", async (t) => {
  // 5 ports above the first test's, which may run at the same time.
  // Offsets ending in 5: never the other test's ports.
  const { stack, offset } = await startStack(t, 1_005 + (process.pid % 1_000) * 10, ["--testbed"]);
  const kubeconfig = /Kubernetes adapters\s+on, KUBECONFIG=(\S+)/.exec(stack.output())?.[1];
  t.truthy(kubeconfig, "the table says the adapters are on and names the kubeconfig");
  // Each service's adapter is a process of its own, in the table with the service it calls, and ready.
  const withAdapter = GRPC_SERVICES.filter((s) => serviceEntry(s.name) && adapterEntry(s.name));
  t.true(withAdapter.length > 0, "at least one service has an adapter");
  for (const svc of withAdapter) {
    const metrics = `http://127.0.0.1:${svc.adapterMetricsPort + offset}`;
    t.true(
      stack
        .output()
        .includes(
          `${svc.name}-adapter`.padEnd(20) +
            `  -> 127.0.0.1:${svc.port + offset}  metrics ${metrics}/metrics`,
        ),
      `${svc.name}-adapter is in the table with its service and metrics address`,
    );
    const ready = await new Promise<number>((resolve, reject) =>
      httpGet(`${metrics}/readyz`, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).once("error", reject),
    );
    t.is(ready, 200, `${svc.name}-adapter is ready`);
  }

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
  // The ccm's adapter process, started because a cluster is given, takes its leader Lease.
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

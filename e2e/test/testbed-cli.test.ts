import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { ApiextensionsV1Api, VersionApi } from "@kubernetes/client-node";
import { spawnProcess, waitFor } from "@metal-kube/testing";
import test from "ava";
import { KUBERNETES_VERSION, loadKubeConfig } from "../src/index.js";

const cli = join(import.meta.dirname, "..", "src", "testbed-cli.ts");

test("npm run testbed: prints the admin kubeconfig, serves it, and Ctrl-C stops everything", async (t) => {
  const proc = spawnProcess(process.execPath, ["--import", "tsx", cli, "--crds=machines,ipaddresspools"]);
  t.teardown(() => proc.kill());
  const kubeconfig = await waitFor(
    "the kubeconfig path on stdout",
    () => {
      if (proc.child.exitCode !== null) throw new Error(`testbed exited: ${proc.output()}`);
      return /^ {2}export KUBECONFIG=(\S+)$/m.exec(proc.output())?.[1];
    },
    { timeoutMs: 90_000, intervalMs: 100 },
  );
  t.regex(proc.output(), /nats +nats:\/\/127\.0\.0\.1:\d+ \(JetStream\)/);
  const kc = loadKubeConfig(kubeconfig);
  t.is((await kc.makeApiClient(VersionApi).getCode()).gitVersion, KUBERNETES_VERSION);
  const crds = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
  t.deepEqual(crds.items.map((c) => c.metadata?.name).sort(), [
    "ipaddresspools.metallb.io",
    "machines.machine.sapcloud.io",
  ]);

  const bedDir = dirname(kubeconfig);
  const running = () =>
    execFileSync("ps", ["-eo", "args="], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.includes(bedDir) && !l.startsWith("ps "));
  t.true(running().length >= 2, "etcd and kube-apiserver run with files in the bed's dir");

  proc.child.kill("SIGINT");
  t.is(await proc.exited, 0);
  t.false(existsSync(bedDir));
  t.deepEqual(running(), []);
});

test("npm run testbed rejects an unknown CRD name, naming the known ones", async (t) => {
  const proc = spawnProcess(process.execPath, ["--import", "tsx", cli, "--crds=machines,widgets"]);
  t.is(await proc.exited, 2);
  t.regex(proc.output(), /--crds: unknown widgets; known: machines, .*ipaddresspools/);
});

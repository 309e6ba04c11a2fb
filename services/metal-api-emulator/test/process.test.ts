import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createMetalApiClient, isForbidden } from "@metal-kube/metal-api";
import { freePort, makeTempDir, spawnProcess, startServiceProcess, waitFor } from "@metal-kube/testing";
import test, { type ExecutionContext } from "ava";
import { allocation } from "./harness.js";

// The emulator as `npm run emulator` starts it: configured from the environment, stopped by SIGTERM.
const MAIN = join(import.meta.dirname, "..", "src", "main.ts");

/** A free port, a state file in a temp dir removed after the test, a quick provisioning clock. */
async function processEnv(t: ExecutionContext, prefix: string, extra: Record<string, string>) {
  const dir = makeTempDir(prefix);
  t.teardown(dir.remove);
  const port = await freePort();
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    EMULATOR_STATE_FILE: join(dir.path, "state.json"),
    EMULATOR_PROVISION_STEP: "50ms",
    ...extra,
  };
  return { port, env };
}

/** Starts the emulator process with `env` and waits until it answers its health check. */
async function startProcess(t: ExecutionContext, env: Record<string, string | undefined>) {
  const p = await startServiceProcess({
    name: "metal-api emulator",
    entry: MAIN,
    env,
    ready: async () => (await fetch(`http://127.0.0.1:${env.PORT}/v1/health`).catch(() => undefined))?.ok,
    timeoutMs: 30_000,
  });
  t.teardown(() => p.kill());
  return p;
}

test("runs from env config, signs with the configured keys, keeps state across a SIGTERM restart", async (t) => {
  const { port, env } = await processEnv(t, "emulator-process-", {
    METAL_API_HMAC_EDIT_KEY: "edit-from-env",
    LOG_LEVEL: "info",
  });
  const start = () => startProcess(t, env);
  const p1 = await start();
  const url = `http://127.0.0.1:${port}`;
  const c = createMetalApiClient({ url, hmac: "edit-from-env" });
  t.teardown(() => c.close());
  t.true(isForbidden(await t.throwsAsync(createMetalApiClient({ url, hmac: "metal-edit" }).size.list())));
  t.is((await c.partition.list()).length, 2, "the shipped inventory");
  t.is((await c.machine.find({})).length, 240);
  const net = await c.network.allocate({ partitionid: "fra-equ01", projectid: "p" });
  t.is(await p1.stop(), 0);
  t.true(existsSync(env.EMULATOR_STATE_FILE));
  t.notRegex(p1.output(), /edit-from-env/, "keys are never logged");
  t.regex(p1.output(), /METAL_API_HMAC_EDIT_KEY":"\[REDACTED\]"/);
  t.true(readFileSync(env.EMULATOR_STATE_FILE, "utf8").includes(net.id));
  await start();
  t.deepEqual((await c.network.get(net.id)).prefixes, net.prefixes);
});

test("kill -9 right after the answers loses nothing: the allocation, its IPs, a static IP and a network come back", async (t) => {
  const { port, env } = await processEnv(t, "emulator-kill9-", { LOG_LEVEL: "warn" });
  const p1 = await startProcess(t, env);
  const c = createMetalApiClient({ url: `http://127.0.0.1:${port}`, hmac: "metal-edit" });
  t.teardown(() => c.close());
  const net = await c.network.allocate({ partitionid: "fra-equ01", projectid: "proj-k", name: "k-nodes" });
  // the IP and the machine in parallel, so their writes can share one group commit; the kill comes the
  // moment both answers are in, before any later write could carry them to disk
  const [ip, m] = await Promise.all([
    c.ip.allocate({
      networkid: "internet",
      projectid: "proj-k",
      type: "static",
      name: "ingress",
      tags: ["cluster.metal-stack.io/id=k"],
    }),
    c.machine.allocate(
      allocation(net.id, {
        projectid: "proj-k",
        partitionid: "fra-equ01",
        name: "k-w1",
        hostname: "k-w1",
        tags: ["cluster.metal-stack.io/id=k"],
        placement_tags: [],
      }),
    ),
  ]);
  t.is(await p1.kill(), "SIGKILL");

  await startProcess(t, env);
  const back = await c.machine.get(m.id);
  t.is(back.allocation?.allocationuuid, m.allocation!.allocationuuid);
  t.is(back.allocation?.hostname, "k-w1");
  t.deepEqual(back.allocation?.networks, m.allocation!.networks);
  t.true(back.tags.includes("cluster.metal-stack.io/id=k"));
  const machineIps = m.allocation!.networks.flatMap((n) => n.ips);
  t.true(machineIps.length >= 2);
  t.deepEqual(
    (await c.ip.find({ machineid: m.id })).map((i) => i.ipaddress).sort(),
    machineIps.sort(),
    "the machine's auto-acquired IPs",
  );
  const ipBack = await c.ip.get(ip.ipaddress);
  t.is(ipBack.type, "static");
  t.deepEqual(ipBack.tags, ["cluster.metal-stack.io/id=k"]);
  const netBack = await c.network.get(net.id);
  t.deepEqual(netBack.prefixes, net.prefixes);
  t.is(netBack.projectid, "proj-k");
  // and the restarted emulator carries on: the machine provisions, the network still counts as taken
  await waitFor("Phoned Home after the restart", async () => {
    const g = await c.machine.get(m.id);
    return g.events.log[0]?.event === "Phoned Home";
  });
  const other = await c.network.allocate({ partitionid: "fra-equ01", projectid: "proj-k" });
  t.notDeepEqual(other.prefixes, net.prefixes);
});

test("a bad variable stops the start with its name", async (t) => {
  const p = spawnProcess(process.execPath, ["--import", "tsx", MAIN], {
    env: { ...process.env, PORT: "eighty", EMULATOR_FAULT_ERROR_RATE: "2", EMULATOR_PERSIST: "false" },
  });
  t.is(await p.exited, 2);
  t.regex(p.output(), /PORT/);
  t.regex(p.output(), /EMULATOR_FAULT_ERROR_RATE/);
});

test("a broken inventory stops the start naming the field", async (t) => {
  const dir = makeTempDir("emulator-badinv-");
  t.teardown(dir.remove);
  const file = join(dir.path, "inv.yaml");
  const { writeFileSync } = await import("node:fs");
  writeFileSync(file, "partitions: []\nsizes: []\n");
  const p = spawnProcess(process.execPath, ["--import", "tsx", MAIN], {
    env: {
      ...process.env,
      PORT: String(await freePort()),
      EMULATOR_INVENTORY: file,
      EMULATOR_PERSIST: "false",
    },
  });
  t.is(await p.exited, 2);
  t.regex(p.output(), /partitions/);
  t.regex(p.output(), /images/);
});

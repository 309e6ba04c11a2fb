// The driver over real gRPC (unix socket) against the real metal-api emulator.

import { setTimeout as sleep } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import type { MachineResponse } from "@metal-kube/metal-api";
import { checkHealth, listServicesByReflection, startNats, waitFor } from "@metal-kube/testing";
import test from "ava";
import { connect } from "nats";
import {
  CLUSTER,
  driverClient,
  EDIT_KEY,
  grpcCode,
  type MetalBed,
  PROJECT,
  smallInventory,
  startDriver,
  startMetal,
} from "./driver-harness.js";

const USER_DATA = '{"ignition":{"version":"3.3.0"},"passwd":"bootstrap-token-xyz.123"}';
const CLUSTER_TAG = `cluster.metal-stack.io/id=${CLUSTER}`;

function classFor(bed: MetalBed, over: Record<string, unknown> = {}) {
  return {
    name: "shoot--p--c-worker-a-z1-abc12",
    provider: "metal",
    nodeTemplate: undefined,
    providerSpec: JSON.stringify({
      partition: "p1",
      size: "c1-large-x86",
      image: "ubuntu-24.04",
      project: PROJECT,
      network: bed.networkId,
      tags: [CLUSTER_TAG, "kubernetes.io/role=node", "worker.gardener.cloud/pool=worker-a"],
      sshKeys: [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmmRyX0eIGkLWSMW3k0RbOAyShNNJVpqBWdLcAYG6Nj it@example",
      ],
      dnsServers: [{ ip: "1.1.1.1" }],
      ntpServers: [{ address: "pool.ntp.org" }],
      ...over,
    }),
  };
}

function secretFor(bed: MetalBed, over: Record<string, unknown> = {}) {
  return {
    userData: Buffer.from(USER_DATA),
    metalApiUrl: bed.url,
    metalApiKey: "",
    metalApiHmac: EDIT_KEY,
    ...over,
  };
}

const m = (name: string, providerId = "") => ({ name, namespace: "shoot--p--c", providerId, labels: {} });

async function setup(t: { teardown(fn: () => unknown): void }, env: Record<string, string> = {}, metal = {}) {
  const bed = await startMetal(metal);
  const driver = await startDriver(env);
  const client = driverClient(driver.address);
  t.teardown(async () => {
    client.close();
    await driver.proc.stop();
    await bed.close();
  });
  const req = (name: string, providerId = "", classOver: Record<string, unknown> = {}) => ({
    machine: m(name, providerId),
    machineClass: classFor(bed, classOver),
    secret: secretFor(bed),
  });
  return { bed, driver, client, req };
}

const allocatedTo = async (bed: MetalBed): Promise<MachineResponse[]> =>
  bed.edit.machine.find({ allocation_project: PROJECT, tags: [CLUSTER_TAG] });

test("serves MachineDriver with health and reflection on the unix socket", async (t) => {
  const { driver } = await setup(t);
  t.deepEqual(await listServicesByReflection(driver.address), [
    "grpc.health.v1.Health",
    "metalstack.machinedriver.v1.MachineDriver",
  ]);
  t.is(await checkHealth(driver.address, "metalstack.machinedriver.v1.MachineDriver"), "SERVING");
});

test("create 3: allocated with tags, placement over racks, network, addresses; idempotent; list keys match", async (t) => {
  const { bed, client, req } = await setup(t);
  const names = ["shoot--p--c-worker-a-1", "shoot--p--c-worker-a-2", "shoot--p--c-worker-a-3"];
  const created = await Promise.all(names.map((n) => client.createMachine(req(n))));
  const machines = await allocatedTo(bed);
  t.is(machines.length, 3);
  t.deepEqual(new Set(machines.map((x) => x.rackid)).size, 3, "spread over the 3 racks");
  for (const [i, res] of created.entries()) {
    const mm = machines.find((x) => x.allocation?.name === names[i])!;
    t.truthy(mm);
    t.is(res.providerId, `metal://p1/${mm.id}`);
    t.is(res.nodeName, names[i] ?? "");
    t.is(res.lastKnownState, mm.id);
    t.is(mm.allocation?.hostname, names[i]);
    t.is(mm.allocation?.project, PROJECT);
    t.is(Buffer.from(mm.allocation?.user_data ?? "", "base64").toString(), USER_DATA);
    for (const tag of [CLUSTER_TAG, "kubernetes.io/role=node", "worker.gardener.cloud/pool=worker-a"])
      t.true(mm.tags.includes(tag), tag);
    const nodeNet = mm.allocation?.networks.find((n) => n.networkid === bed.networkId);
    t.truthy(nodeNet);
    t.deepEqual(res.addresses, [
      { type: "InternalIP", address: nodeNet!.ips[0]! },
      { type: "Hostname", address: names[i]! },
    ]);
    t.deepEqual(mm.allocation?.dns_servers, [{ ip: "1.1.1.1" }]);
  }
  const again = await client.createMachine(req(names[0]!));
  t.deepEqual(again, created[0]);
  t.is((await allocatedTo(bed)).length, 3);
  const list = await client.listMachines({ machineClass: classFor(bed), secret: secretFor(bed) });
  t.deepEqual(list.machineList, Object.fromEntries(created.map((c, i) => [c.providerId, names[i]!])));
});

test("20 concurrent creates of one name allocate one machine", async (t) => {
  const { bed, client, req } = await setup(t);
  const res = await Promise.all(Array.from({ length: 20 }, () => client.createMachine(req("w-1"))));
  t.is(new Set(res.map((r) => r.providerId)).size, 1);
  t.is((await allocatedTo(bed)).length, 1);
});

test("an allocation whose answer is dropped is found, not repeated", async (t) => {
  const { bed, client, req, driver } = await setup(t);
  bed.emulator.faults.dropAllocateResponses = 1;
  const res = await client.createMachine(req("w-lost"));
  const machines = await allocatedTo(bed);
  t.is(machines.length, 1);
  t.is(res.providerId, `metal://p1/${machines[0]!.id}`);
  t.true(driver.logs().some((l) => l.msg === "allocation answer lost; looking the machine up"));
});

test("partition exhausted is RESOURCE_EXHAUSTED; bad key is PERMISSION_DENIED; metal-api down is UNAVAILABLE", async (t) => {
  const { bed, client, req } = await setup(t, {}, { inventory: smallInventory({ racks: 1, perRack: 2 }) });
  await client.createMachine(req("w-1"));
  await client.createMachine(req("w-2"));
  const full = await grpcCode(client.createMachine(req("w-3")));
  t.is(full.code, status.RESOURCE_EXHAUSTED);
  t.regex(full.details, /no machine available/i);
  const denied = await grpcCode(
    client.createMachine({ ...req("w-4"), secret: secretFor(bed, { metalApiHmac: "wrong" }) }),
  );
  t.is(denied.code, status.PERMISSION_DENIED);
  bed.emulator.faults.down = true;
  const down = await grpcCode(client.getMachineStatus(req("w-1")));
  t.is(down.code, status.UNAVAILABLE);
  bed.emulator.faults.down = false;
  const bad = await grpcCode(client.createMachine(req("w-5", "", { size: undefined })));
  t.deepEqual(bad, { code: status.INVALID_ARGUMENT, details: "providerSpec.size: is required" });
});

test("GetMachineStatus adopts a machine allocated before its providerID was saved; others' are NOT_FOUND", async (t) => {
  const { bed, client, req } = await setup(t);
  t.is((await grpcCode(client.getMachineStatus(req("w-adopt")))).code, status.NOT_FOUND);
  // As if the driver died after allocating: the machine exists, MCM has no providerID.
  const direct = await bed.edit.machine.allocate({
    name: "w-adopt",
    hostname: "w-adopt",
    projectid: PROJECT,
    partitionid: "p1",
    sizeid: "c1-large-x86",
    imageid: "ubuntu-24.04",
    ssh_pub_keys: [],
    networks: [{ networkid: bed.networkId, autoacquire: true }],
    tags: [CLUSTER_TAG],
  });
  const st = await client.getMachineStatus(req("w-adopt"));
  t.is(st.providerId, `metal://p1/${direct.id}`);
  t.is(st.nodeName, "w-adopt");
  const otherCluster = await grpcCode(
    client.getMachineStatus(
      req("w-adopt", st.providerId, { tags: ["cluster.metal-stack.io/id=someone-else"] }),
    ),
  );
  t.is(otherCluster.code, status.NOT_FOUND);
});

test("crash loop: InitializeMachine and GetMachineStatus answer UNINITIALIZED (17) with the providerID", async (t) => {
  const { bed, client, req } = await setup(t, { INITIALIZE_WAIT: "10s" }, { stepMs: 60_000 });
  const res = await client.createMachine(req("w-crash"));
  setTimeout(() => {
    void bed.emulator.updateMachine(res.lastKnownState, (m) => {
      m.crash_loop = true;
    });
  }, 300);
  const started = Date.now();
  const init = await grpcCode(client.initializeMachine(req("w-crash", res.providerId)));
  t.is(init.code, 17);
  t.true(Date.now() - started >= 250, "followed provisioning until the crash loop showed");
  t.regex(init.details, new RegExp(`provisioning crash loop.*providerID=${res.providerId} nodeName=w-crash`));
  const st = await grpcCode(client.getMachineStatus(req("w-crash", res.providerId)));
  t.is(st.code, 17);
});

test("InitializeMachine is OK once the machine phoned home", async (t) => {
  const { bed, client, req } = await setup(t, { INITIALIZE_WAIT: "20s" }, { stepMs: 300 });
  const res = await client.createMachine(req("w-init"));
  t.false((await bed.edit.machine.get(res.lastKnownState)).allocation?.succeeded, "still provisioning");
  const init = await client.initializeMachine(req("w-init", res.providerId));
  t.is(init.providerId, res.providerId);
  const after = await bed.edit.machine.get(res.lastKnownState);
  t.true(
    after.allocation?.succeeded,
    `answered only once provisioned (last event ${after.events.log[0]?.event})`,
  );
});

test("DeleteMachine: LOCKED refused, then freed; retries and empty providerID are OK", async (t) => {
  const { bed, client, req } = await setup(t);
  t.deepEqual(await client.deleteMachine(req("never-created")), { lastKnownState: "" });
  const res = await client.createMachine(req("w-del"));
  const lock = (value: "" | "LOCKED", description: string) =>
    bed.emulator.updateMachine(res.lastKnownState, (m) => {
      m.state = { ...m.state, value, description };
    });
  await lock("LOCKED", "under maintenance");
  const locked = await grpcCode(client.deleteMachine(req("w-del", res.providerId)));
  t.is(locked.code, status.FAILED_PRECONDITION);
  t.regex(locked.details, /LOCKED in metal-api: under maintenance; remove the lock/);
  await lock("", "");
  t.deepEqual(await client.deleteMachine(req("w-del", res.providerId)), {
    lastKnownState: res.lastKnownState,
  });
  // A retry while metal-api frees asynchronously frees again or finds it gone: both OK.
  const retry = await client.deleteMachine(req("w-del", res.providerId));
  t.true([res.lastKnownState, ""].includes(retry.lastKnownState));
  await waitFor(
    "machine released",
    async () => (await bed.edit.machine.get(res.lastKnownState)).allocation == null,
  );
  t.deepEqual(await client.deleteMachine(req("w-del", res.providerId)), { lastKnownState: "" });
  t.is((await grpcCode(client.getMachineStatus(req("w-del", res.providerId)))).code, status.NOT_FOUND);
  t.deepEqual(
    (await client.listMachines({ machineClass: classFor(bed), secret: secretFor(bed) })).machineList,
    {},
  );
});

test("secrets never reach the logs, even at debug level", async (t) => {
  const { client, req, driver } = await setup(t, { LOG_LEVEL: "debug" });
  const res = await client.createMachine(req("w-secret"));
  await client.getMachineStatus(req("w-secret", res.providerId));
  await grpcCode(
    client.createMachine({ ...req("w-x"), secret: { ...req("w-x").secret, metalApiKey: "tok-abc-999" } }),
  );
  await sleep(200);
  const out = driver.output();
  t.true(out.includes("CreateMachine"), "debug lines were written");
  t.false(out.includes(EDIT_KEY));
  t.false(out.includes("bootstrap-token-xyz"));
  t.false(out.includes("tok-abc-999"));
});

test("metrics split each call into the driver's own time and metal-api time", async (t) => {
  const { client, req, driver } = await setup(t);
  await client.createMachine(req("w-metrics"));
  const text = await (await fetch(`http://${driver.metricsAddress}/metrics`)).text();
  const count = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  t.is(count(/^machine_driver_own_seconds_count\{[^}]*method="CreateMachine"[^}]*\} (\d+)/m), 1);
  t.is(count(/^machine_driver_metal_api_seconds_count\{[^}]*operation="machine\.allocate"[^}]*\} (\d+)/m), 1);
  t.true(count(/^machine_driver_metal_api_seconds_count\{[^}]*operation="machine\.find"[^}]*\} (\d+)/m) >= 1);
});

test("events metal.machine-driver.machine.{created,adopted,create-failed,deleted} reach NATS", async (t) => {
  const nats = await startNats();
  t.teardown(() => nats.stop());
  const { client, req, bed } = await setup(t, { EVENTS_ENABLED: "true", NATS_URL: nats.url });
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  const seen: Array<{ subject: string; event: { type: string; data: Record<string, unknown> } }> = [];
  const sub = nc.subscribe("metal.machine-driver.machine.>");
  void (async () => {
    for await (const msg of sub) seen.push({ subject: msg.subject, event: JSON.parse(msg.string()) });
  })();
  await nc.flush();
  const res = await client.createMachine(req("w-ev"));
  await client.createMachine(req("w-ev"));
  await grpcCode(
    client.createMachine({ ...req("w-ev2"), secret: { ...req("w-ev2").secret, metalApiHmac: "bad" } }),
  );
  await client.deleteMachine(req("w-ev", res.providerId));
  await waitFor("4 events", () => seen.length >= 4, { timeoutMs: 20_000 });
  t.deepEqual(
    seen.map((s) => s.subject),
    [
      "metal.machine-driver.machine.created",
      "metal.machine-driver.machine.adopted",
      "metal.machine-driver.machine.create-failed",
      "metal.machine-driver.machine.deleted",
    ],
  );
  t.is(seen[0]!.event.type, "metal.machine-driver.machine.created");
  t.deepEqual(seen[0]!.event.data, {
    machineName: "w-ev",
    machineId: res.lastKnownState,
    cluster: CLUSTER,
    partition: "p1",
    size: "c1-large-x86",
  });
  t.like(seen[2]!.event.data, { machineName: "w-ev2", machineId: "", error: { code: "PERMISSION_DENIED" } });
  t.false(JSON.stringify(seen).includes(EDIT_KEY));
  void bed;
});

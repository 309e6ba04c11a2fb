// Unit tests of the driver's domain against an in-memory metal-api (integration tests use the emulator).

import { metalErrorMapper } from "@metal-kube/metal-stack";
import { Code, type ServiceError, toServiceError } from "@metal-kube/service-kit";
import test from "ava";
import { createMachineDriver, type MachineDriverOptions, UNINITIALIZED } from "../src/machine-driver.js";
import type { MachineEventData } from "../src/machine-events.js";
import { createFakeMetal, type FakeMetal } from "./fake-metal.js";
import {
  CLUSTER,
  call,
  capturedLogger,
  HMAC,
  machine,
  machineClass,
  PARTITION,
  PROJECT,
  secret,
  spec,
  USER_DATA,
} from "./helpers.js";

interface Setup {
  fake: FakeMetal;
  driver: ReturnType<typeof createMachineDriver>;
  events: Array<{ action: string; data: MachineEventData; subject?: string }>;
  logs: () => string;
  ctx: (o?: { deadlineMs?: number; signal?: AbortSignal }) => ReturnType<typeof call>;
}

function setup(o: Partial<MachineDriverOptions> = {}): Setup {
  const fake = createFakeMetal();
  const events: Setup["events"] = [];
  const { logger, text } = capturedLogger();
  const driver = createMachineDriver({
    clients: fake.pool,
    logger,
    events: { publish: async (e) => void events.push(e) },
    lostAllocateFirstDelayMs: 5,
    initializePollMs: 10,
    ...o,
  });
  return { fake, driver, events, logs: text, ctx: (c) => call(logger, c) };
}

async function codeOf(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await p;
  } catch (err) {
    const e: ServiceError = toServiceError(err, [metalErrorMapper]);
    return { code: e.code, message: e.message };
  }
  throw new Error("expected the call to fail");
}

const createReq = (name: string, over: Record<string, unknown> = {}) => ({
  machine: machine(name),
  machineClass: machineClass(over),
  secret: secret(),
});

test("providerSpec: every missing or malformed field is INVALID_ARGUMENT naming it", async (t) => {
  const { driver, fake, ctx } = setup();
  const cases: Array<[Record<string, unknown> | string, string]> = [
    [{ partition: undefined }, "providerSpec.partition: is required"],
    [{ size: "" }, "providerSpec.size: is required"],
    [{ image: 42 }, "providerSpec.image: must be a non-empty id"],
    [{ project: "   " }, "providerSpec.project: must be a non-empty id"],
    [{ network: undefined }, "providerSpec.network: is required"],
    [{ tags: ["a=b"] }, "providerSpec.tags: must contain cluster.metal-stack.io/id=<cluster>"],
    [{ tags: "cluster.metal-stack.io/id=x" }, "providerSpec.tags: must be a list of strings"],
    [
      { tags: [`cluster.metal-stack.io/id=${CLUSTER}`, 7] },
      "providerSpec.tags[1]: must be a non-empty string",
    ],
    [{ sshKeys: [""] }, "providerSpec.sshKeys[0]: must be a non-empty string"],
    [
      { dnsServers: [{ ip: "1.1.1.1" }, { ip: "not-an-ip" }] },
      "providerSpec.dnsServers[1].ip: must be an IP address",
    ],
    [
      { ntpServers: [{ adress: "x" }] },
      "providerSpec.ntpServers[0].address: must be a host name or IP address",
    ],
    ["{not json", "providerSpec: is not valid JSON"],
    ["[]", "providerSpec: must be a JSON object"],
    ["", "providerSpec: is required"],
  ];
  for (const [over, message] of cases) {
    const mc = typeof over === "string" ? machineClass({}, over) : machineClass(over);
    const r = await codeOf(
      driver.createMachine({ machine: machine("m1"), machineClass: mc, secret: secret() }, ctx()),
    );
    t.is(r.code, Code.INVALID_ARGUMENT, JSON.stringify(over));
    t.true(r.message.startsWith(message), `${r.message} should start with ${message}`);
  }
  t.is(fake.calls.allocate + fake.calls.find, 0, "nothing reaches metal-api with a bad spec");
});

test("secret: exactly one credential, a URL, and user data for creates", async (t) => {
  const { driver, ctx } = setup();
  const cases: Array<[Parameters<typeof secret>[0], string]> = [
    [{ metalApiKey: "token" }, "secret: holds both metalAPIKey and metalAPIHMac"],
    [{ metalApiHmac: "" }, "secret: holds neither metalAPIKey nor metalAPIHMac"],
    [{ metalApiUrl: "" }, "secret.metalAPIURL: is required"],
    [{ metalApiUrl: "ftp://x" }, "secret.metalAPIURL: must be an http(s) URL"],
    [{ userData: Buffer.alloc(0) }, "secret.userData: is required"],
  ];
  for (const [over, message] of cases) {
    const r = await codeOf(
      driver.createMachine(
        { machine: machine("m1"), machineClass: machineClass(), secret: secret(over) },
        ctx(),
      ),
    );
    t.is(r.code, Code.INVALID_ARGUMENT);
    t.true(r.message.startsWith(message), r.message);
    t.false(r.message.includes(HMAC));
  }
  // Status calls need no user data.
  const st = await codeOf(
    driver.getMachineStatus(
      { machine: machine("m1"), machineClass: machineClass(), secret: secret({ userData: Buffer.alloc(0) }) },
      ctx(),
    ),
  );
  t.is(st.code, Code.NOT_FOUND);
});

test("machine name is required and must be a DNS name", async (t) => {
  const { driver, ctx } = setup();
  const r = await codeOf(driver.createMachine({ ...createReq("x"), machine: machine("") }, ctx()));
  t.deepEqual(r, { code: Code.INVALID_ARGUMENT, message: "machine.name: is required" });
  const r2 = await codeOf(driver.createMachine({ ...createReq("x"), machine: machine("Bad_Name") }, ctx()));
  t.is(r2.code, Code.INVALID_ARGUMENT);
});

test("create allocates with tags, placement, networks, dns/ntp and returns providerID, node name, addresses", async (t) => {
  const { driver, fake, events, ctx, logs } = setup();
  const res = await driver.createMachine(createReq("shoot-worker-a-1"), ctx());
  t.is(fake.allocations.length, 1);
  const a = fake.allocations[0]!;
  t.like(a, {
    name: "shoot-worker-a-1",
    hostname: "shoot-worker-a-1",
    projectid: PROJECT,
    partitionid: PARTITION,
    sizeid: "c1-xlarge-x86",
    imageid: "ubuntu-24.04",
  });
  t.deepEqual(a.tags, spec().tags);
  t.deepEqual(a.placement_tags, [`cluster.metal-stack.io/id=${CLUSTER}`]);
  t.deepEqual(a.networks, [{ networkid: "net-private-1", autoacquire: true }]);
  t.deepEqual(a.dns_servers, [{ ip: "1.1.1.1" }]);
  t.deepEqual(a.ntp_servers, [{ address: "pool.ntp.org" }]);
  t.deepEqual(a.ssh_pub_keys, ["ssh-ed25519 AAAA test"]);
  t.is(Buffer.from(a.user_data ?? "", "base64").toString(), USER_DATA);
  const id = [...fake.machines.keys()][0]!;
  t.deepEqual(res, {
    providerId: `metal://${PARTITION}/${id}`,
    nodeName: "shoot-worker-a-1",
    lastKnownState: id,
    addresses: [
      { type: "InternalIP", address: "10.0.0.17" },
      { type: "Hostname", address: "shoot-worker-a-1" },
    ],
  });
  t.deepEqual(fake.endpoints[0], { url: "http://127.0.0.1:8080", credential: { kind: "hmac", hmac: HMAC } });
  t.is(events.length, 1);
  t.like(events[0], {
    action: "created",
    subject: id,
    data: {
      machineName: "shoot-worker-a-1",
      machineId: id,
      cluster: CLUSTER,
      partition: PARTITION,
      size: "c1-xlarge-x86",
    },
  });
  t.false(logs().includes(HMAC));
  t.false(logs().includes("bootstrap-token"));
});

test("create is idempotent: a second create returns the same machine without allocating", async (t) => {
  const { driver, fake, events, ctx } = setup();
  const first = await driver.createMachine(createReq("m1"), ctx());
  const second = await driver.createMachine(createReq("m1"), ctx());
  t.deepEqual(second, first);
  t.is(fake.calls.allocate, 1);
  t.deepEqual(
    events.map((e) => e.action),
    ["created", "adopted"],
  );
});

test("concurrent creates of one name make one allocation; other names are not held up", async (t) => {
  const { driver, fake, ctx } = setup();
  fake.allocateDelayMs = 30;
  const same = await Promise.all(
    Array.from({ length: 25 }, () => driver.createMachine(createReq("m1"), ctx())),
  );
  t.is(new Set(same.map((r) => r.providerId)).size, 1);
  t.is(fake.calls.allocate, 1);
  const many = await Promise.all(
    Array.from({ length: 10 }, (_, i) => driver.createMachine(createReq(`n${i}`), ctx())),
  );
  t.is(new Set(many.map((r) => r.providerId)).size, 10);
  t.is(fake.calls.allocate, 11);
  t.is(driver.creating, 0);
});

test("a lost allocate is resolved by a find, never by a second allocate", async (t) => {
  const { driver, fake, ctx, events } = setup();
  fake.faults.allocate.push({ kind: "lost-after-commit" });
  const res = await driver.createMachine(createReq("m1"), ctx());
  t.is(fake.calls.allocate, 1);
  t.is(fake.machines.size, 1);
  t.is(res.lastKnownState, [...fake.machines.keys()][0] ?? "none");
  t.is(events.at(-1)?.action, "created");
});

test("a lost allocate that did not happen: UNAVAILABLE after finds, still one allocate", async (t) => {
  const { driver, fake, ctx, events } = setup();
  fake.faults.allocate.push({ kind: "connection" });
  const r = await codeOf(driver.createMachine(createReq("m1"), ctx()));
  t.is(r.code, Code.UNAVAILABLE);
  t.regex(r.message, /allocation of m1 got no answer/);
  t.is(fake.calls.allocate, 1);
  t.is(fake.calls.find, 1 + 4, "one find first, then the configured finds");
  t.like(events.at(-1), {
    action: "create-failed",
    data: { machineName: "m1", error: { code: "UNAVAILABLE" } },
  });
  // MCM retries: now the allocation goes through once.
  await driver.createMachine(createReq("m1"), ctx());
  t.is(fake.calls.allocate, 2);
  t.is(fake.machines.size, 1);
});

test("metal-api errors map to the codes MCM acts on", async (t) => {
  const cases: Array<[Parameters<FakeMetal["faults"]["allocate"]["push"]>[0], Code]> = [
    [{ kind: "http", status: 422, message: "no machine available" }, Code.RESOURCE_EXHAUSTED],
    [{ kind: "http", status: 422, message: "quota reached" }, Code.RESOURCE_EXHAUSTED],
    [{ kind: "http", status: 404, message: "size not found" }, Code.NOT_FOUND],
    [{ kind: "http", status: 403, message: "forbidden" }, Code.PERMISSION_DENIED],
    [{ kind: "http", status: 409, message: "conflict" }, Code.ABORTED],
    [{ kind: "http", status: 400, message: "bad request" }, Code.FAILED_PRECONDITION],
  ];
  for (const [fault, code] of cases) {
    const { driver, fake, ctx } = setup();
    fake.faults.allocate.push(fault);
    const r = await codeOf(driver.createMachine(createReq("m1"), ctx()));
    t.is(r.code, code, JSON.stringify(fault));
    if (fault.kind === "http") t.true(r.message.includes(fault.message), r.message);
    t.is(fake.calls.allocate, 1);
  }
  for (const fault of [
    { kind: "http", status: 500, message: "boom" },
    { kind: "http", status: 503, message: "down" },
    { kind: "timeout" },
  ] as const) {
    const { driver, fake, ctx } = setup();
    fake.faults.find.push(fault);
    t.is((await codeOf(driver.createMachine(createReq("m1"), ctx()))).code, Code.UNAVAILABLE);
  }
});

test("GetMachineStatus: by providerID; adoption by name when empty; NOT_FOUND otherwise", async (t) => {
  const { driver, fake, ctx, events } = setup();
  const created = await driver.createMachine(createReq("m1"), ctx());
  const byId = await driver.getMachineStatus(
    { machine: machine("m1", created.providerId), machineClass: machineClass(), secret: secret() },
    ctx(),
  );
  t.deepEqual(byId, { providerId: created.providerId, nodeName: "m1", addresses: created.addresses });
  t.is(events.length, 1);
  const adopted = await driver.getMachineStatus(
    { machine: machine("m1"), machineClass: machineClass(), secret: secret() },
    ctx(),
  );
  t.is(adopted.providerId, created.providerId);
  t.is(events.at(-1)?.action, "adopted");
  t.is(
    (
      await codeOf(
        driver.getMachineStatus(
          { machine: machine("m2"), machineClass: machineClass(), secret: secret() },
          ctx(),
        ),
      )
    ).code,
    Code.NOT_FOUND,
  );
  // Another cluster's machine, and an unallocated one, are NOT_FOUND.
  const other = machineClass({ tags: ["cluster.metal-stack.io/id=other"] });
  t.is(
    (
      await codeOf(
        driver.getMachineStatus(
          { machine: machine("m1", created.providerId), machineClass: other, secret: secret() },
          ctx(),
        ),
      )
    ).code,
    Code.NOT_FOUND,
  );
  fake.put({ id: "free-1" });
  t.is(
    (
      await codeOf(
        driver.getMachineStatus(
          {
            machine: machine("x", `metal://${PARTITION}/free-1`),
            machineClass: machineClass(),
            secret: secret(),
          },
          ctx(),
        ),
      )
    ).code,
    Code.NOT_FOUND,
  );
  t.is(
    (
      await codeOf(
        driver.getMachineStatus(
          {
            machine: machine("x", `metal://${PARTITION}/gone`),
            machineClass: machineClass(),
            secret: secret(),
          },
          ctx(),
        ),
      )
    ).code,
    Code.NOT_FOUND,
  );
  // The old metal:///<id> form decodes.
  const legacy = await driver.getMachineStatus(
    {
      machine: machine("m1", `metal:///${created.lastKnownState}`),
      machineClass: machineClass(),
      secret: secret(),
    },
    ctx(),
  );
  t.is(legacy.providerId, created.providerId);
});

test("a crash-looping or reclaim-failed machine is UNINITIALIZED, naming providerID and reason", async (t) => {
  const { driver, fake, ctx } = setup();
  const created = await driver.createMachine(createReq("m1"), ctx());
  const m = fake.machines.get(created.lastKnownState)!;
  m.events = {
    log: [{ event: "PXE Booting" }, { event: "Crashed", message: "kernel panic [x]" }],
    last_error_event: { event: "Crashed", message: "kernel panic [x]" },
    crash_loop: true,
    failed_machine_reclaim: false,
  };
  const req = { machine: machine("m1", created.providerId), machineClass: machineClass(), secret: secret() };
  const st = await codeOf(driver.getMachineStatus(req, ctx()));
  t.is(st.code, UNINITIALIZED);
  t.true(st.message.includes("provisioning crash loop"));
  t.true(st.message.includes(`providerID=${created.providerId} nodeName=m1`));
  t.true(st.message.includes("kernel panic (x)"), "no square brackets: MCM parses them");
  const init = await codeOf(driver.initializeMachine(req, ctx()));
  t.is(init.code, UNINITIALIZED);
  m.events = { log: [{ event: "Machine Reclaim" }], crash_loop: false, failed_machine_reclaim: true };
  t.regex((await codeOf(driver.initializeMachine(req, ctx()))).message, /failed its reclaim/);
});

test("InitializeMachine follows provisioning: OK once phoned home, UNINITIALIZED when it crash-loops", async (t) => {
  const { driver, fake, ctx } = setup({ initializePollMs: 20, initializeWaitMs: 5_000 });
  const created = await driver.createMachine(createReq("m1"), ctx());
  const req = { machine: machine("m1", created.providerId), machineClass: machineClass(), secret: secret() };
  const m = fake.machines.get(created.lastKnownState)!;
  setTimeout(() => {
    m.events = {
      log: [{ event: "Phoned Home" }, { event: "Installing" }],
      crash_loop: false,
      failed_machine_reclaim: false,
    };
    m.allocation!.succeeded = true;
  }, 100);
  const started = Date.now();
  const res = await driver.initializeMachine(req, ctx());
  t.true(Date.now() - started >= 90);
  t.deepEqual(res, { providerId: created.providerId, nodeName: "m1", addresses: created.addresses });

  const second = await driver.createMachine(createReq("m2"), ctx());
  const m2 = fake.machines.get(second.lastKnownState)!;
  setTimeout(() => {
    m2.events = { log: [{ event: "Crashed" }], crash_loop: true, failed_machine_reclaim: false };
  }, 60);
  const r = await codeOf(
    driver.initializeMachine(
      { machine: machine("m2", second.providerId), machineClass: machineClass(), secret: secret() },
      ctx(),
    ),
  );
  t.is(r.code, UNINITIALIZED);
});

test("InitializeMachine answers OK when its wait or the call's deadline runs out while provisioning goes on", async (t) => {
  const { driver, ctx } = setup({ initializePollMs: 20, initializeWaitMs: 150, deadlineMarginMs: 100 });
  const created = await driver.createMachine(createReq("m1"), ctx());
  const req = { machine: machine("m1", created.providerId), machineClass: machineClass(), secret: secret() };
  let started = Date.now();
  await driver.initializeMachine(req, ctx());
  const waited = Date.now() - started;
  t.true(waited >= 120 && waited < 1_000, `waited ${waited} ms`);
  const long = setup({ initializePollMs: 20, initializeWaitMs: 60_000, deadlineMarginMs: 100 });
  const c2 = await long.driver.createMachine(createReq("m1"), long.ctx());
  started = Date.now();
  await long.driver.initializeMachine(
    { machine: machine("m1", c2.providerId), machineClass: machineClass(), secret: secret() },
    long.ctx({ deadlineMs: 400 }),
  );
  const w2 = Date.now() - started;
  t.true(w2 >= 250 && w2 < 400, `answered ${w2} ms into a 400 ms deadline`);
  // A machine that is not ours is NOT_FOUND at once.
  const r = await codeOf(
    driver.initializeMachine(
      { machine: machine("zz", `metal://${PARTITION}/nope`), machineClass: machineClass(), secret: secret() },
      ctx(),
    ),
  );
  t.is(r.code, Code.NOT_FOUND);
});

test("DeleteMachine: empty providerID and gone are OK; LOCKED is FAILED_PRECONDITION; retries are safe", async (t) => {
  const { driver, fake, ctx, events } = setup();
  t.deepEqual(
    await driver.deleteMachine(
      { machine: machine("m1"), machineClass: machineClass(), secret: secret() },
      ctx(),
    ),
    { lastKnownState: "" },
  );
  t.is(fake.calls.get, 0);
  const created = await driver.createMachine(createReq("m1"), ctx());
  const req = { machine: machine("m1", created.providerId), machineClass: machineClass(), secret: secret() };
  const m = fake.machines.get(created.lastKnownState)!;
  m.state = { value: "LOCKED", description: "maintenance", metal_hammer_version: "" };
  const locked = await codeOf(driver.deleteMachine(req, ctx()));
  t.is(locked.code, Code.FAILED_PRECONDITION);
  t.regex(locked.message, /is LOCKED in metal-api: maintenance; remove the lock/);
  t.is(fake.calls.free, 0);
  m.state = { value: "", description: "", metal_hammer_version: "" };
  t.deepEqual(await driver.deleteMachine(req, ctx()), { lastKnownState: created.lastKnownState });
  t.is(fake.machines.get(created.lastKnownState)?.allocation, null);
  t.like(events.at(-1), {
    action: "deleted",
    data: { machineName: "m1", machineId: created.lastKnownState },
  });
  // Retried after the machine was freed: OK, nothing freed twice.
  t.deepEqual(await driver.deleteMachine(req, ctx()), { lastKnownState: "" });
  t.is(fake.calls.free, 1);
  // Unknown id: OK.
  t.deepEqual(
    await driver.deleteMachine(
      {
        machine: machine("x", `metal://${PARTITION}/unknown`),
        machineClass: machineClass(),
        secret: secret(),
      },
      ctx(),
    ),
    { lastKnownState: "" },
  );
  // Another cluster's machine is never freed.
  const other = await driver.createMachine(
    { ...createReq("o1"), machineClass: machineClass({ tags: ["cluster.metal-stack.io/id=other"] }) },
    ctx(),
  );
  t.deepEqual(
    await driver.deleteMachine(
      { machine: machine("o1", other.providerId), machineClass: machineClass(), secret: secret() },
      ctx(),
    ),
    { lastKnownState: "" },
  );
  t.not(fake.machines.get(other.lastKnownState)?.allocation, null);
  // A free that fails with a 5xx is UNAVAILABLE (MCM retries).
  fake.faults.free.push({ kind: "http", status: 502, message: "bad gateway" });
  t.is(
    (
      await codeOf(
        driver.deleteMachine(
          {
            machine: machine("o1", other.providerId),
            machineClass: machineClass({ tags: ["cluster.metal-stack.io/id=other"] }),
            secret: secret(),
          },
          ctx(),
        ),
      )
    ).code,
    Code.UNAVAILABLE,
  );
});

test("ListMachines: this cluster's machines in the project, keys exactly as CreateMachine returned", async (t) => {
  const { driver, fake, ctx } = setup();
  const created = await Promise.all(["a", "b", "c"].map((n) => driver.createMachine(createReq(n), ctx())));
  await driver.createMachine(
    { ...createReq("x"), machineClass: machineClass({ tags: ["cluster.metal-stack.io/id=other"] }) },
    ctx(),
  );
  await driver.createMachine(
    { ...createReq("y"), machineClass: machineClass({ project: "other-project" }) },
    ctx(),
  );
  // A firewall of the cluster is not a worker.
  const fw = fake.put({ id: "fw-1", tags: [`cluster.metal-stack.io/id=${CLUSTER}`] });
  fw.allocation = {
    ...fake.machines.get(created[0]!.lastKnownState)!.allocation!,
    role: "firewall",
    name: "fw",
    hostname: "fw",
  };
  const res = await driver.listMachines({ machineClass: machineClass(), secret: secret() }, ctx());
  t.deepEqual(
    res.machineList,
    Object.fromEntries(created.map((c, i) => [c.providerId, ["a", "b", "c"][i]!])),
  );
});

test("ListMachines fails the call for a machine without a partition rather than return a malformed key", async (t) => {
  const { driver, fake, ctx } = setup();
  const created = await driver.createMachine(createReq("a"), ctx());
  fake.machines.get(created.lastKnownState)!.partition = undefined;
  const r = await codeOf(driver.listMachines({ machineClass: machineClass(), secret: secret() }, ctx()));
  t.is(r.code, Code.INTERNAL);
  t.regex(r.message, /no usable partition/);
});

test("GetVolumeIDs: CSI handles, lightbits nguid, others skipped, bad lightbits handle named", async (t) => {
  const { driver, ctx } = setup();
  const csi = (driverName: string, volumeHandle: string) => ({ csi: { driver: driverName, volumeHandle } });
  const res = await driver.getVolumeIds(
    {
      pvSpecs: [
        csi(
          "csi.lightbitslabs.com",
          "mgmt:10.0.0.1:443,10.0.0.2:443|nguid:5f6a1b2c-0000-4d3e-9f00-aabbccddeeff|proj:default|scheme:grpcs",
        ),
        { csi: undefined },
        csi("ebs.csi.aws.com", "vol-123"),
      ],
    },
    ctx(),
  );
  t.deepEqual(res.volumeIds, ["5f6a1b2c-0000-4d3e-9f00-aabbccddeeff", "vol-123"]);
  const r = await codeOf(
    driver.getVolumeIds({ pvSpecs: [csi("csi.lightbitslabs.com", "mgmt:1.2.3.4:443|proj:x")] }, ctx()),
  );
  t.is(r.code, Code.INVALID_ARGUMENT);
  t.regex(r.message, /^pvSpecs\[0\]\.csi\.volumeHandle: has no nguid field/);
});

test("bearer token secrets reach the client as tokens", async (t) => {
  const { driver, fake, ctx } = setup();
  await driver.createMachine(
    { ...createReq("m1"), secret: secret({ metalApiHmac: "", metalApiKey: "jwt-token" }) },
    ctx(),
  );
  t.deepEqual(fake.endpoints[0]?.credential, { kind: "token", token: "jwt-token" });
});

test("a stale unix socket left by a killed driver is removed; a live one is kept", async (t) => {
  const { createServer } = await import("node:net");
  const { existsSync, mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { removeStaleSocket } = await import("@metal-kube/service-kit");
  const path = join(mkdtempSync(join(tmpdir(), "md-sock-")), "driver.sock");
  const server = createServer().listen(path);
  await new Promise((r) => server.once("listening", r));
  t.false(await removeStaleSocket(`unix://${path}`), "a live socket is kept");
  t.true(existsSync(path));
  // Closing a net server unlinks the file; recreate a dead one as kill -9 leaves it.
  await new Promise((r) => server.close(r));
  const { spawnSync } = await import("node:child_process");
  spawnSync(process.execPath, [
    "-e",
    `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`,
  ]);
  t.true(existsSync(path), "kill -9 left the socket file");
  t.true(await removeStaleSocket(`unix://${path}`));
  t.false(existsSync(path));
  t.false(await removeStaleSocket("127.0.0.1:50051"));
});

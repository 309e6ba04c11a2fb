import { isBadRequest, isConflict, isNotFound, type MetalApiError } from "@metal-kube/metal-api";
import { waitFor } from "@metal-kube/testing";
import test from "ava";
import { allocation, inventory, projectNetwork, SSH_KEY, startEmulator } from "./harness.js";

const isBadRequestErr = isBadRequest;

test("allocate, provision to Phoned Home, free asynchronously, allocate again", async (t) => {
  const h = await startEmulator({ inventory: inventory({ racks: 1, perRack: 1 }) });
  t.teardown(() => h.close());
  const c = h.client();
  const net = await projectNetwork(c);
  const m = await c.machine.allocate(allocation(net.id));
  const a = m.allocation!;
  t.is(a.role, "machine");
  t.is(a.project, "proj-a");
  t.is(a.hostname, "shoot--p--w-1");
  t.is(a.name, "shoot--p--w-1");
  t.is(a.image?.id, "ubuntu-24.04");
  t.deepEqual(a.ssh_pub_keys, [SSH_KEY]);
  t.is(a.user_data, Buffer.from("#ignition").toString("base64"));
  t.deepEqual(a.dns_servers, [{ ip: "1.1.1.1" }], "partition DNS servers by default");
  const priv = a.networks.find((n) => n.networkid === net.id)!;
  t.true(priv.private);
  t.is(priv.networktype, "privateprimaryunshared");
  t.is(priv.vrf, net.vrf ?? -1);
  t.deepEqual(priv.prefixes, net.prefixes);
  t.is(priv.ips.length, 1);
  const ext = a.networks.find((n) => n.networkid === "internet")!;
  t.false(ext.private);
  t.true(ext.nat);
  t.is(ext.asn, priv.asn);
  t.true(priv.asn >= 4_210_000_000);
  t.true(m.tags.includes("cluster.metal-stack.io/id=c1"));
  t.true(m.tags.includes(`machine.metal-stack.io/network.primary.asn=${priv.asn}`));
  t.true(m.tags.includes(`machine.metal-stack.io/rack=${m.rackid}`));
  // the machine's IPs exist, tagged with the machine
  const ips = await c.ip.find({ machineid: m.id });
  t.deepEqual(ips.map((i) => i.ipaddress).sort(), [...priv.ips, ...ext.ips].sort());
  t.true(ips.every((i) => i.type === "ephemeral" && i.tags?.includes(`machine.metal-stack.io/id=${m.id}`)));

  const phoned = await waitFor("Phoned Home", async () => {
    const g = await c.machine.get(m.id);
    return g.events.log[0]?.event === "Phoned Home" ? g : undefined;
  });
  t.deepEqual(
    phoned.events.log.slice(0, 4).map((e) => e.event),
    ["Phoned Home", "Booting New Kernel", "Installing", "Waiting"],
  );
  t.true(phoned.allocation!.succeeded);
  t.is(phoned.liveliness, "Alive");

  // the only machine is taken
  const none = await t.throwsAsync(c.machine.allocate(allocation(net.id, { name: "w2", hostname: "w2" })));
  t.true((none as MetalApiError).isNoMachineAvailable());
  t.is((none as MetalApiError).status, 422);

  const freed = await c.machine.free(m.id);
  t.is(freed.id, m.id);
  t.is(freed.events.log[0]?.event, "Machine Reclaim");
  const waiting = await waitFor("back to Waiting", async () => {
    const g = await c.machine.get(m.id);
    return g.allocation === null && g.events.log[0]?.event === "Waiting" ? g : undefined;
  });
  t.deepEqual(waiting.tags, []);
  t.deepEqual(await c.ip.find({ projectid: "proj-a" }), [], "ephemeral IPs released");

  const again = await c.machine.allocate(allocation(net.id, { name: "w3", hostname: "w3" }));
  t.is(again.id, m.id);
  t.is(again.allocation!.hostname, "w3");
});

test("placement tags spread a cluster's machines over racks", async (t) => {
  const h = await startEmulator({ inventory: inventory({ racks: 4, perRack: 5 }) });
  t.teardown(() => h.close());
  const c = h.client();
  const net = await projectNetwork(c);
  const racks: string[] = [];
  for (let i = 0; i < 8; i++)
    racks.push((await c.machine.allocate(allocation(net.id, { name: `w${i}` }))).rackid!);
  const count = (r: string) => racks.filter((x) => x === r).length;
  t.deepEqual([...new Set(racks)].map(count), [2, 2, 2, 2], racks.join(","));
});

test("uuid allocates that machine; an allocated one gives 422", async (t) => {
  const h = await startEmulator({ inventory: inventory() });
  t.teardown(() => h.close());
  const c = h.client();
  const net = await projectNetwork(c);
  const [target] = await c.machine.find({ partition_id: "p1", rackid: "p1-rack-2" });
  const m = await c.machine.allocate(allocation(net.id, { uuid: target!.id }));
  t.is(m.id, target!.id);
  const e = await t.throwsAsync(c.machine.allocate(allocation(net.id, { uuid: target!.id })));
  t.is((e as MetalApiError).status, 422);
  t.regex((e as MetalApiError).metalMessage!, /already allocated/);
});

test("uuid allocation of a machine still being reclaimed: 422 while it holds its allocation, then accepted and installed once it is back at Waiting", async (t) => {
  // metal-api refuses a `uuid` allocation only while the machine is allocated; an unallocated machine that
  // is still booting back from a reclaim is taken, and installs as soon as metal-hammer reaches Waiting.
  // Steps slow enough that the test lands inside the free delay and inside the reclaim events.
  const h = await startEmulator({
    inventory: inventory({ racks: 1, perRack: 1 }),
    provisioning: { stepMs: 250, freeDelayMs: 400, phoneHomeMs: 60_000 },
  });
  t.teardown(() => h.close());
  const c = h.client();
  const net = await projectNetwork(c);
  const [only] = await c.machine.find({ partition_id: "p1" });
  const id = only!.id;
  const byUuid = (name: string) => c.machine.allocate(allocation(net.id, { uuid: id, name, hostname: name }));
  const phonedHome = (hostname: string) =>
    waitFor(
      `${hostname} Phoned Home`,
      async () => {
        const g = await c.machine.get(id);
        return g.allocation?.hostname === hostname && g.events.log[0]?.event === "Phoned Home"
          ? g
          : undefined;
      },
      { intervalMs: 20 },
    );
  await byUuid("first");
  await phonedHome("first");

  await c.machine.free(id);
  const held = await t.throwsAsync(byUuid("too-early"));
  t.is((held as MetalApiError).status, 422, "the allocation is released only after the free delay");
  t.is((held as MetalApiError).metalMessage, "machine is already allocated");

  const RECLAIM = ["Machine Reclaim", "PXE Booting", "Preparing", "Registering"];
  const reclaiming = await waitFor(
    "allocation released, reclaim events still running",
    async () => {
      const g = await c.machine.get(id);
      return g.allocation === null && RECLAIM.includes(g.events.log[0]?.event ?? "") ? g : undefined;
    },
    { intervalMs: 10 },
  );
  t.not(reclaiming.events.log[0]?.event, "Waiting");
  const mid = await byUuid("mid-reclaim");
  t.is(mid.id, id);
  t.false(mid.allocation!.succeeded);
  t.true(RECLAIM.includes(mid.events.log[0]?.event ?? ""), `allocated at ${mid.events.log[0]?.event}`);
  const installed = await phonedHome("mid-reclaim");
  t.true(installed.allocation!.succeeded);
  const events = installed.events.log.map((e) => e.event);
  t.deepEqual(
    events.slice(0, events.indexOf("Registering") + 1),
    ["Phoned Home", "Booting New Kernel", "Installing", "Waiting", "Registering"],
    "boots on to Waiting, then installs",
  );

  // once back at Waiting, a uuid allocation provisions straight away
  await c.machine.free(id);
  await waitFor(
    "back at Waiting",
    async () => {
      const g = await c.machine.get(id);
      return g.allocation === null && g.events.log[0]?.event === "Waiting";
    },
    { intervalMs: 20 },
  );
  const again = await byUuid("after-waiting");
  t.is(again.events.log[0]?.event, "Waiting");
  t.true((await phonedHome("after-waiting")).allocation!.succeeded);
});

test("firewall allocation gets role firewall, the underlay network and its rules", async (t) => {
  const h = await startEmulator({ inventory: inventory() });
  t.teardown(() => h.close());
  const c = h.client();
  const net = await projectNetwork(c);
  const fw = await c.firewall.allocate({
    ...allocation(net.id, { imageid: "firewall-ubuntu-3.0", name: "fw-1", hostname: "fw-1" }),
    firewall_rules: { egress: [{ ports: [443], to: ["0.0.0.0/0"], protocol: "tcp" }] },
  });
  t.is(fw.allocation!.role, "firewall");
  const underlay = fw.allocation!.networks.find((n) => n.underlay)!;
  t.is(underlay.networkid, "underlay-p1");
  t.is(underlay.networktype, "underlay");
  t.deepEqual(fw.allocation!.firewall_rules?.egress?.[0]?.ports, [443]);
  t.deepEqual(
    (await c.firewall.find({ allocation_project: "proj-a" })).map((f) => f.id),
    [fw.id],
  );
  t.is((await c.firewall.get(fw.id)).id, fw.id);
  // a machine image is not usable for a firewall, and vice versa
  const bad = await t.throwsAsync(c.firewall.allocate(allocation(net.id)));
  t.true(isBadRequestErr(bad));
  const m = await c.machine.allocate(allocation(net.id));
  t.true(isNotFound(await t.throwsAsync(c.firewall.get(m.id))));
  t.deepEqual(
    (await c.machine.find({ allocation_role: "machine" })).map((x) => x.id),
    [m.id],
  );
});

test("find filters the services use", async (t) => {
  const h = await startEmulator({ inventory: inventory({ partitions: 2 }) });
  t.teardown(() => h.close());
  const c = h.client();
  const net = await projectNetwork(c);
  const m1 = await c.machine.allocate(allocation(net.id, { name: "a", hostname: "ha" }));
  const m2 = await c.machine.allocate(
    allocation(net.id, { name: "b", hostname: "hb", tags: ["cluster.metal-stack.io/id=c2", "k8s"] }),
  );
  const ids = async (q: Parameters<typeof c.machine.find>[0]) =>
    (await c.machine.find(q)).map((m) => m.id).sort();
  t.deepEqual(await ids({ tags: ["cluster.metal-stack.io/id=c1"] }), [m1.id]);
  t.deepEqual(await ids({ tags: ["cluster.metal-stack.io/id=c2", "k8s"] }), [m2.id]);
  t.deepEqual(await ids({ tags: ["cluster.metal-stack.io/id=c2", "nope"] }), []);
  t.deepEqual(await ids({ id: m1.id, allocation_project: "proj-a", allocation_role: "machine" }), [m1.id]);
  t.deepEqual(await ids({ id: m1.id, allocation_project: "other" }), []);
  t.deepEqual(await ids({ allocation_hostname: "hb" }), [m2.id]);
  t.deepEqual(await ids({ allocation_name: "a" }), [m1.id]);
  t.deepEqual(await ids({ allocation_project: "proj-a" }), [m1.id, m2.id].sort());
  t.deepEqual(await ids({ network_ids: [net.id] }), [m1.id, m2.id].sort());
  t.deepEqual(await ids({ network_ips: m1.allocation!.networks[0]!.ips }), [m1.id]);
  t.deepEqual(await ids({ rackid: m1.rackid!, allocation_project: "proj-a" }), [m1.id]);
  t.is((await c.machine.find({ partition_id: "p2" })).length, 12);
  t.is((await c.machine.find({ partition_id: "p1", sizeid: "c1-large-x86" })).length, 12);
  t.is((await c.machine.find({ state_value: "" })).length, 24);
  // a misspelt filter is refused instead of matching everything
  const e = await t.throwsAsync(c.machine.find({ allocation_projekt: "x" } as never));
  t.is((e as MetalApiError).status, 400);
  t.regex((e as MetalApiError).metalMessage!, /unknown field allocation_projekt/);
});

test("update needs an allocated machine and the admin role; system tags stay", async (t) => {
  const h = await startEmulator({ inventory: inventory() });
  t.teardown(() => h.close());
  const c = h.client();
  const admin = h.client("Metal-Admin");
  const net = await projectNetwork(c);
  const m = await c.machine.allocate(allocation(net.id));
  const forbidden = await t.throwsAsync(c.machine.update({ id: m.id, description: "x" }));
  t.true((forbidden as MetalApiError).isForbidden());
  const u = await admin.machine.update({
    id: m.id,
    description: "renamed",
    tags: ["cluster.metal-stack.io/id=c1", "new=1", "machine.metal-stack.io/rack=fake"],
  });
  t.is(u.allocation!.description, "renamed");
  t.true(u.tags.includes("new=1"));
  t.true(u.tags.includes(`machine.metal-stack.io/rack=${m.rackid}`));
  t.false(u.tags.includes("machine.metal-stack.io/rack=fake"));
  t.deepEqual(
    (await c.machine.find({ tags: ["new=1"] })).map((x) => x.id),
    [m.id],
  );
  const free = (await c.machine.find({ partition_id: "p1" })).find((x) => x.allocation === null)!;
  const e = await t.throwsAsync(admin.machine.update({ id: free.id, description: "" }));
  t.true(isBadRequestErr(e));
  t.is((e as MetalApiError).metalMessage, "only allocated machines can be updated");
  t.true(isNotFound(await t.throwsAsync(admin.machine.update({ id: "nope", description: "" }))));
});

test("a LOCKED machine cannot be freed", async (t) => {
  const h = await startEmulator({ inventory: inventory() });
  t.teardown(() => h.close());
  const c = h.client();
  const net = await projectNetwork(c);
  const m = await c.machine.allocate(allocation(net.id));
  const res = await fetch(`${h.url}/v1/machine/${m.id}/state`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer edit-token" },
    body: JSON.stringify({ value: "LOCKED", description: "do not touch" }),
  });
  t.is(res.status, 403, "no tokens configured in this test: bearer refused");
  // set the state through the client's signed transport: reuse the HMAC helper
  const { hmacHeaders } = await import("@metal-kube/metal-api");
  const locked = await fetch(`${h.url}/v1/machine/${m.id}/state`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...hmacHeaders({ key: "test-edit", authType: "Metal-Edit", method: "POST" }),
    },
    body: JSON.stringify({ value: "LOCKED", description: "do not touch" }),
  });
  t.is(locked.status, 200);
  const e = await t.throwsAsync(c.machine.free(m.id));
  t.is((e as MetalApiError).status, 422);
  t.is((e as MetalApiError).metalMessage, "machine is locked");
  t.truthy((await c.machine.get(m.id)).allocation);
  t.true(isNotFound(await t.throwsAsync(c.machine.free("no-such-machine"))));
});

test("IPs: ephemeral and static, given address, conflicts, machine scope, type change", async (t) => {
  const h = await startEmulator({ inventory: inventory() });
  t.teardown(() => h.close());
  const c = h.client();
  const eph = await c.ip.allocate({
    networkid: "internet",
    projectid: "proj-a",
    type: "ephemeral",
    name: "lb",
    tags: ["cluster.metal-stack.io/id/namespace/service=c1/default/web"],
  });
  t.is(eph.type, "ephemeral");
  t.is(eph.networkid, "internet");
  t.regex(eph.ipaddress, /^198\.18\./);
  const st = await c.ip.allocateAddress("198.18.7.7", {
    networkid: "internet",
    projectid: "proj-a",
    type: "static",
  });
  t.is(st.ipaddress, "198.18.7.7");
  t.true(
    isConflict(
      await t.throwsAsync(
        c.ip.allocateAddress("198.18.7.7", { networkid: "internet", projectid: "proj-b", type: "static" }),
      ),
    ),
  );
  const outside = await t.throwsAsync(
    c.ip.allocateAddress("192.0.2.1", { networkid: "internet", projectid: "p", type: "static" }),
  );
  t.is((outside as MetalApiError).status, 422);
  t.true(
    isNotFound(await t.throwsAsync(c.ip.allocate({ networkid: "nope", projectid: "p", type: "static" }))),
  );
  t.true(isNotFound(await t.throwsAsync(c.ip.get("198.18.9.9"))));

  t.deepEqual(
    (await c.ip.find({ tags: ["cluster.metal-stack.io/id/namespace/service=c1/default/web"] })).map(
      (i) => i.ipaddress,
    ),
    [eph.ipaddress],
  );
  t.deepEqual(
    (await c.ip.find({ projectid: "proj-a", type: "static" })).map((i) => i.ipaddress),
    ["198.18.7.7"],
  );
  t.deepEqual((await c.ip.find({ ipaddress: "198.18.7.7" })).length, 1);
  t.deepEqual((await c.ip.find({ networkprefix: "198.18.0.0/16", name: "lb" })).length, 1);

  // static -> ephemeral refused, ephemeral -> static fine, tags replaced
  const e1 = await t.throwsAsync(c.ip.update({ ipaddress: st.ipaddress, type: "ephemeral" }));
  t.is((e1 as MetalApiError).status, 400);
  const up = await c.ip.update({ ipaddress: eph.ipaddress, type: "static", tags: [] });
  t.is(up.type, "static");
  t.deepEqual(up.tags, []);

  // a machine-scoped IP cannot be freed
  const tagged = await c.ip.allocate({
    networkid: "internet",
    projectid: "proj-a",
    type: "static",
    machineid: "m-1",
  });
  t.true(tagged.tags!.includes("machine.metal-stack.io/id=m-1"));
  const e2 = await t.throwsAsync(c.ip.free(tagged.ipaddress));
  t.is((e2 as MetalApiError).status, 400);
  t.is((e2 as MetalApiError).metalMessage, "ip with machine scope can not be deleted");
  await c.ip.update({ ipaddress: tagged.ipaddress, type: "static", tags: [] });
  t.is((await c.ip.free(tagged.ipaddress)).ipaddress, tagged.ipaddress);
  t.true(isNotFound(await t.throwsAsync(c.ip.get(tagged.ipaddress))));
});

test("an IP in a project network is bound to that project; a static IP survives the machine", async (t) => {
  const h = await startEmulator({ inventory: inventory() });
  t.teardown(() => h.close());
  const c = h.client();
  const net = await projectNetwork(c);
  const e = await t.throwsAsync(c.ip.allocate({ networkid: net.id, projectid: "other", type: "ephemeral" }));
  t.is((e as MetalApiError).status, 422);
  const st = await c.ip.allocate({ networkid: "internet", projectid: "proj-a", type: "static" });
  const m = await c.machine.allocate(
    allocation(net.id, {
      ips: [st.ipaddress],
      networks: [
        { networkid: net.id, autoacquire: true },
        { networkid: "internet", autoacquire: false },
      ],
    }),
  );
  t.deepEqual(m.allocation!.networks.find((n) => n.networkid === "internet")!.ips, [st.ipaddress]);
  t.true((await c.ip.get(st.ipaddress)).tags!.includes(`machine.metal-stack.io/id=${m.id}`));
  await c.machine.free(m.id);
  await waitFor("released", async () => (await c.machine.get(m.id)).allocation === null);
  const after = await c.ip.get(st.ipaddress);
  t.is(after.type, "static");
  t.deepEqual(after.tags, []);
});

test("networks: allocate children of the super network (201), find, free", async (t) => {
  const h = await startEmulator({ inventory: inventory() });
  t.teardown(() => h.close());
  const c = h.client();
  const a = await c.network.allocate({
    partitionid: "p1",
    projectid: "proj-a",
    name: "a",
    labels: { x: "1" },
  });
  const b = await c.network.allocate({ partitionid: "p1", projectid: "proj-b", length: { IPv4: 24 } });
  t.is(a.parentnetworkid, "tenant-super-network-p1");
  t.deepEqual(a.prefixes, ["10.0.0.0/22"]);
  t.deepEqual(b.prefixes, ["10.0.4.0/24"]);
  t.not(a.vrf, b.vrf);
  t.false(a.privatesuper);
  t.is(a.usage.available_ips, 1022);
  t.deepEqual(
    (await c.network.find({ projectid: "proj-a" })).map((n) => n.id),
    [a.id],
  );
  t.deepEqual(
    (await c.network.find({ labels: { x: "1" } })).map((n) => n.id),
    [a.id],
  );
  t.deepEqual(
    (await c.network.find({ privatesuper: true, partitionid: "p1" })).map((n) => n.id),
    ["tenant-super-network-p1"],
  );
  t.deepEqual(
    (await c.network.find({ underlay: true, partitionid: "p1" })).map((n) => n.id),
    ["underlay-p1"],
  );
  t.deepEqual(
    (await c.network.find({ prefixes: ["10.0.4.0/24"] })).map((n) => n.id),
    [b.id],
  );
  t.is((await c.network.get("internet")).nat, true);
  const ip = await c.ip.allocate({ networkid: a.id, projectid: "proj-a", type: "ephemeral" });
  t.is((await c.network.get(a.id)).usage.used_ips, 1);
  const busy = await t.throwsAsync(c.network.free(a.id));
  t.is((busy as MetalApiError).status, 422);
  await c.ip.free(ip.ipaddress);
  t.is((await c.network.free(a.id)).id, a.id);
  t.true(isNotFound(await t.throwsAsync(c.network.get(a.id))));
  const notChild = await t.throwsAsync(c.network.free("internet"));
  t.is((notChild as MetalApiError).status, 400);
  const missing = await t.throwsAsync(c.network.allocate({ projectid: "x" }));
  t.is((missing as MetalApiError).status, 400);
  // the freed prefix is handed out again
  t.deepEqual((await c.network.allocate({ partitionid: "p1", projectid: "proj-c" })).prefixes, [
    "10.0.0.0/22",
  ]);
});

test("allocation errors answer as metal-api does", async (t) => {
  const h = await startEmulator({ inventory: inventory() });
  t.teardown(() => h.close());
  const c = h.client();
  const net = await projectNetwork(c);
  const status = async (p: Promise<unknown>) => ((await t.throwsAsync(p)) as MetalApiError).status;
  t.is(await status(c.machine.allocate(allocation(net.id, { imageid: "nope" }))), 400);
  t.is(await status(c.machine.allocate(allocation(net.id, { sizeid: "nope" }))), 400);
  t.is(await status(c.machine.allocate(allocation(net.id, { networks: [] }))), 400);
  t.is(await status(c.machine.allocate(allocation(net.id, { projectid: "other" }))), 422);
  t.is(
    await status(
      c.machine.allocate(allocation(net.id, { networks: [{ networkid: "internet", autoacquire: true }] })),
    ),
    422,
  );
  t.is(
    await status(
      c.machine.allocate(allocation(net.id, { networks: [{ networkid: "underlay-p1", autoacquire: true }] })),
    ),
    422,
  );
  t.is(await status(c.machine.allocate(allocation(net.id, { ssh_pub_keys: ["not a key"] }))), 422);
  t.is(await status(c.machine.allocate(allocation(net.id, { partitionid: "p9" }))), 404);
  t.is(await status(c.machine.allocate(allocation("no-such-net"))), 404);
  const wrongType = await t.throwsAsync(c.machine.allocate(allocation(net.id, { name: 42 })));
  t.is((wrongType as MetalApiError).status, 400);
  t.regex((wrongType as MetalApiError).metalMessage!, /name/);
  t.true(isNotFound(await t.throwsAsync(c.machine.get("nope"))));
  t.true(isNotFound(await t.throwsAsync(c.size.get("nope"))));
  t.is((await c.size.get("c1-large-x86")).id, "c1-large-x86");
  t.is((await c.image.get("ubuntu-24.04")).features?.[0], "machine");
  t.is((await c.partition.get("p1")).dns_servers?.[0]?.ip, "1.1.1.1");
  t.deepEqual(await c.health(), { status: "healthy", message: "", services: {} });
  // nothing leaked by the failed attempts
  t.deepEqual(await c.ip.find({}), []);
  t.deepEqual(await c.machine.find({ allocation_project: "proj-a" }), []);
});

test("an image version prefix resolves to the newest image of that line", async (t) => {
  const inv = inventory();
  inv.images = [
    { id: "ubuntu-24.04.20250101", features: ["machine"] },
    { id: "ubuntu-24.04.20250301", features: ["machine"] },
    { id: "ubuntu-24.04.20250201", features: ["machine"] },
  ];
  const h = await startEmulator({ inventory: inv });
  t.teardown(() => h.close());
  const c = h.client();
  const net = await projectNetwork(c);
  const m = await c.machine.allocate(allocation(net.id, { imageid: "ubuntu-24.04" }));
  t.is(m.allocation!.image?.id, "ubuntu-24.04.20250301");
  t.deepEqual(
    (await c.machine.find({ allocation_image_id: "ubuntu-24.04.20250301" })).map((x) => x.id),
    [m.id],
  );
  t.is(
    (await t.throwsAsync<MetalApiError>(c.machine.allocate(allocation(net.id, { imageid: "ubuntu-22.04" }))))!
      .status,
    400,
  );
});

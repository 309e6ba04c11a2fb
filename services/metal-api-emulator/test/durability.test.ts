import { readFileSync } from "node:fs";
import { makeTempDir, waitFor } from "@metal-kube/testing";
import test from "ava";
import { allocation, inventory, projectNetwork, startEmulator } from "./harness.js";

test("a restart keeps allocations, IPs, networks and the provisioning progress", async (t) => {
  const dir = makeTempDir("emulator-durable-");
  t.teardown(dir.remove);
  const stateFile = `${dir.path}/state/emulator.json`;
  const slow = { stepMs: 60_000, freeDelayMs: 20, phoneHomeMs: 60_000 };
  const h1 = await startEmulator({ inventory: inventory(), stateFile, provisioning: slow });
  const c1 = h1.client();
  const net = await projectNetwork(c1);
  const m = await c1.machine.allocate(allocation(net.id));
  const st = await c1.ip.allocate({
    networkid: "internet",
    projectid: "proj-a",
    type: "static",
    name: "keep",
  });
  const ipsBefore = (await c1.ip.find({})).map((i) => i.ipaddress).sort();
  await h1.close();
  t.is(JSON.parse(readFileSync(stateFile, "utf8")).version, 1);

  // the inventory given on restart is ignored: the state file wins
  const h2 = await startEmulator({
    inventory: inventory({ racks: 1, perRack: 1 }),
    stateFile,
    provisioning: { stepMs: 20, freeDelayMs: 20 },
  });
  t.teardown(() => h2.close());
  const c2 = h2.client();
  const again = await c2.machine.get(m.id);
  t.deepEqual(again.allocation, { ...m.allocation!, succeeded: again.allocation!.succeeded });
  t.deepEqual(again.tags.sort(), m.tags.sort());
  t.deepEqual((await c2.ip.find({})).map((i) => i.ipaddress).sort(), ipsBefore);
  t.is((await c2.ip.get(st.ipaddress)).name, "keep");
  t.deepEqual((await c2.network.get(net.id)).prefixes, net.prefixes);
  t.is((await c2.machine.find({})).length, 12);
  // provisioning resumes where it stopped
  await waitFor(
    "Phoned Home after restart",
    async () => (await c2.machine.get(m.id)).events.log[0]?.event === "Phoned Home",
  );
  // a new network does not reuse the restored one's prefix, a new machine not the restored ASN
  const net2 = await c2.network.allocate({ partitionid: "p1", projectid: "proj-b" });
  t.notDeepEqual(net2.prefixes, net.prefixes);
  const m2 = await c2.machine.allocate(allocation(net2.id, { projectid: "proj-b", name: "b" }));
  t.not(m2.allocation!.networks[0]!.asn, m.allocation!.networks[0]!.asn);
});

test("with persistence off a restart starts from the inventory", async (t) => {
  const dir = makeTempDir("emulator-volatile-");
  t.teardown(dir.remove);
  const stateFile = `${dir.path}/state.json`;
  const h1 = await startEmulator({ inventory: inventory(), stateFile, persist: false });
  const c1 = h1.client();
  await c1.machine.allocate(allocation((await projectNetwork(c1)).id));
  await h1.close();
  const h2 = await startEmulator({ inventory: inventory(), stateFile, persist: false });
  t.teardown(() => h2.close());
  t.deepEqual(await h2.client().machine.find({ allocation_project: "proj-a" }), []);
});

import { MACHINE_SUMMARY_SHAPE, type MachineResponse } from "@metal-kube/metal-api";
import { waitFor } from "@metal-kube/testing";
import test from "ava";
import { allocation, inventory, projectNetwork, startEmulator } from "./harness.js";

// Machine lists are served from JSON cached per machine until the next committed change: every kind of
// change must show in the very next find and list.

test("find and list never serve a stale machine: API writes, provisioning steps and updateMachine", async (t) => {
  const h = await startEmulator({
    inventory: inventory({ racks: 2, perRack: 3 }),
    provisioning: { stepMs: 150, freeDelayMs: 20, phoneHomeMs: 60_000 },
  });
  t.teardown(() => h.close());
  const c = h.client();
  const net = await projectNetwork(c);
  const find = async () => (await c.machine.find({ allocation_project: "proj-a" }))[0];
  t.is(await find(), undefined);
  const m = await c.machine.allocate(allocation(net.id));
  // Warm the cache, then change the machine each way and look again at once.
  t.is((await find())?.id, m.id);
  await h.client("Metal-Admin").machine.update({ id: m.id, description: "", tags: ["added=1"] });
  t.true((await find())?.tags.includes("added=1"), "API update");
  const before = (await find())!.events.log.length;
  await waitFor("a provisioning step", async () => (await find())!.events.log.length > before, {
    timeoutMs: 5_000,
  });
  await h.emulator.updateMachine(m.id, (r) => {
    r.crash_loop = true;
  });
  t.true((await find())?.events.crash_loop, "updateMachine");
  t.true((await c.machine.find({})).find((x) => x.id === m.id)?.events.crash_loop, "an unfiltered find");
  await c.machine.free(m.id);
  await waitFor("freed", async () => (await find()) === undefined, { timeoutMs: 5_000 });
  t.is((await c.machine.get(m.id)).allocation, null);
});

test("findSummaries returns exactly the summary fields of the full find", async (t) => {
  const h = await startEmulator({ inventory: inventory({ racks: 2, perRack: 3 }) });
  t.teardown(() => h.close());
  const c = h.client();
  const net = await projectNetwork(c);
  for (const i of [1, 2, 3])
    await c.machine.allocate(allocation(net.id, { name: `w-${i}`, hostname: `w-${i}` }));
  const q = { allocation_project: "proj-a" };
  const full = await c.machine.find(q);
  const project = (m: MachineResponse) => {
    const out: Record<string, unknown> = {};
    for (const [k, shape] of Object.entries(MACHINE_SUMMARY_SHAPE)) {
      const v = (m as unknown as Record<string, unknown>)[k];
      if (v === undefined) continue;
      out[k] =
        shape === true || v === null
          ? v
          : Object.fromEntries(Object.entries(v as object).filter(([kk]) => kk in shape));
    }
    return out;
  };
  t.is(full.length, 3);
  t.deepEqual(await c.machine.findSummaries(q), full.map(project));
  t.deepEqual(await c.machine.findSummaries({ allocation_project: "nobody" }), []);
});

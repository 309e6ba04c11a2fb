import { isNoMachineAvailable, type MetalApiError } from "@metal-kube/metal-api";
import { makeTempDir } from "@metal-kube/testing";
import test from "ava";
import { allocation, inventory, projectNetwork, startEmulator } from "./harness.js";

// 200 parallel allocations into 150 free machines, over real HTTP with 50 connections, with the durable
// state file on (group commit): exactly 150 succeed, 50 get 422, no machine is handed out twice.
test("200 concurrent allocations into 150 free machines", async (t) => {
  const dir = makeTempDir("emulator-concurrency-");
  t.teardown(dir.remove);
  const h = await startEmulator({
    inventory: inventory({ racks: 10, perRack: 15 }),
    stateFile: `${dir.path}/state.json`,
  });
  t.teardown(() => h.close());
  const c = h.client("Metal-Edit", { connections: 50, timeoutMs: 60_000 });
  const net = await projectNetwork(c);
  t.is((await c.machine.find({ partition_id: "p1" })).length, 150);
  const results = await Promise.allSettled(
    Array.from({ length: 200 }, (_, i) =>
      c.machine.allocate(allocation(net.id, { name: `w-${i}`, hostname: `w-${i}` })),
    ),
  );
  const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.flatMap((r) => (r.status === "rejected" ? [r.reason as MetalApiError] : []));
  t.is(ok.length, 150);
  t.is(failed.length, 50);
  t.true(failed.every(isNoMachineAvailable), failed.map((f) => f.message).join("; "));
  t.is(new Set(ok.map((m) => m.id)).size, 150, "no machine allocated twice");
  const ips = ok.flatMap((m) => m.allocation!.networks.flatMap((n) => n.ips));
  t.is(new Set(ips).size, ips.length, "no IP handed out twice");
  // the server agrees: every machine carries exactly one allocation with the name the answer said
  const all = await c.machine.find({ allocation_project: "proj-a" });
  t.is(all.length, 150);
  const byId = new Map(all.map((m) => [m.id, m.allocation!.name]));
  t.true(ok.every((m) => byId.get(m.id) === m.allocation!.name));
  // spread: 15 per rack over 10 racks
  const perRack = new Map<string, number>();
  for (const m of all) perRack.set(m.rackid!, (perRack.get(m.rackid!) ?? 0) + 1);
  t.deepEqual([...perRack.values()], Array(10).fill(15));
});

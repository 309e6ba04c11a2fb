// The machine directory's caching with a counting fake (the real lookups run against the emulator in
// grpc.test.ts): one find answers a burst of nodes, hits come from the snapshot until the TTL, a miss
// is always looked up afresh.

import type { MachineResponse } from "@metal-kube/metal-api";
import test from "ava";
import { createMachineDirectory, type MachinesApi } from "../src/machine-directory.js";

const machine = (id: string, hostname: string, project = "p", tags: string[] = []): MachineResponse =>
  ({ id, tags, allocation: { hostname, project } }) as unknown as MachineResponse;

function fake(list: MachineResponse[]) {
  const calls = { find: 0, get: 0 };
  const api: MachinesApi = {
    find: async () => {
      calls.find++;
      await new Promise((r) => setTimeout(r, 5));
      return structuredClone(list);
    },
    get: async (id) => {
      calls.get++;
      const m = list.find((x) => x.id === id);
      if (!m)
        throw Object.assign(new Error("not found"), { name: "MetalApiError", kind: "http", status: 404 });
      return structuredClone(m);
    },
    update: async () => {
      throw new Error("unused");
    },
  };
  return { api, calls, list };
}

test("a burst of 200 lookups by hostname costs one find; hits stay cached until the TTL", async (t) => {
  let now = 0;
  const f = fake(Array.from({ length: 200 }, (_, i) => machine(`m${i}`, `node-${i}`)));
  const dir = createMachineDirectory({
    machines: f.api,
    projectId: "p",
    clusterId: "c",
    ttlMs: 1000,
    now: () => now,
  });
  const found = await Promise.all(
    Array.from({ length: 200 }, (_, i) => dir.lookup({ hostname: `node-${i}` })),
  );
  t.is(found.filter(Boolean).length, 200);
  t.is(f.calls.find, 1);
  now = 500;
  t.is((await dir.lookup({ hostname: "node-7" }))?.id, "m7");
  t.is((await dir.lookup({ machineId: "m8" }))?.id, "m8");
  t.deepEqual(f.calls, { find: 1, get: 0 });
  now = 1500;
  await dir.lookup({ hostname: "node-7" });
  t.is(f.calls.find, 2);
});

test("misses and fresh lookups go to metal-api; other projects' machines are not ours", async (t) => {
  let now = 0;
  const f = fake([machine("m1", "node-1"), machine("x1", "node-x", "other")]);
  const dir = createMachineDirectory({
    machines: f.api,
    projectId: "p",
    clusterId: "c",
    ttlMs: 60_000,
    now: () => now,
  });
  t.is((await dir.lookup({ hostname: "node-1" }))?.id, "m1");
  // The machine is freed: a cached hit still says yes until the TTL, a fresh lookup says no.
  f.list.splice(0, 1);
  t.is((await dir.lookup({ hostname: "node-1" }))?.id, "m1");
  now = 1000;
  t.is(await dir.lookup({ hostname: "node-1" }, { fresh: true }), undefined);
  t.is(await dir.lookup({ machineId: "x1" }), undefined);
  t.is(await dir.lookup({ hostname: "node-x" }), undefined);
});

test("with two machines of one hostname in the project, the one of our cluster wins", async (t) => {
  const f = fake([
    machine("theirs", "node-1", "p", ["cluster.metal-stack.io/id=other"]),
    machine("ours", "node-1", "p", ["cluster.metal-stack.io/id=c"]),
  ]);
  const dir = createMachineDirectory({ machines: f.api, projectId: "p", clusterId: "c", ttlMs: 60_000 });
  t.is((await dir.lookup({ hostname: "node-1" }))?.id, "ours");
});

test("a miss right after a refresh looks again: a machine allocated meanwhile is found", async (t) => {
  const f = fake([machine("m1", "node-1")]);
  const dir = createMachineDirectory({ machines: f.api, projectId: "p", clusterId: "c", ttlMs: 60_000 });
  t.truthy(await dir.lookup({ hostname: "node-1" }));
  f.list.push(machine("m2", "node-2"));
  t.is((await dir.lookup({ hostname: "node-2" }))?.id, "m2");
  t.is(f.calls.find, 2);
  // A burst of misses shares the finds: at most the running one and one more.
  f.list.push(...Array.from({ length: 50 }, (_, i) => machine(`b${i}`, `burst-${i}`)));
  await Promise.all(Array.from({ length: 50 }, (_, i) => dir.lookup({ hostname: `burst-${i}` })));
  t.true(f.calls.find <= 4);
});

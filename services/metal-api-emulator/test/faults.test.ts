import { hmacHeaders, type MetalApiError } from "@metal-kube/metal-api";
import test from "ava";
import { allocation, inventory, KEYS, projectNetwork, startEmulator } from "./harness.js";

async function setFaults(url: string, patch: Record<string, unknown>) {
  const res = await fetch(`${url}/emulator/faults`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...hmacHeaders({ key: KEYS["Metal-Admin"], authType: "Metal-Admin", method: "POST" }),
    },
    body: JSON.stringify(patch),
  });
  if (res.status !== 200) throw new Error(`faults: ${res.status} ${await res.text()}`);
}

test("a dropped allocate answer: the machine is allocated, the client sees a lost connection, a find resolves it", async (t) => {
  const h = await startEmulator({ inventory: inventory() });
  t.teardown(() => h.close());
  const c = h.client();
  const net = await projectNetwork(c);
  await setFaults(h.url, { dropAllocateResponses: 1 });
  const e = (await t.throwsAsync(
    c.machine.allocate(allocation(net.id, { name: "lost-1" })),
  )) as MetalApiError;
  t.is(e.kind, "connection");
  t.is(e.attempts, 1, "an allocate is never retried");
  const found = await c.machine.find({ allocation_name: "lost-1", allocation_project: "proj-a" });
  t.is(found.length, 1);
  t.is(h.emulator.faults.dropAllocateResponses, 0);
  t.truthy((await c.machine.allocate(allocation(net.id, { name: "ok-2" }))).allocation);
});

test("error rate: reads are retried through injected 500s; down closes /v1 but not the control endpoints", async (t) => {
  const h = await startEmulator({ inventory: inventory() });
  t.teardown(() => h.close());
  const c = h.client("Metal-Edit", { retries: 0 });
  await setFaults(h.url, { errorRate: 1 });
  const e = (await t.throwsAsync(c.size.list())) as MetalApiError;
  t.deepEqual([e.status, e.metalMessage], [500, "injected fault"]);
  // allocations fail cleanly under injected errors: nothing is taken
  await t.throwsAsync(c.network.allocate({ partitionid: "p1", projectid: "a" }));
  await setFaults(h.url, { errorRate: 0.5 });
  const patient = h.client("Metal-Edit", { retries: 30 });
  for (let i = 0; i < 10; i++) t.is((await patient.size.list()).length, 2);
  await setFaults(h.url, { errorRate: 0, down: true });
  const d = (await t.throwsAsync(c.size.list())) as MetalApiError;
  t.is(d.kind, "connection");
  t.is((await fetch(`${h.url}/emulator/faults`)).status, 200);
  await setFaults(h.url, { down: false });
  t.is((await c.size.list()).length, 2);
  t.deepEqual(await c.network.find({ projectid: "a" }), []);
});

test("latency is added to every /v1 call (and the client's deadline catches it)", async (t) => {
  const h = await startEmulator({ inventory: inventory(), faults: { latencyMs: 300 } });
  t.teardown(() => h.close());
  const c = h.client("Metal-Edit", { retries: 0 });
  const started = Date.now();
  await c.size.list();
  t.true(Date.now() - started >= 290);
  t.is(((await t.throwsAsync(c.size.list({ timeoutMs: 100 }))) as MetalApiError).kind, "timeout");
});

test("the status page and /emulator/state show machines with allocation", async (t) => {
  const h = await startEmulator({ inventory: inventory() });
  t.teardown(() => h.close());
  const c = h.client();
  const m = await c.machine.allocate(allocation((await projectNetwork(c)).id));
  const page = await fetch(`${h.url}/`);
  t.regex(page.headers.get("content-type")!, /text\/html/);
  t.regex(await page.text(), /emulator\/state/);
  const s = (await (await fetch(`${h.url}/emulator/state`)).json()) as {
    partitions: { id: string; allocated: number }[];
    machines: {
      id: string;
      allocation: { hostname: string; ips: string[] } | null;
      lastEvent: string;
      liveliness: string;
    }[];
    networks: { id: string }[];
    ips: unknown[];
  };
  t.deepEqual(
    s.partitions.map((p) => [p.id, p.allocated]),
    [["p1", 1]],
  );
  const row = s.machines.find((x) => x.id === m.id)!;
  t.is(row.allocation?.hostname, "shoot--p--w-1");
  t.is(row.allocation?.ips.length, 2);
  t.is(row.liveliness, "Alive");
  t.is(s.ips.length, 2);
  t.true(s.networks.length >= 4);
});

test("control: a machine can crash, crash-loop or go silent; the clock stops at Crashed", async (t) => {
  const h = await startEmulator({
    inventory: inventory(),
    provisioning: { stepMs: 200, freeDelayMs: 20, phoneHomeMs: 60_000 },
  });
  t.teardown(() => h.close());
  const c = h.client();
  const m = await c.machine.allocate(allocation((await projectNetwork(c)).id));
  const patch = async (body: unknown) => {
    const res = await fetch(`${h.url}/emulator/machines/${m.id}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...hmacHeaders({ key: KEYS["Metal-Admin"], authType: "Metal-Admin", method: "POST" }),
      },
      body: JSON.stringify(body),
    });
    t.is(res.status, 200, await res.clone().text());
  };
  await patch({ event: { event: "Crashed", message: "kernel panic" }, crash_loop: true });
  await new Promise((r) => setTimeout(r, 500));
  const g = await c.machine.get(m.id);
  t.is(g.events.log[0]?.event, "Crashed");
  t.is(g.events.log[0]?.message, "kernel panic");
  t.true(g.events.crash_loop);
  t.false(g.allocation!.succeeded);
  await patch({ liveliness: "Unknown" });
  t.is((await c.machine.get(m.id)).liveliness, "Unknown");
  // a non-Alive machine is never picked for allocation
  const [other] = (await c.machine.find({ partition_id: "p1" })).filter((x) => x.allocation === null);
  await fetch(`${h.url}/emulator/machines/${other!.id}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...hmacHeaders({ key: KEYS["Metal-Admin"], authType: "Metal-Admin", method: "POST" }),
    },
    body: JSON.stringify({ liveliness: "Dead" }),
  });
  const net2 = await c.network.allocate({ partitionid: "p1", projectid: "proj-b" });
  const picked = new Set<string>();
  for (let i = 0; i < 10; i++) {
    picked.add((await c.machine.allocate(allocation(net2.id, { projectid: "proj-b", name: `b${i}` }))).id);
  }
  t.false(picked.has(other!.id));
});

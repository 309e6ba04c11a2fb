// Unit tests of the IP logic's failure paths with a fake metal-api (the happy paths run against the
// real emulator in grpc.test.ts): rollback of a fresh allocation, and per-IP serialisation.

import { createLogger } from "@metal-kube/logging";
import { type IpResponse, MetalApiError } from "@metal-kube/metal-api";
import test from "ava";
import { noEvents } from "../src/events.js";
import { createKeyedLock } from "../src/keyed-lock.js";
import { createLoadBalancers, type IpsApi, networkOfPool } from "../src/load-balancers.js";
import { lbService } from "./harness.js";

const logger = createLogger({ name: "test", level: "silent" });

function fakeIps() {
  const ips = new Map<string, IpResponse>();
  let next = 1;
  let concurrentUpdates = 0;
  let maxConcurrentUpdates = 0;
  const api: IpsApi = {
    async allocate(req) {
      const ip: IpResponse = {
        ipaddress: `198.18.0.${next++}`,
        allocationuuid: String(next),
        networkid: req.networkid,
        projectid: req.projectid,
        type: req.type,
        tags: req.tags ?? [],
        created: new Date(Date.now() + next).toISOString(),
      };
      ips.set(ip.ipaddress, ip);
      return structuredClone(ip);
    },
    async get(addr) {
      const ip = ips.get(addr);
      if (!ip)
        throw new MetalApiError({
          kind: "http",
          status: 404,
          operation: "ip.get",
          metalMessage: "not found",
        });
      return structuredClone(ip);
    },
    async find(req) {
      return [...ips.values()]
        .filter((i) => (req.tags ?? []).every((t) => i.tags?.includes(t)))
        .map((i) => structuredClone(i));
    },
    async update(req) {
      concurrentUpdates++;
      maxConcurrentUpdates = Math.max(maxConcurrentUpdates, concurrentUpdates);
      await new Promise((r) => setTimeout(r, 5));
      concurrentUpdates--;
      const ip = ips.get(req.ipaddress)!;
      ip.tags = req.tags;
      return structuredClone(ip);
    },
    async free(addr) {
      const ip = ips.get(addr)!;
      ips.delete(addr);
      return ip;
    },
  };
  return { api, ips, maxConcurrent: () => maxConcurrentUpdates };
}

const make = (api: IpsApi) =>
  createLoadBalancers({
    ips: api,
    projectId: "p",
    clusterId: "c",
    defaultExternalNetworkId: "internet",
    events: noEvents,
    logger,
  });

test("a failure after a fresh allocation rolls the allocation back", async (t) => {
  const fake = fakeIps();
  const lbs = make(fake.api);
  const first = await lbs.ensure(lbService("svc"));
  // The Service moves to another pool; releasing the old IP fails, so the new one must not stay.
  const get = fake.api.get;
  fake.api.get = async (addr, o) => {
    if (addr === first.ip.address)
      throw new MetalApiError({ kind: "http", status: 500, operation: "ip.get", metalMessage: "boom" });
    return get(addr, o);
  };
  await t.throwsAsync(
    lbs.ensure(lbService("svc", { annotations: { "metallb.io/address-pool": "ext2-ephemeral" } })),
  );
  t.deepEqual([...fake.ips.keys()], [first.ip.address]);
});

test("tag updates of one IP are serialised; different IPs run in parallel", async (t) => {
  const fake = fakeIps();
  const shared = await fake.api.allocate({ networkid: "internet", projectid: "p", type: "static" });
  const lbs = make(fake.api);
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      lbs.ensure(lbService(`s${i}`, { loadBalancerIp: shared.ipaddress })),
    ),
  );
  t.is(fake.maxConcurrent(), 1);
  t.is(fake.ips.get(shared.ipaddress)!.tags!.length, 20);
  t.is(lbs.pendingLocks, 0);
});

test("keyed lock: same key in order, errors do not block the queue", async (t) => {
  const lock = createKeyedLock();
  const order: number[] = [];
  const a = lock.run("k", async () => {
    await new Promise((r) => setTimeout(r, 10));
    order.push(1);
    throw new Error("x");
  });
  const b = lock.run("k", async () => {
    order.push(2);
  });
  await t.throwsAsync(a);
  await b;
  t.deepEqual(order, [1, 2]);
  await new Promise((r) => setImmediate(r));
  t.is(lock.size, 0);
});

test("pool names map to networks", (t) => {
  t.is(networkOfPool("internet-ephemeral"), "internet");
  t.is(networkOfPool("internet-static"), "internet");
  t.is(networkOfPool("internet"), "internet");
  t.is(networkOfPool("my-net-static"), "my-net");
});

test("address keys sort addresses numerically, IPv4 before IPv6", async (t) => {
  const { addressKey } = await import("../src/lb-config.js");
  const sorted = ["2001:db8::10", "198.18.0.10/32", "10.0.0.2", "2001:db8::9", "198.18.0.9", "::1"]
    .map((a) => [addressKey(a), a] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([, a]) => a);
  t.deepEqual(sorted, ["10.0.0.2", "198.18.0.9", "198.18.0.10/32", "::1", "2001:db8::9", "2001:db8::10"]);
});

import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { hmacHeaders, isNotFound } from "@metal-kube/metal-api";
import { waitFor } from "@metal-kube/testing";
import test from "ava";
import { allocation, inventory, KEYS, startEmulator } from "./harness.js";
import { loadSpec } from "./swagger.js";

// Every request the client sends and every answer the emulator gives, recorded by a proxy on the wire
// between them, is validated against metal-api's own spec: neither side can drift from the real API.

interface Exchange {
  method: string;
  path: string;
  requestBody: unknown;
  status: number;
  responseBody: unknown;
}

async function recordingProxy(target: string) {
  const exchanges: Exchange[] = [];
  const t = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const reqText = Buffer.concat(chunks).toString();
      const up = request(
        { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          const out: Buffer[] = [];
          upRes.on("data", (c: Buffer) => out.push(c));
          upRes.on("end", () => {
            const text = Buffer.concat(out).toString();
            exchanges.push({
              method: req.method!,
              path: new URL(req.url!, "http://x").pathname,
              requestBody: reqText ? JSON.parse(reqText) : undefined,
              status: upRes.statusCode!,
              responseBody: text ? JSON.parse(text) : undefined,
            });
            res.writeHead(upRes.statusCode!, upRes.headers);
            res.end(text);
          });
        },
      );
      up.on("error", () => res.destroy());
      up.end(reqText);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exchanges,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

test("the spec validator itself catches drift (a test that can fail)", (t) => {
  const spec = loadSpec();
  t.deepEqual(
    spec.check("GET", "/v1/ip/10.0.0.1", undefined, 200, {
      ipaddress: "10.0.0.1",
      allocationuuid: "u",
      networkid: "n",
      projectid: "p",
      type: "static",
    }),
    [],
  );
  t.true(
    spec.check("GET", "/v1/ip/10.0.0.1", undefined, 200, { ipaddress: "10.0.0.1" }).length > 0,
    "missing required fields",
  );
  t.true(
    spec.check("POST", "/v1/ip/find", { projectId: "camelCase" }, 200, []).length > 0,
    "unknown request field",
  );
  t.true(
    spec.check("POST", "/v1/ip/allocate", { networkid: "n", projectid: "p", type: "static" }, 200, {})
      .length > 0,
    "200 instead of 201",
  );
  t.deepEqual(spec.check("GET", "/v1/machine/x", undefined, 404, { statuscode: 404, message: "no" }), []);
  const ip = { ipaddress: "10.0.0.1", allocationuuid: "u", networkid: "n", projectid: "p", type: "static" };
  t.true(
    spec.check("GET", "/v1/ip/10.0.0.1", undefined, 200, { ...ip, extra: 1 }).length > 0,
    "field not in the spec",
  );
  t.true(
    spec.check("GET", "/v1/ip/10.0.0.1", undefined, 200, { ...ip, type: "floating" }).length > 0,
    "enum",
  );
  t.true(spec.check("GET", "/v1/machine/x", undefined, 404, { status: 404 }).length > 0, "error body shape");
});

test("every request and answer of a full client session conforms to metal-api's spec", async (t) => {
  const h = await startEmulator({ inventory: inventory() });
  t.teardown(() => h.close());
  const proxy = await recordingProxy(h.url);
  t.teardown(() => proxy.close());
  const c = h.client("Metal-Edit", { url: proxy.url });
  const admin = h.client("Metal-Admin", { url: proxy.url });

  await c.health();
  await c.partition.list();
  await c.partition.get("p1");
  await c.size.list();
  await c.size.get("c1-large-x86");
  await c.image.list();
  await c.image.get("ubuntu-24.04");
  const net = await c.network.allocate({
    partitionid: "p1",
    projectid: "proj-a",
    name: "nodes",
    labels: { a: "b" },
    length: { IPv4: 24 },
  });
  await c.network.get(net.id);
  await c.network.find({ partitionid: "p1", privatesuper: true });
  await c.network.find({ projectid: "proj-a", labels: { a: "b" } });
  const req = allocation(net.id);
  const m = await c.machine.allocate(req);
  await c.machine.get(m.id);
  await c.machine.find({
    allocation_project: "proj-a",
    tags: ["cluster.metal-stack.io/id=c1"],
    allocation_role: "machine",
  });
  await c.machine.find({ id: m.id, partition_id: "p1", sizeid: "c1-large-x86", rackid: m.rackid! });
  await admin.machine.update({ id: m.id, description: "d", tags: ["x=y"], ssh_pub_keys: req.ssh_pub_keys });
  const fw = await c.firewall.allocate({
    ...allocation(net.id, { imageid: "firewall-ubuntu-3.0", name: "fw", hostname: "fw" }),
    firewall_rules: {
      egress: [{ ports: [53], protocol: "udp", to: ["1.1.1.1/32"], comment: "dns" }],
      ingress: [{ ports: [22], from: ["0.0.0.0/0"] }],
    },
  });
  await c.firewall.get(fw.id);
  await c.firewall.find({ allocation_project: "proj-a" });
  const ip = await c.ip.allocate({
    networkid: "internet",
    projectid: "proj-a",
    type: "ephemeral",
    name: "lb",
    description: "svc",
    tags: ["t=1"],
  });
  const fixed = await c.ip.allocateAddress("198.18.200.1", {
    networkid: "internet",
    projectid: "proj-a",
    type: "static",
  });
  await c.ip.get(ip.ipaddress);
  await c.ip.find({ projectid: "proj-a", networkid: "internet", tags: ["t=1"], type: "ephemeral" });
  await c.ip.update({ ipaddress: ip.ipaddress, type: "static", name: "lb2", description: "x", tags: [] });
  await c.ip.free(fixed.ipaddress);
  // endpoints the client does not wrap, answered by the emulator all the same
  const signed = (method: string) => hmacHeaders({ key: KEYS["Metal-Edit"], authType: "Metal-Edit", method });
  for (const path of ["/v1/machine", "/v1/firewall", "/v1/ip", "/v1/network"]) {
    t.is((await fetch(`${proxy.url}${path}`, { headers: signed("GET") })).status, 200, path);
  }
  const state = await fetch(`${proxy.url}/v1/machine/${m.id}/state`, {
    method: "POST",
    headers: { "content-type": "application/json", ...signed("POST") },
    body: JSON.stringify({ value: "RESERVED", description: "kept for debugging", metal_hammer_version: "" }),
  });
  t.is(state.status, 200);
  await fetch(`${proxy.url}/v1/machine/${m.id}/state`, {
    method: "POST",
    headers: { "content-type": "application/json", ...signed("POST") },
    body: JSON.stringify({ value: "", description: "", metal_hammer_version: "" }),
  });
  // error answers are part of the contract too
  await t.throwsAsync(c.machine.get("nope"));
  await t.throwsAsync(
    c.ip.allocateAddress(ip.ipaddress, { networkid: "internet", projectid: "proj-a", type: "static" }),
  );
  await t.throwsAsync(c.machine.allocate(allocation(net.id, { partitionid: "p1", sizeid: "n1-medium-x86" })));
  t.true(isNotFound(await t.throwsAsync(c.network.get("nope"))));
  await c.machine.free(m.id);
  await c.machine.free(fw.id);
  await waitFor(
    "released",
    async () => (await c.machine.find({ allocation_project: "proj-a" })).length === 0,
  );
  await c.network.free(net.id);

  const spec = loadSpec();
  const problems = proxy.exchanges.flatMap((e) =>
    spec.check(e.method, e.path, e.requestBody, e.status, e.responseBody),
  );
  t.deepEqual(problems, []);
  // the session really covered the operations of the client
  const ops = new Set(proxy.exchanges.map((e) => `${e.method} ${spec.operation(e.method, e.path)?.path}`));
  for (const op of [
    "POST /v1/machine/allocate",
    "GET /v1/machine/{id}",
    "POST /v1/machine/find",
    "POST /v1/machine",
    "DELETE /v1/machine/{id}/free",
    "POST /v1/firewall/allocate",
    "GET /v1/firewall/{id}",
    "POST /v1/firewall/find",
    "POST /v1/ip/allocate",
    "POST /v1/ip/allocate/{ip}",
    "GET /v1/ip/{id}",
    "POST /v1/ip/find",
    "POST /v1/ip",
    "DELETE /v1/ip/free/{id}",
    "POST /v1/network/allocate",
    "GET /v1/network/{id}",
    "POST /v1/network/find",
    "DELETE /v1/network/free/{id}",
    "GET /v1/partition",
    "GET /v1/partition/{id}",
    "GET /v1/size",
    "GET /v1/size/{id}",
    "GET /v1/image",
    "GET /v1/image/{id}",
    "GET /v1/health",
    "GET /v1/machine",
    "GET /v1/firewall",
    "GET /v1/ip",
    "GET /v1/network",
    "POST /v1/machine/{id}/state",
  ]) {
    t.true(ops.has(op), `not exercised: ${op}`);
  }
  t.true(proxy.exchanges.length >= 30, `${proxy.exchanges.length} exchanges`);
});

// The CloudProvider over real gRPC (the ccm as its own process) against the real metal-api emulator.

import { randomUUID } from "node:crypto";
import { status as Status } from "@grpc/grpc-js";
import { AddressType, IpType, LoadBalancerMode } from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import { checkHealth, startNats, waitFor } from "@metal-kube/testing";
import test, { type ExecutionContext } from "ava";
import { connect } from "nats";
import {
  ADMIN_KEY,
  type CcmClient,
  type CcmProcess,
  CLUSTER,
  ccmClient,
  ccmEnv,
  grpcError,
  lbService,
  type MetalBed,
  PARTITION,
  PROJECT,
  SSH_KEY,
  setLiveliness,
  startCcm,
  startMetal,
} from "./harness.js";

let metal: MetalBed;
let ccm: CcmProcess;
let client: CcmClient;
let admin: CcmProcess;
let adminClient: CcmClient;

const svcTag = (name: string, ns = "default") =>
  `cluster.metal-stack.io/id/namespace/service=${CLUSTER}/${ns}/${name}`;

test.before(async () => {
  metal = await startMetal({ machines: 12 });
  [ccm, admin] = await Promise.all([
    startCcm(ccmEnv(metal.url, { INSTANCE_CACHE_TTL: "300ms" })),
    startCcm(
      ccmEnv(metal.url, {
        METAL_API_HMAC: ADMIN_KEY,
        METAL_API_HMAC_AUTH_TYPE: "Metal-Admin",
        METAL_SSH_PUBLICKEY: SSH_KEY,
      }),
    ),
  ]);
  client = ccmClient(ccm.address);
  adminClient = ccmClient(admin.address);
});

test.after.always(async () => {
  client?.close();
  adminClient?.close();
  await Promise.all([ccm?.stop(), admin?.stop()]);
  await metal?.close();
});

test("serves health on the CloudProvider service", async (t) => {
  t.is(await checkHealth(ccm.address, "metalstack.ccm.v1.CloudProvider"), "SERVING");
});

test("InstanceMetadata by providerID and by node name: type, addresses, zone, region, tag labels", async (t) => {
  const m = await metal.allocateMachine("worker-md-1");
  const internal = m.allocation!.networks.find((n) => n.networkid === metal.networkId)!.ips[0]!;
  const external = m.allocation!.networks.find((n) => n.networkid === "internet")!.ips[0]!;
  const byId = await client.instanceMetadata({
    node: { providerId: `metal://${PARTITION}/${m.id}`, nodeName: "" },
  });
  t.is(byId.providerId, `metal://${PARTITION}/${m.id}`);
  t.is(byId.instanceType, "c1-large-x86");
  t.is(byId.zone, PARTITION);
  t.is(byId.region, "fra");
  t.deepEqual(byId.nodeAddresses, [
    { type: AddressType.ADDRESS_TYPE_INTERNAL_IP, address: internal },
    { type: AddressType.ADDRESS_TYPE_EXTERNAL_IP, address: external },
    { type: AddressType.ADDRESS_TYPE_HOSTNAME, address: "worker-md-1" },
  ]);
  t.is(byId.labels["cluster.metal-stack.io/id"], CLUSTER);
  t.regex(byId.labels["machine.metal-stack.io/network.primary.asn"] ?? "", /^\d+$/);
  const byName = await client.instanceMetadata({ node: { providerId: "", nodeName: "worker-md-1" } });
  t.deepEqual(byName, byId);
  // Older providerID form: the machine id is the last segment.
  const old = await client.instanceMetadata({ node: { providerId: `metal:///${m.id}`, nodeName: "" } });
  t.is(old.machineId, m.id);
  const zone = await client.getZone({ node: { providerId: "", nodeName: "worker-md-1" } });
  t.deepEqual(zone, { zone: PARTITION, region: "fra" });
});

test("instance lookups: unknown machines, bad input, another project's machine", async (t) => {
  const unknown = await grpcError(
    client.instanceMetadata({ node: { providerId: `metal://${PARTITION}/${randomUUID()}`, nodeName: "" } }),
  );
  t.is(unknown.code, Status.NOT_FOUND);
  t.deepEqual(await client.instanceExists({ node: { providerId: "", nodeName: "no-such-node" } }), {
    exists: false,
  });
  const bad = await grpcError(client.instanceExists({ node: { providerId: "aws:///i-123", nodeName: "" } }));
  t.is(bad.code, Status.INVALID_ARGUMENT);
  t.regex(bad.details, /^node\.provider_id: must start with metal:\/\//);
  const empty = await grpcError(client.instanceExists({ node: { providerId: "", nodeName: "" } }));
  t.is(empty.code, Status.INVALID_ARGUMENT);
  t.regex(empty.details, /^node: needs provider_id or node_name/);
  const foreign = await metal.allocateMachine("foreign-1", { project: "other-project" });
  t.deepEqual(
    await client.instanceExists({ node: { providerId: `metal://${PARTITION}/${foreign.id}`, nodeName: "" } }),
    {
      exists: false,
    },
  );
});

test("InstanceExists turns false once the machine is freed; InstanceShutdown follows liveliness", async (t) => {
  const m = await metal.allocateMachine("worker-gone-1");
  const node = { providerId: `metal://${PARTITION}/${m.id}`, nodeName: "" };
  t.deepEqual(await client.instanceExists({ node }), { exists: true });
  t.deepEqual(await client.instanceShutdown({ node }), { shutdown: false });
  await setLiveliness(metal.url, m.id, "Dead");
  t.deepEqual(await client.instanceShutdown({ node }), { shutdown: true });
  await setLiveliness(metal.url, m.id, "Alive");
  t.deepEqual(await client.instanceShutdown({ node }), { shutdown: false });
  await metal.edit.machine.free(m.id);
  await waitFor("exists=false", async () => !(await client.instanceExists({ node })).exists, {
    timeoutMs: 10_000,
  });
  t.pass();
});

test("EnsureLoadBalancer allocates an ephemeral IP in the default network, tagged; idempotent", async (t) => {
  const r = await client.ensureLoadBalancer({ service: lbService("web"), nodes: [] });
  t.true(r.allocated);
  t.is(r.ip?.networkId, "internet");
  t.is(r.ip?.type, IpType.IP_TYPE_EPHEMERAL);
  t.deepEqual(r.ip?.services, ["default/web"]);
  const ip = await metal.edit.ip.get(r.ip!.address);
  t.deepEqual(ip.tags, [svcTag("web")]);
  t.is(ip.projectid, PROJECT);
  const again = await client.ensureLoadBalancer({ service: lbService("web"), nodes: [] });
  t.false(again.allocated);
  t.is(again.ip?.address, r.ip?.address);
  t.deepEqual(again.status?.ingress, [{ ip: r.ip!.address }]);
  const got = await client.getLoadBalancer({ service: lbService("web") });
  t.true(got.exists);
  t.deepEqual(await client.updateLoadBalancer({ service: lbService("web"), nodes: [] }), {
    status: got.status,
  });
  const del = await client.ensureLoadBalancerDeleted({ service: lbService("web") });
  t.deepEqual(del, { untagged: [], freed: [r.ip!.address] });
  t.is(
    await metal.edit.ip.get(r.ip!.address).then(
      () => 200,
      (e: { status?: number }) => e.status,
    ),
    404,
  );
  t.false((await client.getLoadBalancer({ service: lbService("web") })).exists);
  t.deepEqual(await client.ensureLoadBalancerDeleted({ service: lbService("web") }), {
    untagged: [],
    freed: [],
  });
  t.is(
    (await grpcError(client.updateLoadBalancer({ service: lbService("web"), nodes: [] }))).code,
    Status.NOT_FOUND,
  );
});

test("address-pool annotations choose the network (-ephemeral and -static stripped); unknown network named", async (t) => {
  const a = await client.ensureLoadBalancer({
    service: lbService("pool-a", { annotations: { "metallb.io/address-pool": "ext2-ephemeral" } }),
    nodes: [],
  });
  t.is(a.ip?.networkId, "ext2");
  const b = await client.ensureLoadBalancer({
    service: lbService("pool-b", { annotations: { "metallb.universe.tf/address-pool": "ext2-static" } }),
    nodes: [],
  });
  t.is(b.ip?.networkId, "ext2");
  t.is(b.ip?.type, IpType.IP_TYPE_EPHEMERAL);
  const bad = await grpcError(
    client.ensureLoadBalancer({
      service: lbService("pool-c", { annotations: { "metallb.io/address-pool": "nope-ephemeral" } }),
      nodes: [],
    }),
  );
  t.is(bad.code, Status.INVALID_ARGUMENT);
  t.regex(bad.details, /^service\.annotations\[metallb\.io\/address-pool\]: network "nope" does not exist/);
  // Pool changed: the Service moves to the new network and the old IP is freed.
  const moved = await client.ensureLoadBalancer({ service: lbService("pool-a"), nodes: [] });
  t.is(moved.ip?.networkId, "internet");
  t.deepEqual(moved.released, [a.ip!.address]);
  await client.ensureLoadBalancerDeleted({ service: lbService("pool-a") });
  await client.ensureLoadBalancerDeleted({ service: lbService("pool-b") });
});

test("requested static IP: tagged, never freed; refused when missing, foreign, or used by a machine", async (t) => {
  const stat = await metal.edit.ip.allocate({
    networkid: "internet",
    projectid: PROJECT,
    type: "static",
    name: "my-static",
  });
  const r = await client.ensureLoadBalancer({
    service: lbService("static-1", { loadBalancerIp: stat.ipaddress }),
    nodes: [],
  });
  t.false(r.allocated);
  t.is(r.ip?.type, IpType.IP_TYPE_STATIC);
  t.deepEqual((await metal.edit.ip.get(stat.ipaddress)).tags, [svcTag("static-1")]);
  const del = await client.ensureLoadBalancerDeleted({ service: lbService("static-1") });
  t.deepEqual(del, { untagged: [stat.ipaddress], freed: [] });
  const after = await metal.edit.ip.get(stat.ipaddress);
  t.deepEqual(after.tags ?? [], []);
  t.is(after.type, "static");

  const missing = await grpcError(
    client.ensureLoadBalancer({ service: lbService("s2", { loadBalancerIp: "198.18.250.250" }), nodes: [] }),
  );
  t.is(missing.code, Status.FAILED_PRECONDITION);
  t.regex(missing.details, /^service\.load_balancer_ip: 198\.18\.250\.250 is not allocated/);
  const foreign = await metal.edit.ip.allocate({
    networkid: "internet",
    projectid: "other-project",
    type: "static",
  });
  const f = await grpcError(
    client.ensureLoadBalancer({ service: lbService("s3", { loadBalancerIp: foreign.ipaddress }), nodes: [] }),
  );
  t.is(f.code, Status.FAILED_PRECONDITION);
  t.regex(f.details, /another project/);
  const m = await metal.allocateMachine("worker-ip-1");
  const machineIp = m.allocation!.networks.find((n) => n.networkid === "internet")!.ips[0]!;
  const used = await grpcError(
    client.ensureLoadBalancer({ service: lbService("s4", { loadBalancerIp: machineIp }), nodes: [] }),
  );
  t.is(used.code, Status.FAILED_PRECONDITION);
  t.regex(used.details, /in use by a machine or as egress IP/);
  const egress = await metal.edit.ip.allocate({
    networkid: "internet",
    projectid: PROJECT,
    type: "static",
    tags: [`cluster.metal-stack.io/id/egress=${CLUSTER}`],
  });
  t.is(
    (
      await grpcError(
        client.ensureLoadBalancer({
          service: lbService("s5", { loadBalancerIp: egress.ipaddress }),
          nodes: [],
        }),
      )
    ).code,
    Status.FAILED_PRECONDITION,
  );
  const notIp = await grpcError(
    client.ensureLoadBalancer({ service: lbService("s6", { loadBalancerIp: "1.2.3" }), nodes: [] }),
  );
  t.is(notIp.code, Status.INVALID_ARGUMENT);
  t.regex(notIp.details, /^service\.load_balancer_ip: /);
  t.is(
    (await grpcError(client.ensureLoadBalancer({ service: lbService("", {}), nodes: [] }))).details,
    "service.name: is required",
  );
});

test("a Service that changes its IP releases the old one (no leak)", async (t) => {
  const first = await client.ensureLoadBalancer({ service: lbService("mover"), nodes: [] });
  const stat = await metal.edit.ip.allocate({ networkid: "internet", projectid: PROJECT, type: "static" });
  const second = await client.ensureLoadBalancer({
    service: lbService("mover", { loadBalancerIp: stat.ipaddress }),
    nodes: [],
  });
  t.deepEqual(second.released, [first.ip!.address]);
  t.is(
    await metal.edit.ip.get(first.ip!.address).then(
      () => 200,
      (e: { status?: number }) => e.status,
    ),
    404,
  );
  const held = await client.getLoadBalancer({ service: lbService("mover") });
  t.deepEqual(
    held.ips.map((i) => i.address),
    [stat.ipaddress],
  );
  await client.ensureLoadBalancerDeleted({ service: lbService("mover") });
});

test("a shared ephemeral IP is freed with its last Service", async (t) => {
  const shared = await metal.edit.ip.allocate({
    networkid: "internet",
    projectid: PROJECT,
    type: "ephemeral",
  });
  await Promise.all(
    ["share-a", "share-b", "share-c"].map((n) =>
      client.ensureLoadBalancer({ service: lbService(n, { loadBalancerIp: shared.ipaddress }), nodes: [] }),
    ),
  );
  t.deepEqual((await metal.edit.ip.get(shared.ipaddress)).tags?.sort(), [
    svcTag("share-a"),
    svcTag("share-b"),
    svcTag("share-c"),
  ]);
  const [a, b] = await Promise.all([
    client.ensureLoadBalancerDeleted({ service: lbService("share-a") }),
    client.ensureLoadBalancerDeleted({ service: lbService("share-b") }),
  ]);
  t.deepEqual([...a.untagged, ...b.untagged], [shared.ipaddress, shared.ipaddress]);
  t.deepEqual((await metal.edit.ip.get(shared.ipaddress)).tags, [svcTag("share-c")]);
  t.deepEqual(await client.ensureLoadBalancerDeleted({ service: lbService("share-c") }), {
    untagged: [],
    freed: [shared.ipaddress],
  });
});

test("parallel ensures and deletes never race: one IP per Service, shared static IP keeps every tag", async (t) => {
  const stat = await metal.edit.ip.allocate({ networkid: "internet", projectid: PROJECT, type: "static" });
  const names = Array.from({ length: 40 }, (_, i) => `par-${i}`);
  const svc = (n: string, i: number) => lbService(n, { loadBalancerIp: i % 4 === 0 ? stat.ipaddress : "" });
  // Every Service ensured three times at once.
  await Promise.all(
    names.flatMap((n, i) =>
      [0, 1, 2].map(() => client.ensureLoadBalancer({ service: svc(n, i), nodes: [] })),
    ),
  );
  const { ips } = await client.listLoadBalancerIps({});
  const mine = ips.filter((ip) => ip.services.some((s) => s.startsWith("default/par-")));
  const perService = new Map<string, number>();
  for (const ip of mine) for (const s of ip.services) perService.set(s, (perService.get(s) ?? 0) + 1);
  t.is(perService.size, 40);
  t.true([...perService.values()].every((n) => n === 1));
  t.is(mine.find((i) => i.address === stat.ipaddress)?.services.length, 10);
  t.is(mine.length, 31);
  await Promise.all(
    names.flatMap((n) => [0, 1].map(() => client.ensureLoadBalancerDeleted({ service: lbService(n) }))),
  );
  const left = (await client.listLoadBalancerIps({})).ips.filter((ip) =>
    ip.services.some((s) => s.startsWith("default/par-")),
  );
  t.deepEqual(left, []);
  const s = await metal.edit.ip.get(stat.ipaddress);
  t.deepEqual(s.tags ?? [], []);
  const stillAllocated = await metal.edit.ip.find({
    projectid: PROJECT,
    networkid: "internet",
    type: "ephemeral",
  });
  t.false(stillAllocated.some((i) => (i.name ?? "").startsWith("ccm-default-par-")));
});

test("RenderLoadBalancerConfig: MetalLB pools per network/type, one peer per node, ASN-less node skipped", async (t) => {
  const out = await client.renderLoadBalancerConfig({
    mode: LoadBalancerMode.LOAD_BALANCER_MODE_METALLB,
    namespace: "",
    nodes: [
      {
        name: "n1",
        internalIp: "10.0.0.1",
        labels: { "machine.metal-stack.io/network.primary.asn": "65001" },
      },
      { name: "n2", internalIp: "10.0.0.2", labels: {} },
      {
        name: "n3",
        internalIp: "10.0.0.3",
        labels: { "machine.metal-stack.io/network.primary.asn": "bogus" },
      },
      {
        name: "n4",
        internalIp: "10.0.0.4",
        labels: { "machine.metal-stack.io/network.primary.asn": "4210000004" },
      },
    ],
    ips: [
      { address: "198.18.0.10", networkId: "internet", type: IpType.IP_TYPE_EPHEMERAL, services: ["a/b"] },
      { address: "198.18.0.9", networkId: "internet", type: IpType.IP_TYPE_EPHEMERAL, services: ["a/c"] },
      { address: "198.18.0.20", networkId: "internet", type: IpType.IP_TYPE_STATIC, services: ["a/d"] },
      { address: "2001:db8::1", networkId: "ext6", type: IpType.IP_TYPE_EPHEMERAL, services: ["a/e"] },
    ],
  });
  t.deepEqual(
    out.objects.map((o) => `${o.kind}/${o.namespace}/${o.name}`),
    [
      "BGPAdvertisement/metallb-system/ext6-ephemeral",
      "BGPAdvertisement/metallb-system/internet-ephemeral",
      "BGPAdvertisement/metallb-system/internet-static",
      "BGPPeer/metallb-system/n1",
      "BGPPeer/metallb-system/n4",
      "IPAddressPool/metallb-system/ext6-ephemeral",
      "IPAddressPool/metallb-system/internet-ephemeral",
      "IPAddressPool/metallb-system/internet-static",
    ],
  );
  const pool = JSON.parse(
    out.objects.find((o) => o.kind === "IPAddressPool" && o.name === "internet-ephemeral")!.json,
  );
  t.deepEqual(pool.spec, { addresses: ["198.18.0.9/32", "198.18.0.10/32"], autoAssign: false });
  t.is(pool.metadata.labels["app.kubernetes.io/managed-by"], "metal-kube-ccm");
  t.deepEqual(
    JSON.parse(out.objects.find((o) => o.name === "ext6-ephemeral" && o.kind === "IPAddressPool")!.json).spec
      .addresses,
    ["2001:db8::1/128"],
  );
  const peer = JSON.parse(out.objects.find((o) => o.kind === "BGPPeer" && o.name === "n1")!.json);
  t.is(peer.apiVersion, "metallb.io/v1beta2");
  t.deepEqual(peer.spec, {
    myASN: 65001,
    peerASN: 65001,
    peerAddress: "10.0.0.1",
    nodeSelectors: [{ matchLabels: { "kubernetes.io/hostname": "n1" } }],
  });
  t.deepEqual(
    out.warnings.map((w) => w.node),
    ["n2", "n3"],
  );
  // metal-stack's 4-byte ASNs are peered: MetalLB's BGPPeer CRD (v0.16) declares them int64 up to 2^32-1.
  t.like(JSON.parse(out.objects.find((o) => o.name === "n4")!.json).spec, {
    myASN: 4210000004,
    peerASN: 4210000004,
  });

  const peeredNode = {
    name: "n1",
    internalIp: "10.0.0.1",
    labels: { "machine.metal-stack.io/network.primary.asn": "4210000001" },
  };
  const oneIp = {
    address: "198.18.0.10",
    networkId: "internet",
    type: IpType.IP_TYPE_EPHEMERAL,
    services: [],
  };
  const cilium = await client.renderLoadBalancerConfig({
    mode: LoadBalancerMode.LOAD_BALANCER_MODE_CILIUM,
    namespace: "",
    nodes: [peeredNode],
    ips: [oneIp],
  });
  t.deepEqual(
    cilium.objects.map((o) => `${o.apiVersion}/${o.kind}/${o.name}`),
    [
      "cilium.io/v2alpha1/CiliumBGPPeeringPolicy/n1",
      "cilium.io/v2alpha1/CiliumLoadBalancerIPPool/internet-ephemeral",
    ],
  );
  const policy = JSON.parse(cilium.objects[0]!.json);
  t.deepEqual(policy.spec.virtualRouters[0].neighbors, [{ peerAddress: "10.0.0.1/32", peerASN: 4210000001 }]);

  // Cilium's BGP control plane v2 (Cilium >= 1.18): a cluster config per node through one shared peer
  // config and advertisement; without a node to peer, only the pools.
  const v2 = await client.renderLoadBalancerConfig({
    mode: LoadBalancerMode.LOAD_BALANCER_MODE_CILIUM_BGP_V2,
    namespace: "",
    nodes: [peeredNode],
    ips: [oneIp],
  });
  t.deepEqual(
    v2.objects.map((o) => `${o.apiVersion}/${o.kind}/${o.name}`),
    [
      "cilium.io/v2/CiliumBGPAdvertisement/metal-kube-load-balancers",
      "cilium.io/v2/CiliumBGPClusterConfig/n1",
      "cilium.io/v2/CiliumBGPPeerConfig/metal-kube",
      "cilium.io/v2/CiliumLoadBalancerIPPool/internet-ephemeral",
    ],
  );
  t.deepEqual(JSON.parse(v2.objects[1]!.json).spec.bgpInstances[0].peers, [
    {
      name: "node-router",
      peerASN: 4210000001,
      peerAddress: "10.0.0.1",
      peerConfigRef: { name: "metal-kube" },
    },
  ]);
  const lonely = await client.renderLoadBalancerConfig({
    mode: LoadBalancerMode.LOAD_BALANCER_MODE_CILIUM_BGP_V2,
    namespace: "",
    nodes: [{ name: "n2", internalIp: "10.0.0.2", labels: {} }],
    ips: [oneIp],
  });
  t.deepEqual(
    lonely.objects.map((o) => o.kind),
    ["CiliumLoadBalancerIPPool"],
  );
  const bad = await grpcError(
    client.renderLoadBalancerConfig({
      mode: 0,
      namespace: "",
      nodes: [{ name: "", internalIp: "", labels: {} }],
      ips: [],
    }),
  );
  t.is(bad.details, "nodes[0].name: is required");
});

test("RenderLoadBalancerConfig without IPs reads the cluster's IPs from metal-api", async (t) => {
  const r = await client.ensureLoadBalancer({
    service: lbService("render-me", { namespace: "render" }),
    nodes: [],
  });
  const out = await client.renderLoadBalancerConfig({ mode: 0, namespace: "lb", nodes: [], ips: [] });
  const pool = JSON.parse(
    out.objects.find((o) => o.kind === "IPAddressPool" && o.name === "internet-ephemeral")!.json,
  );
  t.is(pool.metadata.namespace, "lb");
  t.true(pool.spec.addresses.includes(`${r.ip!.address}/32`));
  await client.ensureLoadBalancerDeleted({ service: lbService("render-me", { namespace: "render" }) });
});

test("SyncMachines adds the missing cluster tag and the SSH key (admin key), and leaves others alone", async (t) => {
  const m = await metal.allocateMachine("worker-hk-1", { clusterTag: false });
  const r = await adminClient.syncMachines({ nodes: [{ providerId: "", nodeName: "worker-hk-1" }] });
  t.deepEqual(r, { updated: [m.id], failed: [] });
  const after = await metal.edit.machine.get(m.id);
  t.true(after.tags.includes(`cluster.metal-stack.io/id=${CLUSTER}`));
  t.true(after.allocation!.ssh_pub_keys.includes(SSH_KEY));
  t.deepEqual(
    await adminClient.syncMachines({ nodes: [{ providerId: `metal://${PARTITION}/${m.id}`, nodeName: "" }] }),
    {
      updated: [],
      failed: [],
    },
  );
  // The edit key cannot update machines: reported per machine, not as a failed call.
  const m2 = await metal.allocateMachine("worker-hk-2", { clusterTag: false });
  const denied = await client.syncMachines({ nodes: [{ providerId: "", nodeName: "worker-hk-2" }] });
  t.deepEqual(denied.updated, []);
  t.is(denied.failed.length, 1);
  t.true(denied.failed[0]!.startsWith(`${m2.id}: `));
});

interface SeenEvent {
  subject: string;
  event: { id: string; subject?: string; data: Record<string, unknown> };
}

/** A ccm publishing to its own NATS, a client of it, and every event on `subjects` as it arrives. */
async function withNats(t: ExecutionContext, subjects: string) {
  const nats = await startNats();
  t.teardown(() => nats.stop());
  const ccmWithNats = await startCcm(ccmEnv(metal.url, { EVENTS_ENABLED: "true", NATS_URL: nats.url }));
  t.teardown(() => ccmWithNats.stop());
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  const seen: SeenEvent[] = [];
  const sub = nc.subscribe(subjects);
  void (async () => {
    for await (const msg of sub) seen.push({ subject: msg.subject, event: JSON.parse(msg.string()) });
  })();
  await nc.flush();
  const c = ccmClient(ccmWithNats.address);
  t.teardown(() => c.close());
  return { c, seen };
}

test("events metal.ccm.ip.{allocated,released} reach NATS JetStream from the real service", async (t) => {
  const { c, seen } = await withNats(t, "metal.ccm.>");
  const r = await c.ensureLoadBalancer({ service: lbService("evented", { namespace: "ev" }), nodes: [] });
  await c.ensureLoadBalancerDeleted({ service: lbService("evented", { namespace: "ev" }) });
  await waitFor("2 events", () => seen.length >= 2, { timeoutMs: 20_000 });
  t.deepEqual(
    seen.map((s) => s.subject),
    ["metal.ccm.ip.allocated", "metal.ccm.ip.released"],
  );
  t.is(seen[0]?.event.subject, r.ip!.address);
  t.like(seen[0]?.event.data, {
    ip: r.ip!.address,
    network: "internet",
    type: "ephemeral",
    service: "ev/evented",
  });
  t.like(seen[1]?.event.data, { ip: r.ip!.address, service: "ev/evented", freed: true });
});

test("DescribeCluster reports the cluster, the load balancer mode and how rendered objects are found", async (t) => {
  t.deepEqual(await client.describeCluster({}), {
    projectId: PROJECT,
    partitionId: PARTITION,
    clusterId: CLUSTER,
    defaultExternalNetworkId: "internet",
    loadBalancerMode: LoadBalancerMode.LOAD_BALANCER_MODE_METALLB,
    defaultConfigNamespace: "metallb-system",
    configLabelSelector: "app.kubernetes.io/managed-by=metal-kube-ccm",
  });
  // Every object a render returns carries the selector's label.
  const out = await client.renderLoadBalancerConfig({
    mode: 0,
    namespace: "",
    nodes: [],
    ips: [{ address: "198.18.9.9", networkId: "internet", type: IpType.IP_TYPE_EPHEMERAL, services: [] }],
  });
  t.true(out.objects.length > 0);
  for (const o of out.objects)
    t.is(JSON.parse(o.json).metadata.labels["app.kubernetes.io/managed-by"], "metal-kube-ccm");
  t.true(
    out.objects.every((o) => o.namespace === "metallb-system"),
    "the default namespace is the reported one",
  );
});

test("RecordNodeEvent refuses bad input naming the field", async (t) => {
  const node = { nodeName: "n1", providerId: `metal://${PARTITION}/m1`, reason: "" };
  const unspecified = await grpcError(client.recordNodeEvent({ ...node, type: 0 }));
  t.is(unspecified.code, Status.INVALID_ARGUMENT);
  t.regex(unspecified.details, /^type: must be NODE_EVENT_TYPE_INITIALIZED or NODE_EVENT_TYPE_DELETED/);
  const noName = await grpcError(client.recordNodeEvent({ ...node, type: 1, nodeName: "" }));
  t.regex(noName.details, /^node_name: is required/);
  const foreign = await grpcError(client.recordNodeEvent({ ...node, type: 2, providerId: "aws:///i-1" }));
  t.is(foreign.code, Status.INVALID_ARGUMENT);
  t.regex(foreign.details, /^provider_id: must start with metal:\/\//);
  const noId = await grpcError(client.recordNodeEvent({ ...node, type: 1, providerId: "" }));
  t.regex(noId.details, /^provider_id: is required for an initialized node/);
  // A node deleted before it had a providerID is fine; without events the id is empty.
  t.deepEqual(await client.recordNodeEvent({ ...node, type: 2, providerId: "" }), { eventId: "" });
});

test("events metal.ccm.node.{initialized,deleted} are published by RecordNodeEvent through the outbox", async (t) => {
  const { c, seen } = await withNats(t, "metal.ccm.node.>");
  const providerId = `metal://${PARTITION}/m-ev`;
  const init = await c.recordNodeEvent({ type: 1, nodeName: "n-ev", providerId, reason: "" });
  const del = await c.recordNodeEvent({
    type: 2,
    nodeName: "n-ev",
    providerId,
    reason: "machine no longer allocated",
  });
  await waitFor("2 node events", () => seen.length >= 2, { timeoutMs: 20_000 });
  t.deepEqual(
    seen.map((s) => [s.subject, s.event.id, s.event.subject]),
    [
      ["metal.ccm.node.initialized", init.eventId, "n-ev"],
      ["metal.ccm.node.deleted", del.eventId, "n-ev"],
    ],
  );
  t.deepEqual(seen[0]?.event.data, { node: "n-ev", providerId });
  t.deepEqual(seen[1]?.event.data, { node: "n-ev", providerId, reason: "machine no longer allocated" });
});

// End to end: the ccm pod as deploy/ccm runs it (the gRPC service and its adapter, two processes joined
// by a unix socket) against the test bed's kube-apiserver with MetalLB's CRDs and the metal-api emulator;
// the adapter authenticates as the ServiceAccount of deploy/ccm with exactly that RBAC.

import type { KubeClient, KubeObject, ResourceClient } from "@metal-kube/kube";
import type { MachineResponse } from "@metal-kube/metal-api";
import { TAG_PRIMARY_ASN as ASN_LABEL } from "@metal-kube/metal-stack";
import { waitFor } from "@metal-kube/testing";
import test from "ava";
import { connect, type NatsConnection } from "nats";
import type { NodeObject, ServiceObject } from "../../services/ccm/src/adapter/resources.js";
import {
  type AdapterBed,
  adapterEnv,
  type CcmPod,
  getOrUndefined,
  ingressOf,
  lbServiceObject,
  registerNode,
  SERVICE_TAG_PREFIX,
  serviceIps,
  startAdapterBed,
  startCcmPod,
  taggedFor,
  waitInitialized,
} from "../../services/ccm/test/adapter-bed.js";
import {
  CLUSTER,
  type MetalBed,
  PARTITION,
  PROJECT,
  SSH_KEY,
  startAdapter,
} from "../../services/ccm/test/harness.js";
import { CRD_GROUPS, type Testbed } from "../src/index.js";

const NS = "e2e-ccm";

let ab: AdapterBed;
let bed: Testbed;
let metal: MetalBed;
let ccm: CcmPod;
let kube: KubeClient;
let nodes: ResourceClient<NodeObject>;
let services: ResourceClient<ServiceObject>;
let nc: NatsConnection;
const nodeEvents: Array<{ subject: string; event: { subject?: string; data: Record<string, unknown> } }> = [];
const pools = () =>
  kube.resource({ group: "metallb.io", version: "v1beta1", plural: "ipaddresspools", kind: "IPAddressPool" });
const peers = () =>
  kube.resource({ group: "metallb.io", version: "v1beta2", plural: "bgppeers", kind: "BGPPeer" });
const adverts = () =>
  kube.resource({
    group: "metallb.io",
    version: "v1beta1",
    plural: "bgpadvertisements",
    kind: "BGPAdvertisement",
  });
const lbService = (name: string, over: { metadata?: object; spec?: object } = {}) =>
  lbServiceObject(NS, name, over);

const launched: CcmPod[] = [];
async function launchCcm(): Promise<CcmPod> {
  const p = await startCcmPod(ab);
  launched.push(p);
  return p;
}

test.before(async () => {
  ab = await startAdapterBed({ crds: CRD_GROUPS.metallb, nats: true, namespace: NS, machines: 16, racks: 2 });
  ({ bed, metal, kube, nodes, services } = ab);
  nc = await connect({ servers: bed.natsUrl! });
  const sub = nc.subscribe("metal.ccm.node.>");
  void (async () => {
    for await (const msg of sub) nodeEvents.push({ subject: msg.subject, event: JSON.parse(msg.string()) });
  })();
  await nc.flush();
  ccm = await launchCcm();
});

test.after.always(async () => {
  if (process.env.CCM_E2E_LOG)
    (await import("node:fs")).writeFileSync(
      process.env.CCM_E2E_LOG,
      launched
        .map(
          (p, n) =>
            `=== ccm ${n} service\n${p.service.proc.output()}\n=== ccm ${n} adapter\n${p.adapter.proc.output()}`,
        )
        .join("\n"),
    );
  await ccm?.stop();
  await nc?.close();
  await ab?.close();
});

test.serial("an adapter missing RBAC fails at start naming every missing permission", async (t) => {
  const weak = await bed.serviceAccountKubeconfig({
    namespace: "kube-system",
    name: "ccm-weak",
    clusterRules: [{ apiGroups: [""], resources: ["nodes", "services"], verbs: ["get", "list", "watch"] }],
  });
  // An adapter of its own against the running service: the check is the adapter's, before any work.
  const err = await t.throwsAsync(
    startAdapter(adapterEnv(ab, { KUBECONFIG: weak, CCM_ADDRESS: ccm.address })),
  );
  // The log line is JSON: its quotes arrive escaped.
  const msg = (err?.message ?? "").replaceAll('\\"', '"');
  t.regex(msg, /lacks RBAC permission: .*cannot patch resource "services\/status" in the core group/);
  t.regex(msg, /cannot create resource "bgppeers" in group "metallb.io" in namespace "metallb-system"/);
  t.notRegex(msg, /cannot list resource "nodes"/);
});

test.serial(
  "3 nodes registered with the uninitialized taint get providerID, addresses, labels and a BGPPeer",
  async (t) => {
    const machines: MachineResponse[] = [];
    for (const i of [1, 2, 3]) machines.push(await metal.allocateMachine(`e2e-node-${i}`));
    await Promise.all(machines.map((m) => registerNode(nodes, m.allocation!.hostname)));
    for (const m of machines) {
      const name = m.allocation!.hostname;
      const node = await waitInitialized(nodes, name);
      t.is(node.spec?.providerID, `metal://${PARTITION}/${m.id}`);
      const labels = node.metadata.labels ?? {};
      t.is(labels["node.kubernetes.io/instance-type"], "c1-large-x86");
      t.is(labels["topology.kubernetes.io/zone"], PARTITION);
      t.is(labels["topology.kubernetes.io/region"], "fra");
      t.is(labels[ASN_LABEL], m.tags.find((x) => x.startsWith(`${ASN_LABEL}=`))?.split("=")[1]);
      const internal = m.allocation!.networks.find((n) => n.networkid === metal.networkId)!.ips[0];
      const external = m.allocation!.networks.find((n) => n.networkid === "internet")!.ips[0];
      t.deepEqual(node.status?.addresses, [
        { type: "InternalIP", address: internal },
        { type: "ExternalIP", address: external },
        { type: "Hostname", address: name },
      ]);
    }
    await waitFor("node.initialized events", () => nodeEvents.length >= 3, { timeoutMs: 15_000 });
    t.deepEqual(
      nodeEvents.map((e) => `${e.subject} ${e.event.subject}`).sort(),
      [1, 2, 3].map((i) => `metal.ccm.node.initialized e2e-node-${i}`),
    );
    t.like(nodeEvents.find((e) => e.event.subject === "e2e-node-1")?.event.data, {
      providerId: `metal://${PARTITION}/${machines[0]!.id}`,
    });
    // Every initialized node is peered with its own 4-byte ASN (MetalLB v0.16's CRD: int64 up to 2^32-1).
    for (const [i, m] of machines.entries()) {
      const name = `e2e-node-${i + 1}`;
      const asn = Number(m.tags.find((x) => x.startsWith(`${ASN_LABEL}=`))?.split("=")[1]);
      t.true(asn > 2 ** 31, "metal-stack ASNs are 4-byte");
      const internal = m.allocation!.networks.find((n) => n.networkid === metal.networkId)!.ips[0];
      const peer = await waitFor(
        `BGPPeer ${name}`,
        () => getOrUndefined(peers(), { name, namespace: "metallb-system" }),
        { timeoutMs: 15_000 },
      );
      t.like((peer as unknown as { spec: unknown }).spec, {
        myASN: asn,
        peerASN: asn,
        peerAddress: internal,
        nodeSelectors: [{ matchLabels: { "kubernetes.io/hostname": name } }],
      });
    }
    // A node joining later is peered; leaving, its peer goes with it.
    await nodes.create({
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: "peer-node",
        labels: { "kubernetes.io/hostname": "peer-node", [ASN_LABEL]: "65010" },
      },
    } as NodeObject);
    await nodes.mergePatch(
      { name: "peer-node" },
      { status: { addresses: [{ type: "InternalIP", address: "10.99.0.1" }] } },
      { subresource: "status" },
    );
    const late = await waitFor(
      "BGPPeer peer-node",
      () => getOrUndefined(peers(), { name: "peer-node", namespace: "metallb-system" }),
      { timeoutMs: 15_000 },
    );
    t.like((late as unknown as { spec: unknown }).spec, { myASN: 65010, peerAddress: "10.99.0.1" });
    await nodes.delete({ name: "peer-node" });
    await waitFor(
      "BGPPeer removed with its node",
      async () =>
        (await getOrUndefined(peers(), { name: "peer-node", namespace: "metallb-system" })) === undefined,
      { timeoutMs: 15_000 },
    );
  },
);

test.serial(
  "50 LoadBalancer Services: 50 IPs, statuses, MetalLB objects; foreign class ignored",
  async (t) => {
    const names = Array.from({ length: 50 }, (_, i) => `lb-${i}`);
    await Promise.all(names.map((n) => services.create(lbService(n))));
    await services.create(lbService("foreign", { spec: { loadBalancerClass: "example.com/other" } }));
    const all = await waitFor(
      "50 statuses",
      async () => {
        const list = (await services.list({ namespace: NS })).items.filter((s) =>
          s.metadata.name?.startsWith("lb-"),
        );
        return list.length === 50 && list.every((s) => ingressOf(s).length === 1) ? list : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const ips = await serviceIps(metal);
    const addresses = new Set(all.map((s) => ingressOf(s)[0]));
    t.is(addresses.size, 50);
    for (const s of all) {
      t.true(s.metadata.finalizers?.includes("service.kubernetes.io/load-balancer-cleanup"));
      const held = taggedFor(ips, NS, s.metadata.name!);
      t.deepEqual(
        held.map((i) => i.ipaddress),
        ingressOf(s),
      );
    }
    const pool = await waitFor(
      "IPAddressPool with 50 addresses",
      async () => {
        const p = (await getOrUndefined(pools(), {
          name: "internet-ephemeral",
          namespace: "metallb-system",
        })) as (KubeObject & { spec: { addresses: string[]; autoAssign: boolean } }) | undefined;
        return p && p.spec.addresses.length === 50 ? p : undefined;
      },
      { timeoutMs: 15_000 },
    );
    t.deepEqual([...pool.spec.addresses].sort(), [...addresses].map((a) => `${a}/32`).sort());
    t.false(pool.spec.autoAssign);
    const adv = (await adverts().get({
      name: "internet-ephemeral",
      namespace: "metallb-system",
    })) as KubeObject & {
      spec: { ipAddressPools: string[] };
    };
    t.deepEqual(adv.spec.ipAddressPools, ["internet-ephemeral"]);
    const foreign = await services.get({ name: "foreign", namespace: NS });
    t.deepEqual(ingressOf(foreign), []);
    t.falsy(foreign.metadata.finalizers);
    // Events on the Services.
    const events = await kube
      .resource({ group: "", version: "v1", plural: "events", kind: "Event" })
      .list({ namespace: NS });
    t.true(events.items.some((e) => (e as unknown as { reason: string }).reason === "EnsuredLoadBalancer"));

    // A type change releases the IP, then the finalizer.
    const ip0 = ingressOf(all.find((s) => s.metadata.name === "lb-0"))[0]!;
    await services.mergePatch({ name: "lb-0", namespace: NS }, { spec: { type: "ClusterIP" } });
    await waitFor(
      "lb-0 released",
      async () => {
        const s = await services.get({ name: "lb-0", namespace: NS });
        return !s.metadata.finalizers?.length && ingressOf(s).length === 0;
      },
      { timeoutMs: 20_000 },
    );
    t.is(
      await metal.edit.ip.get(ip0).then(
        () => 200,
        (e: { status?: number }) => e.status,
      ),
      404,
    );
    // Delete them all: every IP freed, the pool goes away.
    await Promise.all(names.map((n) => services.delete({ name: n, namespace: NS })));
    await waitFor(
      "services gone",
      async () => (await services.list({ namespace: NS })).items.every((s) => s.metadata.name === "foreign"),
      {
        timeoutMs: 60_000,
      },
    );
    t.deepEqual(await serviceIps(metal), []);
    await waitFor(
      "pool deleted",
      async () =>
        (await getOrUndefined(pools(), { name: "internet-ephemeral", namespace: "metallb-system" })) ===
        undefined,
      { timeoutMs: 15_000 },
    );
    await services.delete({ name: "foreign", namespace: NS });
  },
);

test.serial("a Service with a static IP: deleting it keeps the IP allocated", async (t) => {
  const stat = await metal.edit.ip.allocate({
    networkid: "internet",
    projectid: PROJECT,
    type: "static",
    name: "e2e-static",
  });
  await services.create(lbService("static", { spec: { loadBalancerIP: stat.ipaddress } }));
  await waitFor(
    "static ingress",
    async () => ingressOf(await services.get({ name: "static", namespace: NS }))[0] === stat.ipaddress,
    {
      timeoutMs: 20_000,
    },
  );
  await waitFor(
    "static pool",
    async () => {
      const p = (await getOrUndefined(pools(), { name: "internet-static", namespace: "metallb-system" })) as
        | (KubeObject & { spec: { addresses: string[] } })
        | undefined;
      return p?.spec.addresses.includes(`${stat.ipaddress}/32`);
    },
    { timeoutMs: 15_000 },
  );
  await services.delete({ name: "static", namespace: NS });
  await waitFor(
    "static gone",
    async () => (await getOrUndefined(services, { name: "static", namespace: NS })) === undefined,
    {
      timeoutMs: 20_000,
    },
  );
  const after = await metal.edit.ip.get(stat.ipaddress);
  t.is(after.type, "static");
  t.deepEqual(after.tags ?? [], []);
});

test.serial("orphan IPs of Services deleted while the ccm was down are collected", async (t) => {
  const orphan = await metal.edit.ip.allocate({
    networkid: "internet",
    projectid: PROJECT,
    type: "ephemeral",
    tags: [`${SERVICE_TAG_PREFIX}${NS}/never-existed`],
  });
  await waitFor(
    "orphan freed",
    async () =>
      metal.edit.ip.get(orphan.ipaddress).then(
        () => false,
        () => true,
      ),
    {
      timeoutMs: 20_000,
    },
  );
  t.pass();
});

test.serial(
  "node lifecycle: a NotReady node is tainted while its machine is dead, deleted once it is freed",
  async (t) => {
    const m = await metal.allocateMachine("e2e-node-gone");
    await registerNode(nodes, "e2e-node-gone");
    await waitFor(
      "initialized",
      async () => Boolean((await nodes.get({ name: "e2e-node-gone" })).spec?.providerID),
      {
        timeoutMs: 20_000,
      },
    );
    const { setLiveliness } = await import("../../services/ccm/test/harness.js");
    await setLiveliness(metal.url, m.id, "Dead");
    await nodes.mergePatch(
      { name: "e2e-node-gone" },
      {
        status: {
          conditions: [{ type: "Ready", status: "Unknown", reason: "NodeStatusUnknown", message: "e2e" }],
        },
      },
      { subresource: "status" },
    );
    await waitFor(
      "shutdown taint",
      async () =>
        ((await nodes.get({ name: "e2e-node-gone" })).spec?.taints ?? []).some(
          (x) => x.key === "node.cloudprovider.kubernetes.io/shutdown",
        ),
      { timeoutMs: 20_000 },
    );
    await metal.edit.machine.free(m.id);
    await waitFor(
      "node deleted",
      async () => (await getOrUndefined(nodes, { name: "e2e-node-gone" })) === undefined,
      {
        timeoutMs: 20_000,
      },
    );
    await waitFor(
      "node.deleted event",
      () => nodeEvents.some((e) => e.subject === "metal.ccm.node.deleted"),
      {
        timeoutMs: 15_000,
      },
    );
    t.like(nodeEvents.find((e) => e.subject === "metal.ccm.node.deleted")?.event, {
      subject: "e2e-node-gone",
      data: { node: "e2e-node-gone", providerId: `metal://${PARTITION}/${m.id}` },
    });
    // Ready nodes stay.
    t.truthy(await nodes.get({ name: "e2e-node-1" }));
  },
);

test.serial("housekeeping copies new machine tags to node labels", async (t) => {
  const node = await nodes.get({ name: "e2e-node-2" });
  const id = node.spec!.providerID!.split("/").at(-1)!;
  const m = await metal.admin.machine.get(id);
  await metal.admin.machine.update({
    id,
    description: m.description ?? "",
    tags: [...m.tags, "team.example.com/owner=blue", "not a label=x"],
  });
  const labelled = await waitFor(
    "label from the machine tag",
    async () => {
      const n = await nodes.get({ name: "e2e-node-2" });
      return n.metadata.labels?.["team.example.com/owner"] === "blue" ? n : undefined;
    },
    { timeoutMs: 20_000 },
  );
  t.false(Object.keys(labelled.metadata.labels ?? {}).some((k) => k.includes(" ")));
});

test.serial(
  "housekeeping puts the cluster tag and the SSH key on a node's machine lacking them",
  async (t) => {
    const m = await metal.allocateMachine("e2e-node-untagged", { clusterTag: false });
    t.false(m.tags.includes(`cluster.metal-stack.io/id=${CLUSTER}`));
    await registerNode(nodes, "e2e-node-untagged");
    const after = await waitFor(
      "machine tagged",
      async () => {
        const x = await metal.edit.machine.get(m.id);
        return x.tags.includes(`cluster.metal-stack.io/id=${CLUSTER}`) ? x : undefined;
      },
      { timeoutMs: 20_000 },
    );
    t.true(after.allocation!.ssh_pub_keys.includes(SSH_KEY));
    await nodes.delete({ name: "e2e-node-untagged" });
  },
);

/** grpc_server_handled_total of a CloudProvider method with code OK, as the service's /metrics counts it. */
function handledOk(metrics: string, method: string): number {
  const path = `/metalstack.ccm.v1.CloudProvider/${method}`;
  return metrics
    .split("\n")
    .filter(
      (l) =>
        l.startsWith("grpc_server_handled_total{") &&
        l.includes(`method="${path}"`) &&
        l.includes('code="OK"'),
    )
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

test.serial(
  "the adapter's work is in the service's metrics: every CloudProvider call it made is counted",
  async (t) => {
    // Nothing but this pod's adapter calls this service, so every count is the adapter's.
    const metrics = await (await fetch(`http://${ccm.service.metricsAddress}/metrics`)).text();
    for (const method of [
      "DescribeCluster",
      "InstanceMetadata",
      "InstanceExists",
      "InstanceShutdown",
      "EnsureLoadBalancer",
      "EnsureLoadBalancerDeleted",
      "ListLoadBalancerIps",
      "RenderLoadBalancerConfig",
      "SyncMachines",
      "RecordNodeEvent",
    ])
      t.true(handledOk(metrics, method) > 0, `${method} is counted in grpc_server_handled_total`);
    // One call per node event: e2e-node-1..3 and e2e-node-gone initialized, e2e-node-gone deleted (at least).
    t.true(handledOk(metrics, "RecordNodeEvent") >= 5);
    // The adapter serves its own metrics: its work queues and its Lease.
    const own = await (await fetch(`http://${ccm.adapter.metricsAddress}/metrics`)).text();
    t.regex(own, /workqueue_adds_total\{[^}]*queue="ccm-services"/);
    t.regex(own, /leader_election_is_leader\{[^}]*lease="metal-kube-ccm"[^}]*\} 1/);
    t.is((await fetch(`http://${ccm.adapter.metricsAddress}/readyz`)).status, 200);
  },
);

test.serial("a standby ccm takes over when the leader stops, and serves new Services", async (t) => {
  // A second pod (replica): its adapter stands by.
  const standby = await launchCcm();
  t.false(standby.adapter.logs().some((l) => String(l.msg).startsWith("leading")));
  await ccm.stop();
  // The leader's adapter hands its Lease back on SIGTERM: the standby leads at once, not a lease later.
  await waitFor(
    "standby leads",
    () => standby.adapter.logs().some((l) => String(l.msg).startsWith("leading")),
    { timeoutMs: 10_000 },
  );
  ccm = standby;
  await services.create(lbService("after-failover"));
  const s = await waitFor(
    "after-failover ingress",
    async () => {
      const svc = await services.get({ name: "after-failover", namespace: NS });
      return ingressOf(svc).length === 1 ? svc : undefined;
    },
    { timeoutMs: 20_000 },
  );
  t.is(taggedFor(await serviceIps(metal), NS, "after-failover")[0]?.ipaddress, ingressOf(s)[0]);
  await services.delete({ name: "after-failover", namespace: NS });
  await waitFor(
    "after-failover released",
    async () => taggedFor(await serviceIps(metal), NS, "after-failover").length === 0,
    {
      timeoutMs: 20_000,
    },
  );
});

test.serial(
  "kill -9 while 200 Services are created and deleted: afterwards one IP per Service, none leaked",
  async (t) => {
    const names = Array.from({ length: 200 }, (_, i) => `churn-${i}`);
    const deleted = new Set<string>();
    let killed = false;
    const work = (async () => {
      for (let i = 0; i < names.length; i += 20) {
        const batch = names.slice(i, i + 20);
        await Promise.all(batch.map((n) => services.create(lbService(n))));
        // Every third Service is deleted again soon after its creation.
        const gone = batch.filter((_, j) => (i + j) % 3 === 0);
        await Promise.all(gone.map((n) => services.delete({ name: n, namespace: NS })));
        for (const n of gone) deleted.add(n);
        if (!killed && i >= 60) {
          killed = true;
          // kill -9 of the reconciler: the adapter container dies, the service beside it keeps running.
          await ccm.adapter.proc.kill();
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await work;
    t.true(killed);
    // The kubelet starts the adapter container again.
    await ccm.restartAdapter();
    const remaining = names.filter((n) => !deleted.has(n));
    await waitFor(
      "converged",
      async () => {
        const list = (await services.list({ namespace: NS })).items.filter((s) =>
          s.metadata.name?.startsWith("churn-"),
        );
        if (list.length !== remaining.length) return false;
        if (!list.every((s) => ingressOf(s).length === 1)) return false;
        const churnIps = (await serviceIps(metal)).filter((ip) =>
          (ip.tags ?? []).some((x) => x.startsWith(`${SERVICE_TAG_PREFIX}${NS}/churn-`)),
        );
        return (
          list.every((s) => taggedFor(churnIps, NS, s.metadata.name!).length === 1) &&
          churnIps.length === remaining.length
        );
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const ips = await serviceIps(metal);
    for (const n of deleted) t.deepEqual(taggedFor(ips, NS, n), [], `${n} still holds an IP`);
    const list = (await services.list({ namespace: NS })).items.filter((s) =>
      s.metadata.name?.startsWith("churn-"),
    );
    for (const s of list)
      t.deepEqual(
        taggedFor(ips, NS, s.metadata.name!).map((i) => i.ipaddress),
        ingressOf(s),
      );
    t.is(new Set(list.map((s) => ingressOf(s)[0])).size, remaining.length);
  },
);

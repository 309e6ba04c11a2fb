// End to end, LOADBALANCER=cilium: the ccm pod (service and adapter processes on a unix socket) against the test bed's kube-apiserver with Cilium
// v1.17's upstream CRDs (cilium.io/v2alpha1 CiliumBGPPeeringPolicy and CiliumLoadBalancerIPPool), so
// every object the renderer makes is checked against Cilium's own schema. The adapter authenticates as
// deploy/ccm's ServiceAccount with exactly that RBAC.

import type { KubeClient, KubeObject, ResourceClient } from "@metal-kube/kube";
import type { MachineResponse } from "@metal-kube/metal-api";
import { TAG_PRIMARY_ASN } from "@metal-kube/metal-stack";
import { IpType, LoadBalancerMode } from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import { waitFor } from "@metal-kube/testing";
import test from "ava";
import { covers } from "../../services/ccm/src/adapter/lb-config-controller.js";
import {
  LB_CONFIG_RESOURCES,
  type NodeObject,
  type ServiceObject,
} from "../../services/ccm/src/adapter/resources.js";
import { MANAGED_BY, MANAGED_BY_LABEL, renderConfig } from "../../services/ccm/src/lb-config.js";
import {
  type AdapterBed,
  type CcmPod,
  getOrUndefined,
  ingressOf,
  lbServiceObject,
  registerNode,
  serviceIps,
  startAdapterBed,
  startCcmPod,
  taggedFor,
  waitInitialized,
} from "../../services/ccm/test/adapter-bed.js";
import {
  asnOf,
  type CiliumIpPool,
  configWaiter,
  internalIpOf as machineIp,
} from "../../services/ccm/test/config-waiter.js";
import { type MetalBed, PROJECT } from "../../services/ccm/test/harness.js";
import { CRD_GROUPS } from "../src/index.js";

const NS = "e2e-ccm-cilium";
const CILIUM = LB_CONFIG_RESOURCES[LoadBalancerMode.LOAD_BALANCER_MODE_CILIUM]!;

interface PeeringPolicy extends KubeObject {
  spec: {
    nodeSelector: { matchLabels: Record<string, string> };
    virtualRouters: Array<{
      localASN: number;
      exportPodCIDR: boolean;
      neighbors: Array<{ peerAddress: string; peerASN: number; peerPort?: number }>;
    }>;
  };
}

let ab: AdapterBed;
let metal: MetalBed;
let kube: KubeClient;
let nodes: ResourceClient<NodeObject>;
let services: ResourceClient<ServiceObject>;
let ccm: CcmPod;
let policies: ResourceClient<PeeringPolicy>;
let pools: ResourceClient<CiliumIpPool>;
const machines: MachineResponse[] = [];

test.before(async () => {
  ab = await startAdapterBed({ crds: CRD_GROUPS.cilium, nats: false, namespace: NS, machines: 8, racks: 2 });
  ({ metal, kube, nodes, services } = ab);
  policies = kube.resource<PeeringPolicy>(CILIUM.CiliumBGPPeeringPolicy!);
  pools = kube.resource<CiliumIpPool>(CILIUM.CiliumLoadBalancerIPPool!);
  // Starting at all proves deploy/ccm's RBAC covers Cilium mode: the adapter checks every permission first.
  ccm = await startCcmPod(ab, { service: { LOADBALANCER: "cilium" } });
});

test.after.always(async () => {
  await ccm?.stop();
  await ab?.close();
});

const { noRefusedObjects, waitConfig } = configWaiter(() => ccm.adapter.logs());
const internalIpOf = (m: MachineResponse) => machineIp(m, metal.networkId);

const poolBlocks = async (name: string) =>
  (await getOrUndefined(pools, { name }))?.spec.blocks.map((b) => b.cidr).sort();
const sortedCidrs = (ips: string[]) => ips.map((ip) => `${ip}/32`).sort();

test.serial(
  "3 nodes with 4-byte ASN labels are initialized and get a CiliumBGPPeeringPolicy each",
  async (t) => {
    for (const i of [1, 2, 3]) machines.push(await metal.allocateMachine(`cilium-node-${i}`));
    await Promise.all(machines.map((m) => registerNode(nodes, m.allocation!.hostname)));
    for (const m of machines) {
      const name = m.allocation!.hostname;
      const node = await waitInitialized(nodes, name);
      const asn = asnOf(m);
      t.true(asn > 2 ** 31, "metal-stack ASNs are 4-byte");
      t.is(node.metadata.labels?.[TAG_PRIMARY_ASN], String(asn));
      const policy = await waitConfig(`CiliumBGPPeeringPolicy ${name}`, () =>
        getOrUndefined(policies, { name }),
      );
      t.is(policy.metadata.labels?.[MANAGED_BY_LABEL], MANAGED_BY);
      t.deepEqual(policy.spec.nodeSelector, { matchLabels: { "kubernetes.io/hostname": name } });
      t.is(policy.spec.virtualRouters.length, 1);
      const router = policy.spec.virtualRouters[0]!;
      t.is(router.localASN, asn);
      t.false(router.exportPodCIDR);
      t.is(router.neighbors.length, 1);
      t.like(router.neighbors[0], { peerAddress: `${internalIpOf(m)}/32`, peerASN: asn });
      // Stored under Cilium's schema: its defaults were filled in by the apiserver.
      t.is(router.neighbors[0]!.peerPort, 179);
    }
    noRefusedObjects(t);
  },
);

test.serial(
  "LoadBalancer Services get IPs and pools with exactly those blocks; deleting shrinks then removes",
  async (t) => {
    const names = ["web-0", "web-1", "web-2"];
    await Promise.all(names.map((n) => services.create(lbServiceObject(NS, n))));
    const stat = await metal.edit.ip.allocate({
      networkid: "internet",
      projectid: PROJECT,
      type: "static",
      name: "cilium-static",
    });
    await services.create(lbServiceObject(NS, "static", { spec: { loadBalancerIP: stat.ipaddress } }));
    const ingress = await waitFor(
      "4 Services with an ingress IP",
      async () => {
        const list = (await services.list({ namespace: NS })).items;
        return list.length === 4 && list.every((s) => ingressOf(s).length === 1)
          ? new Map(list.map((s) => [s.metadata.name!, ingressOf(s)[0]!]))
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    t.is(ingress.get("static"), stat.ipaddress);
    const held = await serviceIps(metal);
    for (const [name, ip] of ingress)
      t.deepEqual(
        taggedFor(held, NS, name).map((i) => i.ipaddress),
        [ip],
      );
    const ephemeral = names.map((n) => ingress.get(n)!);
    t.is(new Set(ephemeral).size, 3);

    // One pool per network and IP type, cluster-scoped, holding exactly the Services' IPs.
    const want = sortedCidrs(ephemeral);
    await waitConfig(
      "internet-ephemeral pool with 3 blocks",
      async () => JSON.stringify(await poolBlocks("internet-ephemeral")) === JSON.stringify(want),
    );
    const pool = await pools.get({ name: "internet-ephemeral" });
    t.is(pool.metadata.namespace, undefined);
    t.is(pool.metadata.labels?.[MANAGED_BY_LABEL], MANAGED_BY);
    t.false(pool.spec.disabled);
    await waitConfig(
      "internet-static pool",
      async () =>
        JSON.stringify(await poolBlocks("internet-static")) === JSON.stringify([`${stat.ipaddress}/32`]),
    );

    // Deleting a Service shrinks its pool to the rest.
    await services.delete({ name: "web-1", namespace: NS });
    const rest = sortedCidrs([ingress.get("web-0")!, ingress.get("web-2")!]);
    await waitConfig(
      "internet-ephemeral pool shrunk to 2 blocks",
      async () => JSON.stringify(await poolBlocks("internet-ephemeral")) === JSON.stringify(rest),
      { timeoutMs: 20_000 },
    );
    t.deepEqual(taggedFor(await serviceIps(metal), NS, "web-1"), []);

    // Deleting the last Service of a pool removes the pool.
    await Promise.all(["web-0", "web-2", "static"].map((name) => services.delete({ name, namespace: NS })));
    await waitConfig(
      "both pools removed",
      async () =>
        (await getOrUndefined(pools, { name: "internet-ephemeral" })) === undefined &&
        (await getOrUndefined(pools, { name: "internet-static" })) === undefined,
      { timeoutMs: 20_000 },
    );
    t.deepEqual(await serviceIps(metal), []);
    // The static IP stays allocated to the project, only untagged.
    t.is((await metal.edit.ip.get(stat.ipaddress)).type, "static");
    noRefusedObjects(t);
  },
);

test.serial("deleting a node removes its CiliumBGPPeeringPolicy and keeps the others", async (t) => {
  const gone = machines[2]!.allocation!.hostname;
  await nodes.delete({ name: gone });
  await waitConfig(
    `CiliumBGPPeeringPolicy ${gone} removed`,
    async () => (await getOrUndefined(policies, { name: gone })) === undefined,
  );
  const left = (await policies.list({ labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` })).items;
  t.deepEqual(
    left.map((p) => p.metadata.name).sort(),
    machines.slice(0, 2).map((m) => m.allocation!.hostname),
  );
  noRefusedObjects(t);
});

test.serial("edge inputs the emulator cannot produce render objects Cilium's schema accepts", async (t) => {
  // IPv6 pools and peers (/128), the largest 4-byte ASN, a network id that is no DNS name.
  const { objects, warnings } = renderConfig({
    mode: "cilium",
    nodes: [
      { name: "edge-v6", internalIp: "2001:db8::10", labels: { [TAG_PRIMARY_ASN]: "4294967295" } },
      { name: "edge-v4", internalIp: "10.9.0.1", labels: { [TAG_PRIMARY_ASN]: "1" } },
    ],
    ips: [
      { address: "2001:db8:1::5", networkId: "ext6", type: IpType.IP_TYPE_EPHEMERAL, services: [] },
      { address: "2001:db8:1::4", networkId: "ext6", type: IpType.IP_TYPE_EPHEMERAL, services: [] },
      { address: "198.51.100.7", networkId: "Edge_Net", type: IpType.IP_TYPE_STATIC, services: [] },
    ],
  });
  t.deepEqual(warnings, []);
  t.deepEqual(
    objects.map((o) => `${o.kind}/${o.name}`),
    [
      "CiliumBGPPeeringPolicy/edge-v4",
      "CiliumBGPPeeringPolicy/edge-v6",
      "CiliumLoadBalancerIPPool/edge-net-static",
      "CiliumLoadBalancerIPPool/ext6-ephemeral",
    ],
  );
  const created: Array<{ client: ResourceClient; name: string }> = [];
  try {
    for (const o of objects) {
      const client = kube.resource(CILIUM[o.kind]!);
      const body = JSON.parse(o.json) as KubeObject & { spec: unknown };
      // Without the managed-by label: the running ccm must not delete them as not wanted.
      body.metadata.labels = {};
      const stored = (await client.patch({
        name: o.name,
        patch: body,
        type: "apply",
        fieldManager: "e2e-cilium-schema",
      })) as KubeObject & { spec: unknown };
      created.push({ client, name: o.name });
      t.true(covers(stored.spec, body.spec), `${o.kind}/${o.name} stored as rendered`);
    }
    const v6 = (await policies.get({ name: "edge-v6" })).spec.virtualRouters[0]!;
    t.is(v6.localASN, 4294967295);
    t.like(v6.neighbors[0], { peerAddress: "2001:db8::10/128", peerASN: 4294967295 });
    t.deepEqual((await pools.get({ name: "ext6-ephemeral" })).spec.blocks, [
      { cidr: "2001:db8:1::4/128" },
      { cidr: "2001:db8:1::5/128" },
    ]);
  } finally {
    for (const c of created) await c.client.delete({ name: c.name });
  }
});

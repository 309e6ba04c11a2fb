// End to end, LOADBALANCER=cilium-bgp-v2: the ccm pod (service and adapter processes on a unix socket) against the test bed's kube-apiserver with
// the current Cilium's upstream CRDs (cilium.io/v2 BGP control plane v2 and CiliumLoadBalancerIPPool),
// so every object the renderer makes is checked against Cilium's own schema. The adapter authenticates
// as deploy/ccm's ServiceAccount with exactly that RBAC.

import type { KubeClient, KubeObject, ResourceClient } from "@metal-kube/kube";
import type { MachineResponse } from "@metal-kube/metal-api";
import { LoadBalancerMode } from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import { waitFor } from "@metal-kube/testing";
import test from "ava";
import {
  LB_CONFIG_RESOURCES,
  type NodeObject,
  type ServiceObject,
} from "../../services/ccm/src/adapter/resources.js";
import {
  ADVERTISE_LABEL,
  CILIUM_ADVERTISEMENT,
  CILIUM_PEER_CONFIG,
  MANAGED_BY,
  MANAGED_BY_LABEL,
} from "../../services/ccm/src/lb-config.js";
import {
  type AdapterBed,
  type CcmPod,
  getOrUndefined,
  ingressOf,
  lbServiceObject,
  registerNode,
  startAdapterBed,
  startCcmPod,
  waitInitialized,
} from "../../services/ccm/test/adapter-bed.js";
import {
  asnOf,
  type CiliumIpPool,
  configWaiter,
  internalIpOf,
} from "../../services/ccm/test/config-waiter.js";
import type { MetalBed } from "../../services/ccm/test/harness.js";
import { CRD_GROUPS } from "../src/index.js";

const NS = "e2e-ccm-cilium-v2";
const V2 = LB_CONFIG_RESOURCES[LoadBalancerMode.LOAD_BALANCER_MODE_CILIUM_BGP_V2]!;

interface ClusterConfig extends KubeObject {
  spec: {
    nodeSelector: { matchLabels: Record<string, string> };
    bgpInstances: Array<{
      name: string;
      localASN: number;
      peers: Array<{ name: string; peerASN: number; peerAddress: string; peerConfigRef: { name: string } }>;
    }>;
  };
}
interface PeerConfig extends KubeObject {
  spec: {
    families: Array<{ afi: string; safi: string; advertisements: { matchLabels: Record<string, string> } }>;
    ebgpMultihop?: number;
  };
}
interface Advertisement extends KubeObject {
  spec: {
    advertisements: Array<{
      advertisementType: string;
      service?: { addresses: string[] };
      selector?: unknown;
    }>;
  };
}

let ab: AdapterBed;
let metal: MetalBed;
let kube: KubeClient;
let nodes: ResourceClient<NodeObject>;
let services: ResourceClient<ServiceObject>;
let ccm: CcmPod;
const machines: MachineResponse[] = [];
const { noRefusedObjects, waitConfig } = configWaiter(() => ccm.adapter.logs());

test.before(async () => {
  ab = await startAdapterBed({
    crds: CRD_GROUPS.ciliumBgpV2,
    nats: false,
    namespace: NS,
    machines: 8,
    racks: 2,
  });
  ({ metal, kube, nodes, services } = ab);
  // Starting at all proves deploy/ccm's RBAC covers this mode: the adapter checks every permission first.
  ccm = await startCcmPod(ab, { service: { LOADBALANCER: "cilium-bgp-v2" } });
});

test.after.always(async () => {
  await ccm?.stop();
  await ab?.close();
});

test.serial(
  "nodes get a CiliumBGPClusterConfig each, sharing one CiliumBGPPeerConfig and one advertisement of every LoadBalancer IP",
  async (t) => {
    const configs = kube.resource<ClusterConfig>(V2.CiliumBGPClusterConfig!);
    for (const i of [1, 2, 3]) machines.push(await metal.allocateMachine(`cilium-v2-node-${i}`));
    await Promise.all(machines.map((m) => registerNode(nodes, m.allocation!.hostname)));
    for (const m of machines) {
      const name = m.allocation!.hostname;
      await waitInitialized(nodes, name);
      const asn = asnOf(m);
      t.true(asn > 2 ** 31, "metal-stack ASNs are 4-byte");
      const config = await waitConfig(`CiliumBGPClusterConfig ${name}`, () =>
        getOrUndefined(configs, { name }),
      );
      t.is(config.metadata.labels?.[MANAGED_BY_LABEL], MANAGED_BY);
      t.deepEqual(config.spec.nodeSelector, { matchLabels: { "kubernetes.io/hostname": name } });
      t.is(config.spec.bgpInstances.length, 1);
      const instance = config.spec.bgpInstances[0]!;
      t.is(instance.localASN, asn);
      t.like(instance.peers, [
        {
          peerASN: asn,
          peerAddress: internalIpOf(m, metal.networkId),
          peerConfigRef: { name: CILIUM_PEER_CONFIG },
        },
      ]);
    }
    // One sync applies the objects one after another: wait for each.
    const peerConfig = await waitConfig("the CiliumBGPPeerConfig", () =>
      getOrUndefined(kube.resource<PeerConfig>(V2.CiliumBGPPeerConfig!), { name: CILIUM_PEER_CONFIG }),
    );
    t.deepEqual(
      peerConfig.spec.families.map((f) => `${f.afi}/${f.safi} ${JSON.stringify(f.advertisements)}`),
      ["ipv4", "ipv6"].map((afi) => `${afi}/unicast {"matchLabels":{"${ADVERTISE_LABEL}":"load-balancer"}}`),
    );
    // Stored under Cilium's schema: its defaults were filled in by the apiserver.
    t.is(peerConfig.spec.ebgpMultihop, 1);
    const ad = await waitConfig("the CiliumBGPAdvertisement", () =>
      getOrUndefined(kube.resource<Advertisement>(V2.CiliumBGPAdvertisement!), {
        name: CILIUM_ADVERTISEMENT,
      }),
    );
    t.is(ad.metadata.labels?.[ADVERTISE_LABEL], "load-balancer", "selected by the peer config's families");
    t.like(ad.spec.advertisements, [
      { advertisementType: "Service", service: { addresses: ["LoadBalancerIP"] } },
    ]);
    noRefusedObjects(t);
  },
);

test.serial(
  "a LoadBalancer Service's IP lands in a v2 CiliumLoadBalancerIPPool; it goes with the Service",
  async (t) => {
    const pools = kube.resource<CiliumIpPool>(V2.CiliumLoadBalancerIPPool!);
    await services.create(lbServiceObject(NS, "web"));
    const ip = await waitFor(
      "the Service's ingress IP",
      async () => ingressOf(await getOrUndefined(services, { name: "web", namespace: NS }))[0],
      { timeoutMs: 30_000 },
    );
    const pool = await waitConfig("internet-ephemeral pool", () =>
      getOrUndefined(pools, { name: "internet-ephemeral" }),
    );
    t.is(pool.apiVersion, "cilium.io/v2");
    t.deepEqual(pool.spec.blocks, [{ cidr: `${ip}/32` }]);
    await services.delete({ name: "web", namespace: NS });
    await waitConfig(
      "pool removed",
      async () => (await getOrUndefined(pools, { name: "internet-ephemeral" })) === undefined,
      { timeoutMs: 20_000 },
    );
    noRefusedObjects(t);
  },
);

test.serial(
  "without nodes to peer, the cluster configs, the peer config and the advertisement go",
  async (t) => {
    await Promise.all(machines.map((m) => nodes.delete({ name: m.allocation!.hostname })));
    for (const kind of ["CiliumBGPClusterConfig", "CiliumBGPPeerConfig", "CiliumBGPAdvertisement"]) {
      const client = kube.resource(V2[kind]!);
      await waitConfig(
        `no ${kind} left`,
        async () =>
          (await client.list({ labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` })).items.length === 0,
        { timeoutMs: 20_000 },
      );
    }
    noRefusedObjects(t);
    t.pass();
  },
);

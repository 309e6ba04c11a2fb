// The seed mutations on their own: what each control plane object gets, that a second pass changes
// nothing, and the ask-for-context protocol.
import { ContextKind, type ContextObject } from "@metal-kube/proto/metalstack/extension/v1/admission";
import test from "ava";
import type { JsonObject } from "../src/gardener/json.js";
import { applyPatch, type PatchOperation } from "../src/json-patch.js";
import { createSeedMutation } from "../src/seed-mutation.js";
import { bytes, setPath } from "./fixtures/objects.js";
import {
  cloudproviderSecret,
  cluster,
  infrastructure,
  kubeApiserverDeployment,
  kubeControllerManagerDeployment,
  mcmDeployment,
  operatingSystemConfig,
} from "./fixtures/seed.js";

const seed = createSeedMutation({
  sidecars: { bridgeImage: "bridge:1", driverImage: "driver:1", natsUrl: "nats://n:4222" },
});
const C = ContextKind;

function context(
  o: { cluster?: JsonObject; infra?: JsonObject | null; secret?: JsonObject | null } = {},
): ContextObject[] {
  const infra =
    o.infra === undefined ? { ...infrastructure(), status: { nodesCIDR: "10.250.0.0/22" } } : o.infra;
  const secret = o.secret === undefined ? cloudproviderSecret() : o.secret;
  return [
    { kind: C.CONTEXT_KIND_CLUSTER, name: "shoot--proj--dev", object: bytes(o.cluster ?? cluster()) },
    {
      kind: C.CONTEXT_KIND_INFRASTRUCTURE,
      name: infra ? "dev" : "",
      object: infra ? bytes(infra) : Buffer.alloc(0),
    },
    { kind: C.CONTEXT_KIND_SECRET, name: "cloudprovider", object: secret ? bytes(secret) : Buffer.alloc(0) },
  ];
}

function mutate(d: JsonObject, ctx: ContextObject[] = context()) {
  const r = seed.mutateDeployment({ deployment: bytes(d), context: ctx });
  const out = JSON.parse(r.deployment.toString()) as JsonObject;
  const patched = applyPatch(d, JSON.parse(r.patch.toString()) as PatchOperation[]);
  return { r, out, patched };
}
const containers = (d: JsonObject) =>
  (((d.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[];

test("machine-controller-manager: the sidecars with the configured images, once", (t) => {
  const { r, out, patched } = mutate(mcmDeployment(), []);
  t.deepEqual(r.needs, [], "needs no context");
  t.deepEqual(patched, out);
  t.deepEqual(
    containers(out).map((c) => [c.name, c.image ?? ""]),
    [
      [
        "machine-controller-manager",
        "europe-docker.pkg.dev/gardener-project/releases/gardener/machine-controller-manager:v0.55.0",
      ],
      ["machine-controller-manager-provider-metal", "bridge:1"],
      ["machine-driver", "driver:1"],
    ],
  );
  t.deepEqual(r.changes, [
    "container machine-controller-manager-provider-metal set",
    "container machine-driver set",
    "volume metal-kube set",
    "volume machine-driver-outbox set",
  ]);
  const again = mutate(out, []);
  t.deepEqual(again.r.changes, []);
  t.is(again.r.patch.toString(), "[]");
});

test("kube-apiserver asks for its context first, then changes only with it", (t) => {
  const first = seed.mutateDeployment({ deployment: bytes(kubeApiserverDeployment()), context: [] });
  t.deepEqual(
    first.needs.map((n) => [n.kind, n.name]),
    [
      [C.CONTEXT_KIND_CLUSTER, ""],
      [C.CONTEXT_KIND_INFRASTRUCTURE, ""],
      [C.CONTEXT_KIND_SECRET, "cloudprovider"],
    ],
  );
  t.is(first.patch.toString(), "[]");
  const { r, out, patched } = mutate(kubeApiserverDeployment());
  t.deepEqual(r.needs, []);
  t.deepEqual(patched, out);
  t.deepEqual(containers(out)[0]?.args, [
    "--enable-admission-plugins=Priority,NamespaceLifecycle",
    "--secure-port=443",
    "--disable-admission-plugins=PersistentVolumeLabel",
  ]);
  t.is(mutate(out).r.changes.length, 0, "a second pass changes nothing");
});

test("kube-apiserver of Kubernetes 1.31 keeps its admission plugins; the shoot's nodes CIDR wins over the Infrastructure's", (t) => {
  const c = cluster();
  setPath(c, "spec.shoot.spec.kubernetes.version", "1.31.4");
  setPath(c, "spec.shoot.spec.networking.nodes", "10.99.0.0/16");
  const { out } = mutate(kubeApiserverDeployment(), context({ cluster: c }));
  t.deepEqual(containers(out)[0]?.args, [
    "--enable-admission-plugins=Priority,NamespaceLifecycle,PersistentVolumeLabel",
    "--secure-port=443",
  ]);
  t.deepEqual(((containers(out)[1]?.env ?? []) as JsonObject[]).at(-1), {
    name: "NODE_NETWORK",
    value: "10.99.0.0/16",
  });
});

test("without a nodes CIDR or the credentials Secret those parts wait for the next rollout", (t) => {
  const { out, r } = mutate(kubeApiserverDeployment(), context({ infra: null, secret: null }));
  t.false(((containers(out)[1]?.env ?? []) as JsonObject[]).some((e) => e.name === "NODE_NETWORK"));
  t.false(r.changes.some((c) => c.includes("checksum")));
});

test("kube-controller-manager: external cloud provider, no in-tree volume plugin, network labels", (t) => {
  const { out, r } = mutate(kubeControllerManagerDeployment());
  t.deepEqual(containers(out)[0]?.command, [
    "/usr/local/bin/kube-controller-manager",
    "--cloud-provider=external",
    "--controllers=*",
  ]);
  t.true(r.changes.includes("label networking.gardener.cloud/to-public-networks=allowed"));
  t.deepEqual(mutate(out).r.changes, []);
});

test("vpn-seed-server gets the node network; other and deleted Deployments pass unchanged", (t) => {
  const vpn = kubeControllerManagerDeployment();
  setPath(vpn, "metadata.name", "vpn-seed-server");
  setPath(vpn, "spec.template.spec.containers", [{ name: "vpn-seed-server", image: "vpn" }]);
  const { out } = mutate(vpn);
  t.deepEqual(containers(out)[0]?.env, [{ name: "NODE_NETWORK", value: "10.250.0.0/22" }]);
  const deleting = mcmDeployment();
  setPath(deleting, "metadata.deletionTimestamp", "2026-01-01T00:00:00Z");
  t.deepEqual(mutate(deleting, []).r.changes, []);
  const other = mcmDeployment();
  setPath(other, "metadata.name", "etcd-druid");
  t.deepEqual(mutate(other, []).r.changes, []);
});

function mutateOsc(osc: JsonObject, old?: JsonObject, c: JsonObject = cluster()) {
  const r = seed.mutateOperatingSystemConfig({
    osc: bytes(osc),
    oldOsc: old ? bytes(old) : Buffer.alloc(0),
    context: [{ kind: C.CONTEXT_KIND_CLUSTER, name: "", object: bytes(c) }],
  });
  return { r, out: JSON.parse(r.osc.toString()) as JsonObject };
}

test("an OSC asks for the Cluster; a restricted shoot's gets DNS and NTP only where the old OSC's nodes had them", (t) => {
  t.deepEqual(
    seed
      .mutateOperatingSystemConfig({
        osc: bytes(operatingSystemConfig()),
        oldOsc: Buffer.alloc(0),
        context: [],
      })
      .needs.map((n) => n.kind),
    [C.CONTEXT_KIND_CLUSTER],
  );
  const fresh = mutateOsc(operatingSystemConfig());
  const iso = ((fresh.out.spec as JsonObject).providerConfig as JsonObject).networkIsolation as JsonObject;
  t.false("dnsServers" in iso);
  t.deepEqual(fresh.r.imageProviderConfig?.networkIsolation?.dnsServers, []);
  const old = operatingSystemConfig();
  setPath(old, "status.extensionFiles", [
    { path: "/etc/systemd/resolved.conf.d/dns.conf", content: { inline: { data: "" } } },
  ]);
  const kept = mutateOsc(operatingSystemConfig(), old);
  const iso2 = ((kept.out.spec as JsonObject).providerConfig as JsonObject).networkIsolation as JsonObject;
  t.deepEqual(iso2.dnsServers, ["10.1.1.1", "2001:db8::53"]);
  t.deepEqual(iso2.ntpServers, ["10.1.1.2"]);
  t.deepEqual(mutateOsc(kept.out, old).r.changes, [], "a second pass changes nothing");
});

test("a baseline shoot's OSC gets no ImageProviderConfig but the kubelet changes", (t) => {
  const c = cluster();
  setPath(c, "spec.shoot.spec.provider.controlPlaneConfig.networkAccessType", "baseline");
  const { out, r } = mutateOsc(operatingSystemConfig(), undefined, c);
  t.is((out.spec as JsonObject).providerConfig, undefined);
  t.deepEqual(r.changes, [
    "unit kubelet.service: --cloud-provider=external",
    "file /var/lib/kubelet/config/kubelet: feature gates CSINodeInfo removed",
  ]);
  t.deepEqual(mutateOsc(out, undefined, c).r.changes, []);
});

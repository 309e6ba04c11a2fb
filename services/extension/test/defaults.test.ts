// Shoot defaults: each set only when unset, the JSON patch turns the given Shoot into the defaulted one,
// and defaulting twice changes nothing.
import test from "ava";
import { createAdmission } from "../src/admission.js";
import { latestFirewallImage } from "../src/defaults/firewall-image.js";
import { DEFAULT_SHOOT_DEFAULTS } from "../src/defaults/options.js";
import type { JsonObject } from "../src/gardener/json.js";
import { applyPatch, type PatchOperation } from "../src/json-patch.js";
import { bytes, cloudProfile, setPath, shoot } from "./fixtures/objects.js";

const admission = createAdmission();
const IC = "spec.provider.infrastructureConfig";

function run(s: JsonObject, profile = cloudProfile(), a = admission) {
  const r = a.defaultShoot({
    shoot: bytes(s),
    cloudProfile: bytes(profile),
    parentCloudProfile: Buffer.alloc(0),
  });
  const patch = JSON.parse(r.patch.toString()) as PatchOperation[];
  const out = JSON.parse(r.shoot.toString()) as JsonObject;
  return { r, patch, out };
}

function bare(): JsonObject {
  const s = shoot(1);
  setPath(s, `${IC}.firewall.image`, "");
  setPath(s, `${IC}.firewall.size`, undefined);
  setPath(s, "spec.networking", undefined);
  return s;
}

test("a bare Shoot gets every default, and the patch makes exactly the defaulted Shoot", (t) => {
  const s = bare();
  const { r, patch, out } = run(s);
  t.deepEqual(r.fieldsSet, [
    "spec.kubernetes.kubeControllerManager.nodeCIDRMaskSize",
    "spec.kubernetes.kubelet.maxPods",
    `${IC}.firewall.image`,
    `${IC}.firewall.size`,
    "spec.networking.type",
    "spec.networking.pods",
    "spec.networking.services",
    "spec.kubernetes.kubeProxy.enabled",
    "spec.networking.providerConfig",
  ]);
  t.deepEqual(applyPatch(s, patch), out);
  const spec = out.spec as Record<string, Record<string, Record<string, unknown>>>;
  t.is(spec.kubernetes?.kubeControllerManager?.nodeCIDRMaskSize, 23);
  t.is(spec.kubernetes?.kubelet?.maxPods, 250);
  t.is(spec.kubernetes?.kubeProxy?.enabled, true);
  t.like(spec.provider?.infrastructureConfig as object, {
    firewall: { image: "firewall-ubuntu-3.0.20240601", size: "c1-large-x86" },
  });
  t.deepEqual(spec.networking, {
    type: "calico",
    pods: "10.240.0.0/13",
    services: "10.248.0.0/18",
    providerConfig: {
      apiVersion: "calico.networking.extensions.gardener.cloud/v1alpha1",
      kind: "NetworkConfig",
      backend: "none",
      ipv4: { mode: "Never" },
      typha: { enabled: false },
    },
  });
  t.is(r.infrastructureConfig?.firewall?.size, "c1-large-x86");
});

test("defaulting a defaulted Shoot changes nothing", (t) => {
  const { out } = run(bare());
  const again = run(out);
  t.deepEqual(again.r.fieldsSet, []);
  t.deepEqual(again.patch, []);
  t.deepEqual(again.out, out);
});

test("values the user set are never overwritten", (t) => {
  const s = shoot(1);
  setPath(s, "spec.kubernetes.kubelet.maxPods", 110);
  setPath(s, "spec.kubernetes.kubeControllerManager.nodeCIDRMaskSize", 24);
  setPath(s, "spec.kubernetes.kubeProxy.enabled", false);
  setPath(s, "spec.networking", {
    type: "calico",
    pods: "100.64.0.0/12",
    services: "100.80.0.0/16",
    nodes: "10.0.0.0/16",
    providerConfig: { backend: "bird" },
  });
  const { r, patch } = run(s);
  t.deepEqual(r.fieldsSet, []);
  t.deepEqual(patch, []);
});

test("cilium gets its own provider config and kube-proxy off", (t) => {
  const s = bare();
  setPath(s, "spec.networking", { type: "cilium" });
  const { out } = run(s);
  const spec = out.spec as Record<string, Record<string, Record<string, unknown>>>;
  t.is(spec.kubernetes?.kubeProxy?.enabled, false);
  t.deepEqual(spec.networking?.providerConfig, {
    apiVersion: "cilium.networking.extensions.gardener.cloud/v1alpha1",
    kind: "NetworkConfig",
    hubble: { enabled: true },
    tunnel: "disabled",
    devices: ["lan+", "lo"],
    directRoutingDevice: "lo",
    bgpControlPlane: { enabled: true },
    ipv4NativeRoutingCIDREnabled: true,
    loadBalancingMode: "dsr",
    mtu: 1440,
  });
});

test("other network types get no provider config; workerless Shoots no networking defaults", (t) => {
  const other = bare();
  setPath(other, "spec.networking", { type: "flannel" });
  t.false(run(other).r.fieldsSet.includes("spec.networking.providerConfig"));
  const workerless = bare();
  setPath(workerless, "spec.provider.workers", []);
  t.deepEqual(
    run(workerless).r.fieldsSet.filter((f) => f.startsWith("spec.networking")),
    [],
  );
});

test("no firewall defaults for an unreadable config or an unknown partition: the validator names the problem", (t) => {
  const unreadable = bare();
  setPath(unreadable, `${IC}.firewall.sizes`, ["x"]);
  t.false(run(unreadable).r.fieldsSet.some((f) => f.startsWith(IC)));
  const elsewhere = bare();
  setPath(elsewhere, `${IC}.partitionID`, "nowhere");
  t.false(run(elsewhere).r.fieldsSet.some((f) => f.startsWith(IC)));
  const none = bare();
  setPath(none, IC, undefined);
  t.false(run(none).r.fieldsSet.some((f) => f.startsWith(IC)));
  t.true(run(none).r.fieldsSet.includes("spec.kubernetes.kubelet.maxPods"));
});

test("a partition without firewall types and a control plane without images default nothing there", (t) => {
  const s = bare();
  setPath(s, `${IC}.partitionID`, "nbg-w8101");
  setPath(s, "spec.region", "nbg");
  t.false(run(s).r.fieldsSet.some((f) => f.startsWith(`${IC}.firewall`)));
});

test("configured defaults replace the reference's", (t) => {
  const a = createAdmission({
    defaults: { ...DEFAULT_SHOOT_DEFAULTS, maxPods: 110, podsCIDR: "100.64.0.0/12", networkType: "cilium" },
  });
  const { out } = run(bare(), cloudProfile(), a);
  const spec = out.spec as Record<string, Record<string, Record<string, unknown>>>;
  t.is(spec.kubernetes?.kubelet?.maxPods, 110);
  t.is((spec.networking as Record<string, unknown> | undefined)?.pods, "100.64.0.0/12");
  t.is((spec.networking as Record<string, unknown> | undefined)?.type, "cilium");
});

test("the newest firewall image: OS name ascending, then version descending", (t) => {
  t.is(
    latestFirewallImage([
      "firewall-ubuntu-2.0.20231101",
      "firewall-ubuntu-3.0.20240601",
      "firewall-ubuntu-3.0.20240101",
    ]),
    "firewall-ubuntu-3.0.20240601",
  );
  t.is(
    latestFirewallImage(["firewall-ubuntu-3.0.20240601", "firewall-2.0.20210207"]),
    "firewall-2.0.20210207",
  );
  t.is(latestFirewallImage(["custom", "firewall-ubuntu-3.0"]), "firewall-ubuntu-3.0");
  t.is(latestFirewallImage(["custom", "other"]), "custom");
  t.is(latestFirewallImage([]), undefined);
  const list = ["b-1.0", "a-1.0"];
  latestFirewallImage(list);
  t.deepEqual(list, ["b-1.0", "a-1.0"], "the profile's list is not reordered");
});

test("Shoots of other providers are left alone", (t) => {
  const s = bare();
  setPath(s, "spec.provider.type", "aws");
  t.deepEqual(run(s).r.fieldsSet, []);
});

// Every Shoot rule: a good Shoot passes; each bad one fails with exactly its path and type.
import { FieldErrorType as T } from "@metal-kube/proto/metalstack/extension/v1/admission";
import test from "ava";
import { createAdmission } from "../src/admission.js";
import type { JsonObject } from "../src/gardener/json.js";
import {
  bytes,
  clone,
  cloudProfile,
  ISOLATED_PARTITION,
  PROVIDER_API,
  setPath,
  shoot,
  worker,
} from "./fixtures/objects.js";

const admission = createAdmission();
const IC = "spec.provider.infrastructureConfig";
const CP = "spec.provider.controlPlaneConfig";

function validate(s: JsonObject, o: { old?: JsonObject; profile?: JsonObject } = {}) {
  return admission.validateShoot({
    shoot: bytes(s),
    oldShoot: o.old ? bytes(o.old) : Buffer.alloc(0),
    cloudProfile: bytes(o.profile ?? cloudProfile()),
    parentCloudProfile: Buffer.alloc(0),
  });
}

const typeOf = {
  R: T.FIELD_ERROR_TYPE_REQUIRED,
  I: T.FIELD_ERROR_TYPE_INVALID,
  F: T.FIELD_ERROR_TYPE_FORBIDDEN,
  N: T.FIELD_ERROR_TYPE_NOT_SUPPORTED,
  D: T.FIELD_ERROR_TYPE_DUPLICATE,
};
type Expect = Array<[string, keyof typeof typeOf]>;

test("a good Shoot passes and its configs come back decoded", (t) => {
  const r = validate(shoot(3));
  t.deepEqual(r.errors, []);
  t.true(r.allowed);
  t.is(r.message, "");
  t.is(r.infrastructureConfig?.partitionId, "fra-equ01");
  t.is(r.infrastructureConfig?.firewall?.rateLimits[0]?.networkId, "internet");
  t.is(r.controlPlaneConfig?.networkAccessType, "baseline");
});

interface Case {
  name: string;
  change: (s: JsonObject, p: JsonObject) => void;
  expect: Expect;
  /** An update: the old Shoot is the good one, changed by this. */
  old?: (s: JsonObject) => void;
}

const cases: Case[] = [
  {
    name: "tenant annotation missing",
    change: (s) => setPath(s, "metadata.annotations", {}),
    expect: [["metadata.annotations[cluster.metal-stack.io/tenant]", "R"]],
  },
  {
    name: "infrastructureConfig missing",
    change: (s) => setPath(s, `${IC}`, undefined),
    expect: [[IC, "R"]],
  },
  { name: "controlPlaneConfig missing", change: (s) => setPath(s, `${CP}`, undefined), expect: [[CP, "R"]] },
  { name: "infrastructureConfig not an object", change: (s) => setPath(s, IC, "x"), expect: [[IC, "I"]] },
  {
    name: "unknown field in the firewall",
    change: (s) => setPath(s, `${IC}.firewall.partition`, "fra-equ01"),
    expect: [[`${IC}.firewall.partition`, "I"]],
  },
  {
    name: "unknown field, wrong case",
    change: (s) => setPath(s, `${IC}.partitionId`, "fra-equ01"),
    expect: [[`${IC}.partitionId`, "I"]],
  },
  {
    name: "wrong apiVersion",
    change: (s) => setPath(s, `${IC}.apiVersion`, "metal.provider.extensions.gardener.cloud/v1"),
    expect: [[`${IC}.apiVersion`, "N"]],
  },
  {
    name: "wrong kind",
    change: (s) => setPath(s, `${IC}.kind`, "ControlPlaneConfig"),
    expect: [[`${IC}.kind`, "N"]],
  },
  { name: "missing kind", change: (s) => setPath(s, `${IC}.kind`, undefined), expect: [[`${IC}.kind`, "R"]] },
  {
    name: "wrong type of a value",
    change: (s) => setPath(s, `${IC}.firewall.logAcceptedConnections`, "yes"),
    expect: [[`${IC}.firewall.logAcceptedConnections`, "I"]],
  },
  {
    name: "negative rate limit",
    change: (s) => setPath(s, `${IC}.firewall.rateLimits.0.rateLimit`, -1),
    expect: [[`${IC}.firewall.rateLimits[0].rateLimit`, "I"]],
  },
  {
    name: "bad duration",
    change: (s) => setPath(s, `${IC}.firewall.firewallHealthTimeout`, "ten minutes"),
    expect: [[`${IC}.firewall.firewallHealthTimeout`, "I"]],
  },
  {
    name: "projectID empty",
    change: (s) => setPath(s, `${IC}.projectID`, ""),
    expect: [[`${IC}.projectID`, "R"]],
  },
  {
    name: "partitionID empty",
    change: (s) => setPath(s, `${IC}.partitionID`, ""),
    expect: [[`${IC}.partitionID`, "R"]],
  },
  {
    name: "firewall image empty",
    change: (s) => setPath(s, `${IC}.firewall.image`, ""),
    expect: [[`${IC}.firewall.image`, "R"]],
  },
  {
    name: "firewall size empty",
    change: (s) => setPath(s, `${IC}.firewall.size`, ""),
    expect: [[`${IC}.firewall.size`, "R"]],
  },
  {
    name: "no firewall networks",
    change: (s) => {
      setPath(s, `${IC}.firewall.networks`, []);
      setPath(s, `${IC}.firewall.rateLimits`, []);
      setPath(s, `${IC}.firewall.egressRules`, []);
      setPath(s, `${CP}.cloudControllerManager`, undefined);
    },
    expect: [[`${IC}.firewall.networks`, "R"]],
  },
  {
    name: "empty firewall network",
    change: (s) => setPath(s, `${IC}.firewall.networks.1`, ""),
    expect: [[`${IC}.firewall.networks[1]`, "R"]],
  },
  {
    name: "duplicate firewall network",
    change: (s) => setPath(s, `${IC}.firewall.networks.1`, "internet"),
    expect: [[`${IC}.firewall.networks[1]`, "D"]],
  },
  {
    name: "rate limit network empty",
    change: (s) => setPath(s, `${IC}.firewall.rateLimits.0.networkID`, ""),
    expect: [[`${IC}.firewall.rateLimits[0].networkID`, "R"]],
  },
  {
    name: "rate limit network not a firewall network",
    change: (s) => setPath(s, `${IC}.firewall.rateLimits.0.networkID`, "dmz"),
    expect: [[`${IC}.firewall.rateLimits[0].networkID`, "I"]],
  },
  {
    name: "egress rule network empty",
    change: (s) => setPath(s, `${IC}.firewall.egressRules.0.networkID`, ""),
    expect: [[`${IC}.firewall.egressRules[0].networkID`, "R"]],
  },
  {
    name: "egress rule network not a firewall network",
    change: (s) => setPath(s, `${IC}.firewall.egressRules.0.networkID`, "dmz"),
    expect: [[`${IC}.firewall.egressRules[0].networkID`, "I"]],
  },
  {
    name: "egress rule without ips",
    change: (s) => setPath(s, `${IC}.firewall.egressRules.0.ips`, []),
    expect: [[`${IC}.firewall.egressRules[0].ips`, "R"]],
  },
  {
    name: "egress rule with a malformed ip",
    change: (s) => setPath(s, `${IC}.firewall.egressRules.0.ips.1`, "203.0.113"),
    expect: [[`${IC}.firewall.egressRules[0].ips[1]`, "I"]],
  },
  {
    name: "partition not a zone of the region",
    change: (s) => setPath(s, `${IC}.partitionID`, "nbg-w8101"),
    expect: [[`${IC}.partitionID`, "N"]],
  },
  {
    name: "region not in the profile",
    change: (s) => setPath(s, "spec.region", "muc"),
    expect: [["spec.region", "N"]],
  },
  {
    name: "partition a zone but in no control plane",
    change: (s, p) => {
      setPath(s, `${IC}.partitionID`, "fra-equ03");
      ((p.spec as JsonObject).regions as JsonObject[])[0]!.zones = [
        { name: "fra-equ01" },
        { name: "fra-equ02" },
        { name: "fra-equ03" },
      ];
    },
    expect: [[`${IC}.partitionID`, "I"]],
  },
  {
    name: "firewall image not offered",
    change: (s) => setPath(s, `${IC}.firewall.image`, "firewall-ubuntu-1.0.20200101"),
    expect: [[`${IC}.firewall.image`, "N"]],
  },
  {
    name: "firewall size not offered",
    change: (s) => setPath(s, `${IC}.firewall.size`, "s1-small-x86"),
    expect: [[`${IC}.firewall.size`, "N"]],
  },
  {
    name: "controller version not offered",
    change: (s) => setPath(s, `${IC}.firewall.controllerVersion`, "v9.9.9"),
    expect: [[`${IC}.firewall.controllerVersion`, "N"]],
  },
  {
    name: "auto controller version without a supported one",
    change: (_s, p) =>
      setPath(
        p,
        "spec.providerConfig.metalControlPlanes.prod.firewallControllerVersions.0.classification",
        "preview",
      ),
    expect: [[`${IC}.firewall.controllerVersion`, "I"]],
  },
  {
    name: "cloud profile without providerConfig",
    change: (_s, p) => setPath(p, "spec.providerConfig", undefined),
    expect: [["spec.cloudProfileName", "R"]],
  },
  {
    name: "cloud profile with a bad providerConfig",
    change: (_s, p) => setPath(p, "spec.providerConfig.metalControlPlanes.prod.bogus", 1),
    expect: [["spec.cloudProfileName", "I"]],
  },
  {
    name: "unknown network access type",
    change: (s) => setPath(s, `${CP}.networkAccessType`, "open"),
    expect: [[`${CP}.networkAccessType`, "N"]],
  },
  {
    name: "restricted access without network isolation",
    change: (s) => setPath(s, `${CP}.networkAccessType`, "restricted"),
    expect: [[`${CP}.networkAccessType`, "I"]],
  },
  {
    name: "default external network not a firewall network",
    change: (s) => setPath(s, `${CP}.cloudControllerManager.defaultExternalNetwork`, "dmz"),
    expect: [[`${CP}.cloudControllerManager.defaultExternalNetwork`, "I"]],
  },
  {
    name: "unknown field in the control plane config",
    change: (s) => setPath(s, `${CP}.iamconfig`, {}),
    expect: [[`${CP}.iamconfig`, "I"]],
  },
  {
    name: "worker with a volume",
    change: (s) => setPath(s, "spec.provider.workers.0.volume", { size: "20Gi" }),
    expect: [["spec.provider.workers[0].volume", "F"]],
  },
  {
    name: "worker with zones",
    change: (s) => setPath(s, "spec.provider.workers.0.zones", ["fra-equ01"]),
    expect: [["spec.provider.workers[0].zones", "F"]],
  },
  {
    name: "worker image version not offered",
    change: (s) => setPath(s, "spec.provider.workers.0.machine.image.version", "99.0"),
    expect: [["spec.provider.workers[0].machine.image", "I"]],
  },
  {
    name: "worker image not offered",
    change: (s) => setPath(s, "spec.provider.workers.0.machine.image.name", "windows"),
    expect: [["spec.provider.workers[0].machine.image", "I"]],
  },
  {
    name: "update changes partitionID",
    old: () => {},
    change: (s) => setPath(s, `${IC}.partitionID`, ISOLATED_PARTITION),
    expect: [
      [`${IC}.firewall.size`, "N"],
      [`${IC}.partitionID`, "I"],
    ],
  },
  {
    name: "update changes projectID",
    old: () => {},
    change: (s) => setPath(s, `${IC}.projectID`, "other"),
    expect: [[`${IC}.projectID`, "I"]],
  },
  {
    name: "update changes the tenant",
    old: () => {},
    change: (s) => setPath(s, "metadata.annotations", { "cluster.metal-stack.io/tenant": "evil" }),
    expect: [["metadata.annotations[cluster.metal-stack.io/tenant]", "F"]],
  },
];

for (const c of cases) {
  test(`refused: ${c.name}`, (t) => {
    const s = shoot(2);
    const p = cloudProfile();
    const old = c.old ? clone(s) : undefined;
    c.change(s, p);
    const r = validate(s, { old, profile: p });
    t.false(r.allowed);
    t.deepEqual(
      r.errors.map((e) => [e.field, e.type]),
      c.expect.map(([f, ty]) => [f, typeOf[ty]]),
      r.message,
    );
    t.true(r.message.includes(c.expect[0]![0]), r.message);
  });
}

test("update that keeps partition and project passes, and changing an old Shoot's other fields too", (t) => {
  const old = shoot(2);
  const s = clone(old);
  setPath(s, `${IC}.firewall.size`, "n1-medium-x86");
  t.deepEqual(validate(s, { old }).errors, []);
});

test("restricted access in a partition with network isolation passes", (t) => {
  const s = shoot(1);
  setPath(s, `${IC}.partitionID`, ISOLATED_PARTITION);
  setPath(s, `${IC}.firewall.size`, "n1-medium-x86");
  setPath(s, `${CP}.networkAccessType`, "forbidden");
  t.deepEqual(validate(s).errors, []);
});

test("Shoots of another provider and Shoots being deleted are not checked", (t) => {
  const other = shoot(1);
  setPath(other, "spec.provider.type", "aws");
  setPath(other, IC, undefined);
  t.true(validate(other).allowed);
  const deleting = shoot(1);
  setPath(deleting, "metadata.deletionTimestamp", "2026-01-01T00:00:00Z");
  setPath(deleting, IC, undefined);
  t.true(validate(deleting).allowed);
});

test("several errors are sorted, deduplicated and printed as kubectl aggregates them", (t) => {
  const s = shoot(1);
  setPath(s, `${IC}.firewall.size`, "tiny");
  setPath(s, `${IC}.firewall.image`, "");
  setPath(s, "spec.provider.workers", [worker("a", { zones: ["z"] }), worker("b", { zones: ["z"] })]);
  const r = validate(s);
  t.deepEqual(
    r.errors.map((e) => e.field),
    [
      `${IC}.firewall.image`,
      `${IC}.firewall.size`,
      "spec.provider.workers[0].zones",
      "spec.provider.workers[1].zones",
    ],
  );
  t.is(
    r.message,
    `[${IC}.firewall.image: Required value: firewall image must be specified, ${IC}.firewall.size: Unsupported value: "tiny": supported values: "c1-large-x86", "n1-medium-x86", spec.provider.workers[0].zones: Forbidden: zone spreading is not supported, specify partition via infrastructure config, spec.provider.workers[1].zones: Forbidden: zone spreading is not supported, specify partition via infrastructure config]`,
  );
});

test("IPv6 egress IPs and isolation DNS servers are accepted", (t) => {
  const s = shoot(1);
  setPath(s, `${IC}.firewall.egressRules.0.ips`, ["2001:db8::1", "fe80::1%lan0"]);
  t.deepEqual(validate(s).errors, []);
});

test("a NamespacedCloudProfile without status is merged with its parent", (t) => {
  const parent = cloudProfile();
  const namespaced = {
    apiVersion: "core.gardener.cloud/v1beta1",
    kind: "NamespacedCloudProfile",
    metadata: { name: "metal-extra", namespace: "garden-proj" },
    spec: {
      parent: { kind: "CloudProfile", name: "metal" },
      machineImages: [{ name: "flatcar", versions: [{ version: "4081.2.0" }] }],
    },
  };
  const s = shoot(1);
  setPath(s, "spec.cloudProfileName", undefined);
  setPath(s, "spec.cloudProfile", { kind: "NamespacedCloudProfile", name: "metal-extra" });
  setPath(s, "spec.provider.workers.0.machine.image", { name: "flatcar", version: "4081.2.0" });
  const r = admission.validateShoot({
    shoot: bytes(s),
    oldShoot: Buffer.alloc(0),
    cloudProfile: bytes(namespaced),
    parentCloudProfile: bytes(parent),
  });
  t.deepEqual(r.errors, []);
  setPath(s, "spec.provider.workers.0.machine.image.version", "1.0");
  const bad = admission.validateShoot({
    shoot: bytes(s),
    oldShoot: Buffer.alloc(0),
    cloudProfile: bytes(namespaced),
    parentCloudProfile: bytes(parent),
  });
  t.deepEqual(
    bad.errors.map((e) => e.field),
    ["spec.provider.workers[0].machine.image"],
  );
});

test("requests without readable objects are INVALID_ARGUMENT naming the request field", (t) => {
  const e = t.throws(() =>
    admission.validateShoot({
      shoot: Buffer.from("{"),
      oldShoot: Buffer.alloc(0),
      cloudProfile: bytes(cloudProfile()),
      parentCloudProfile: Buffer.alloc(0),
    }),
  );
  t.regex(e.message, /^shoot: not valid JSON/);
  const e2 = t.throws(() =>
    admission.validateShoot({
      shoot: bytes(cloudProfile()),
      oldShoot: Buffer.alloc(0),
      cloudProfile: bytes(cloudProfile()),
      parentCloudProfile: Buffer.alloc(0),
    }),
  );
  t.regex(e2.message, /^shoot: must be core.gardener.cloud\/v1beta1 Shoot/);
  const e3 = t.throws(() =>
    admission.validateShoot({
      shoot: bytes(shoot()),
      oldShoot: Buffer.alloc(0),
      cloudProfile: Buffer.alloc(0),
      parentCloudProfile: Buffer.alloc(0),
    }),
  );
  t.regex(e3.message, /^cloud_profile: required/);
  t.is(PROVIDER_API, "metal.provider.extensions.gardener.cloud/v1alpha1");
});

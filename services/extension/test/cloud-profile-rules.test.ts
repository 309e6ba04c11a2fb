// Every CloudProfile rule: the good profile passes; each bad one fails with exactly its path and type.
import { FieldErrorType as T } from "@metal-kube/proto/metalstack/extension/v1/admission";
import test from "ava";
import { createAdmission } from "../src/admission.js";
import type { JsonObject } from "../src/gardener/json.js";
import { bytes, clone, cloudProfile, setPath } from "./fixtures/objects.js";

const admission = createAdmission();
const PC = "spec.providerConfig";
const MCP = `${PC}.metalControlPlanes[prod]`;
const ISO = `${MCP}.partitions[fra-equ02].networkIsolation`;
const ISO_SET = "spec.providerConfig.metalControlPlanes.prod.partitions.fra-equ02.networkIsolation";

function validate(p: JsonObject, old?: JsonObject, parent?: JsonObject) {
  return admission.validateCloudProfile({
    cloudProfile: bytes(p),
    oldCloudProfile: old ? bytes(old) : Buffer.alloc(0),
    parentCloudProfile: parent ? bytes(parent) : Buffer.alloc(0),
  });
}

const ty = {
  R: T.FIELD_ERROR_TYPE_REQUIRED,
  I: T.FIELD_ERROR_TYPE_INVALID,
  F: T.FIELD_ERROR_TYPE_FORBIDDEN,
  N: T.FIELD_ERROR_TYPE_NOT_SUPPORTED,
  D: T.FIELD_ERROR_TYPE_DUPLICATE,
};

test("the good profile passes and its config comes back decoded", (t) => {
  const r = validate(cloudProfile());
  t.deepEqual(r.errors, []);
  t.deepEqual(Object.keys(r.cloudProfileConfig?.metalControlPlanes ?? {}), ["prod", "test"]);
  t.deepEqual(
    r.cloudProfileConfig?.metalControlPlanes.prod?.partitions["fra-equ02"]?.networkIsolation?.dnsServers,
    ["10.1.1.1", "2001:db8::53"],
  );
});

const cases: Array<{
  name: string;
  change: (p: JsonObject) => void;
  expect: Array<[string, keyof typeof ty]>;
  old?: (p: JsonObject) => void;
}> = [
  { name: "no providerConfig", change: (p) => setPath(p, PC, undefined), expect: [[PC, "R"]] },
  {
    name: "unknown field",
    change: (p) => setPath(p, `${PC}.metalControlPlanes.prod.firewallImage`, "x"),
    expect: [[`${MCP}.firewallImage`, "I"]],
  },
  {
    name: "wrong kind",
    change: (p) => setPath(p, `${PC}.kind`, "InfrastructureConfig"),
    expect: [[`${PC}.kind`, "N"]],
  },
  {
    name: "empty endpoint",
    change: (p) => setPath(p, `${PC}.metalControlPlanes.prod.endpoint`, ""),
    expect: [[`${MCP}.endpoint`, "R"]],
  },
  {
    name: "endpoint not a URL",
    change: (p) => setPath(p, `${PC}.metalControlPlanes.prod.endpoint`, "metal-api:8080"),
    expect: [[`${MCP}.endpoint`, "I"]],
  },
  {
    name: "unknown classification",
    change: (p) =>
      setPath(p, `${PC}.metalControlPlanes.prod.firewallControllerVersions.0.classification`, "beta"),
    expect: [[`${MCP}.firewallControllerVersions[0].classification`, "N"]],
  },
  {
    name: "duplicate controller version",
    change: (p) => setPath(p, `${PC}.metalControlPlanes.prod.firewallControllerVersions.1.version`, "v2.3.4"),
    expect: [[`${MCP}.firewallControllerVersions[1].version`, "D"]],
  },
  {
    name: "supported version that is not semver",
    change: (p) => setPath(p, `${PC}.metalControlPlanes.prod.firewallControllerVersions.0.version`, "latest"),
    expect: [[`${MCP}.firewallControllerVersions[0].version`, "I"]],
  },
  {
    name: "partition that is no zone",
    change: (p) => setPath(p, `${PC}.metalControlPlanes.prod.partitions.muc-1`, { firewallTypes: [] }),
    expect: [[`${MCP}.partitions[muc-1]`, "I"]],
  },
  {
    name: "partition in two control planes",
    change: (p) => setPath(p, `${PC}.metalControlPlanes.test.partitions.fra-equ01`, { firewallTypes: [] }),
    expect: [[`${PC}.metalControlPlanes[test].partitions[fra-equ01]`, "I"]],
  },
  {
    name: "no DNS servers",
    change: (p) => setPath(p, `${ISO_SET}.dnsServers`, []),
    expect: [[`${ISO}.dnsServers`, "R"]],
  },
  {
    name: "four DNS servers",
    change: (p) => setPath(p, `${ISO_SET}.dnsServers`, ["1.1.1.1", "1.0.0.1", "8.8.8.8", "9.9.9.9"]),
    expect: [[`${ISO}.dnsServers`, "I"]],
  },
  {
    name: "DNS server not an IP",
    change: (p) => setPath(p, `${ISO_SET}.dnsServers.1`, "dns.example.com"),
    expect: [[`${ISO}.dnsServers[1]`, "I"]],
  },
  {
    name: "no NTP servers",
    change: (p) => setPath(p, `${ISO_SET}.ntpServers`, []),
    expect: [[`${ISO}.ntpServers`, "R"]],
  },
  {
    name: "NTP server not an IP",
    change: (p) => setPath(p, `${ISO_SET}.ntpServers.0`, "pool.ntp.org"),
    expect: [[`${ISO}.ntpServers[0]`, "I"]],
  },
  {
    name: "no egress networks",
    change: (p) => setPath(p, `${ISO_SET}.allowedNetworks.egress`, []),
    expect: [[`${ISO}.allowedNetworks.egress`, "R"]],
  },
  {
    name: "no ingress networks",
    change: (p) => setPath(p, `${ISO_SET}.allowedNetworks.ingress`, []),
    expect: [[`${ISO}.allowedNetworks.ingress`, "R"]],
  },
  {
    name: "egress network not a CIDR",
    change: (p) => setPath(p, `${ISO_SET}.allowedNetworks.egress.1`, "2001:db8::/129"),
    expect: [[`${ISO}.allowedNetworks.egress[1]`, "I"]],
  },
  {
    name: "no registry mirrors",
    change: (p) => setPath(p, `${ISO_SET}.registryMirrors`, []),
    expect: [[`${ISO}.registryMirrors`, "R"]],
  },
  {
    name: "mirror without name",
    change: (p) => setPath(p, `${ISO_SET}.registryMirrors.0.name`, ""),
    expect: [[`${ISO}.registryMirrors[0].name`, "R"]],
  },
  {
    name: "mirror endpoint not a URL",
    change: (p) => setPath(p, `${ISO_SET}.registryMirrors.0.endpoint`, "r.metal-stack.io"),
    expect: [[`${ISO}.registryMirrors[0].endpoint`, "I"]],
  },
  {
    name: "mirror endpoint not http(s)",
    change: (p) => setPath(p, `${ISO_SET}.registryMirrors.0.endpoint`, "ftp://r.metal-stack.io"),
    expect: [[`${ISO}.registryMirrors[0].endpoint`, "I"]],
  },
  {
    name: "mirror ip",
    change: (p) => setPath(p, `${ISO_SET}.registryMirrors.0.ip`, "10.1.1"),
    expect: [[`${ISO}.registryMirrors[0].ip`, "I"]],
  },
  {
    name: "mirror port 0",
    change: (p) => setPath(p, `${ISO_SET}.registryMirrors.0.port`, 0),
    expect: [[`${ISO}.registryMirrors[0].port`, "I"]],
  },
  {
    name: "mirror of nothing",
    change: (p) => setPath(p, `${ISO_SET}.registryMirrors.0.mirrorOf`, []),
    expect: [[`${ISO}.registryMirrors[0].mirrorOf`, "R"]],
  },
  {
    name: "mirror of an empty registry",
    change: (p) => setPath(p, `${ISO_SET}.registryMirrors.0.mirrorOf.1`, ""),
    expect: [[`${ISO}.registryMirrors[0].mirrorOf[1]`, "R"]],
  },
  {
    name: "mirror of a URL instead of a host",
    change: (p) => setPath(p, `${ISO_SET}.registryMirrors.0.mirrorOf.1`, "https://quay.io/v2"),
    expect: [[`${ISO}.registryMirrors[0].mirrorOf[1]`, "I"]],
  },
  {
    name: "update removes a network isolation",
    old: () => {},
    change: (p) => setPath(p, ISO_SET, undefined),
    expect: [[ISO, "R"]],
  },
  {
    name: "update adds a DNS server",
    old: () => {},
    change: (p) => setPath(p, `${ISO_SET}.dnsServers`, ["10.1.1.1", "2001:db8::53", "10.1.1.9"]),
    expect: [[`${ISO}.dnsServers`, "I"]],
  },
  {
    name: "update changes a DNS server",
    old: () => {},
    change: (p) => setPath(p, `${ISO_SET}.dnsServers.1`, "2001:db8::54"),
    expect: [[`${ISO}.dnsServers[1]`, "I"]],
  },
];

for (const c of cases) {
  test(`refused: ${c.name}`, (t) => {
    const p = cloudProfile();
    const old = c.old ? clone(p) : undefined;
    c.change(p);
    const r = validate(p, old);
    t.false(r.allowed);
    t.deepEqual(
      r.errors.map((e) => [e.field, e.type]),
      c.expect.map(([f, k]) => [f, ty[k]]),
      r.message,
    );
  });
}

test("an update may change everything but DNS servers, and may add an isolation", (t) => {
  const old = cloudProfile();
  setPath(
    old,
    "spec.providerConfig.metalControlPlanes.prod.partitions.fra-equ01.networkIsolation",
    undefined,
  );
  const p = clone(old);
  setPath(p, `${ISO_SET}.ntpServers`, ["10.1.1.7"]);
  setPath(p, `${ISO_SET}.allowedNetworks.egress`, ["0.0.0.0/0", "::/0"]);
  setPath(
    p,
    "spec.providerConfig.metalControlPlanes.prod.partitions.fra-equ01.networkIsolation",
    clone(
      (
        p as never as {
          spec: {
            providerConfig: {
              metalControlPlanes: { prod: { partitions: Record<string, { networkIsolation: unknown }> } };
            };
          };
        }
      ).spec.providerConfig.metalControlPlanes.prod.partitions["fra-equ02"]?.networkIsolation,
    ),
  );
  t.deepEqual(validate(p, old).errors, []);
});

test("profiles of other providers are not checked", (t) => {
  const p = cloudProfile();
  setPath(p, "spec.type", "aws");
  setPath(p, PC, { anything: true });
  t.true(validate(p).allowed);
});

test("a NamespacedCloudProfile's partitions are zones of its parent; without a config it passes", (t) => {
  const parent = cloudProfile();
  const config = (parent.spec as JsonObject).providerConfig as JsonObject;
  const namespaced = {
    apiVersion: "core.gardener.cloud/v1beta1",
    kind: "NamespacedCloudProfile",
    metadata: { name: "metal-extra", namespace: "garden-proj" },
    spec: { parent: { kind: "CloudProfile", name: "metal" }, providerConfig: clone(config) },
  };
  t.deepEqual(validate(namespaced, undefined, parent).errors, []);
  setPath(namespaced, "spec.providerConfig.metalControlPlanes.prod.partitions.nowhere", {
    firewallTypes: [],
  });
  t.deepEqual(
    validate(namespaced, undefined, parent).errors.map((e) => e.field),
    [`${MCP}.partitions[nowhere]`],
  );
  setPath(namespaced, "spec.providerConfig", undefined);
  t.true(validate(namespaced, undefined, parent).allowed);
});

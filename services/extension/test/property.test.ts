// Properties over random Shoots: valid ones pass and default idempotently; a mutation of one field fails
// naming exactly that field.

import { isDeepStrictEqual } from "node:util";
import test from "ava";
import fc from "fast-check";
import { createAdmission } from "../src/admission.js";
import type { JsonObject } from "../src/gardener/json.js";
import { applyPatch, type PatchOperation } from "../src/json-patch.js";
import { bytes, clone, cloudProfile, controlPlaneConfig, PROVIDER_API, worker } from "./fixtures/objects.js";

const admission = createAdmission();
const PROFILE = bytes(cloudProfile());
const IC = "spec.provider.infrastructureConfig";

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,14}[a-z0-9]$/);
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join("."));
const ipv6 = fc
  .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
  .map((p) => p.map((x) => x.toString(16)).join(":"));

/** A Shoot the rules must accept: every value drawn from what the fixture profile offers. */
const validShoot = fc
  .record({
    name,
    tenant: name,
    networks: fc.uniqueArray(name, { minLength: 1, maxLength: 4 }),
    partition: fc.constantFrom(
      { id: "fra-equ01", sizes: ["c1-large-x86", "n1-medium-x86"] },
      { id: "fra-equ02", sizes: ["n1-medium-x86"] },
    ),
    sizeIndex: fc.nat(),
    image: fc.option(
      fc.constantFrom(
        "firewall-ubuntu-2.0.20231101",
        "firewall-ubuntu-3.0.20240601",
        "firewall-ubuntu-3.0.20240101",
      ),
      { nil: undefined },
    ),
    controllerVersion: fc.constantFrom("", "auto", "v2.3.4", "v2.3.5", "v2.2.0"),
    rate: fc.nat(10_000),
    egressIps: fc.array(fc.oneof(ipv4, ipv6), { minLength: 1, maxLength: 3 }),
    workers: fc.array(
      fc.record({
        image: fc.constantFrom(
          ["ubuntu", "24.4.20240901"],
          ["ubuntu", "22.4.20240801"],
          ["debian", "12.0.20240801"],
        ),
        min: fc.nat(3),
      }),
      { minLength: 0, maxLength: 10 },
    ),
    access: fc.constantFrom("baseline", "restricted", "forbidden", undefined),
    logAccepted: fc.boolean(),
    networking: fc.option(fc.constantFrom("calico", "cilium"), { nil: undefined }),
  })
  .map((v): JsonObject => {
    const isolated = v.partition.id === "fra-equ02";
    const cp = controlPlaneConfig();
    cp.cloudControllerManager = { defaultExternalNetwork: v.networks[0] };
    cp.networkAccessType = isolated ? v.access : v.access === undefined ? undefined : "baseline";
    if (cp.networkAccessType === undefined) delete cp.networkAccessType;
    return {
      apiVersion: "core.gardener.cloud/v1beta1",
      kind: "Shoot",
      metadata: {
        name: v.name,
        namespace: "garden-proj",
        annotations: { "cluster.metal-stack.io/tenant": v.tenant },
      },
      spec: {
        cloudProfileName: "metal",
        region: "fra",
        kubernetes: { version: "1.31.4" },
        ...(v.networking ? { networking: { type: v.networking } } : {}),
        provider: {
          type: "metal",
          infrastructureConfig: {
            apiVersion: PROVIDER_API,
            kind: "InfrastructureConfig",
            firewall: {
              size: v.partition.sizes[v.sizeIndex % v.partition.sizes.length],
              ...(v.image ? { image: v.image } : { image: "firewall-ubuntu-3.0.20240101" }),
              networks: v.networks,
              rateLimits: [{ networkID: v.networks[0], rateLimit: v.rate }],
              egressRules: [{ networkID: v.networks.at(-1), ips: v.egressIps }],
              logAcceptedConnections: v.logAccepted,
              controllerVersion: v.controllerVersion,
            },
            partitionID: v.partition.id,
            projectID: "p",
          },
          controlPlaneConfig: cp,
          workers: v.workers.map((w, i) =>
            worker(`w${i}`, {
              minimum: w.min,
              machine: { type: "c1-large-x86", image: { name: w.image[0], version: w.image[1] } },
            }),
          ),
        },
      },
    };
  });

const validate = (s: JsonObject) =>
  admission.validateShoot({
    shoot: bytes(s),
    oldShoot: Buffer.alloc(0),
    cloudProfile: PROFILE,
    parentCloudProfile: Buffer.alloc(0),
  });

test("random valid Shoots pass", (t) => {
  fc.assert(
    fc.property(validShoot, (s) => {
      const r = validate(s);
      if (!r.allowed) throw new Error(r.message);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test("random valid Shoots default idempotently, the patch giving the defaulted Shoot, and stay valid", (t) => {
  fc.assert(
    fc.property(validShoot, (s) => {
      const once = admission.defaultShoot({
        shoot: bytes(s),
        cloudProfile: PROFILE,
        parentCloudProfile: Buffer.alloc(0),
      });
      const defaulted = JSON.parse(once.shoot.toString()) as JsonObject;
      const patched = applyPatch(s, JSON.parse(once.patch.toString()) as PatchOperation[]);
      if (!isDeepStrictEqual(patched, defaulted)) throw new Error("patch does not give the defaulted Shoot");
      const twice = admission.defaultShoot({
        shoot: once.shoot,
        cloudProfile: PROFILE,
        parentCloudProfile: Buffer.alloc(0),
      });
      if (twice.fieldsSet.length > 0 || twice.patch.toString() !== "[]")
        throw new Error(`second pass set ${twice.fieldsSet.join(", ")}`);
      const r = validate(defaulted);
      if (!r.allowed) throw new Error(`defaulted Shoot refused: ${r.message}`);
    }),
    { numRuns: 200 },
  );
  t.pass();
});

type Mutation = { field: string; apply: (s: JsonObject) => void };
const get = (s: JsonObject, path: string): Record<string, unknown> =>
  path
    .split(".")
    .reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, s as Record<string, unknown>);
const fw = (s: JsonObject) => get(s, `${IC}.firewall`);

/** One bad field at a time, with the path the refusal must name. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  name
    .filter((x) => !["c1-large-x86", "n1-medium-x86"].includes(x))
    .map((size) => ({
      field: `${IC}.firewall.size`,
      apply: (s: JsonObject) => {
        fw(s).size = size;
      },
    })),
  name.map((img) => ({
    field: `${IC}.firewall.image`,
    apply: (s: JsonObject) => {
      fw(s).image = `fw-${img}-9.9`;
    },
  })),
  name.map((key) => ({
    field: `${IC}.firewall.x${key}`,
    apply: (s: JsonObject) => {
      fw(s)[`x${key}`] = true;
    },
  })),
  name.map((key) => ({
    field: `${IC}.x${key}`,
    apply: (s: JsonObject) => {
      get(s, IC)[`x${key}`] = 1;
    },
  })),
  fc
    .string({ minLength: 1, maxLength: 8 })
    .filter((x) => !/^[0-9a-f:.%]+$/i.test(x))
    .map((bad) => ({
      field: `${IC}.firewall.egressRules[0].ips[0]`,
      apply: (s: JsonObject) => {
        (fw(s).egressRules as Array<{ ips: string[] }>)[0]!.ips[0] = bad;
      },
    })),
  name.map((net) => ({
    field: `${IC}.firewall.rateLimits[0].networkID`,
    apply: (s: JsonObject) => {
      (fw(s).rateLimits as Array<{ networkID: string }>)[0]!.networkID = `not-${net}`;
    },
  })),
  fc.constantFrom("nbg-w8101", "muc-1").map((p) => ({
    field: `${IC}.partitionID`,
    apply: (s: JsonObject) => {
      get(s, IC).partitionID = p;
    },
  })),
  fc.constant({
    field: `${IC}.projectID`,
    apply: (s: JsonObject) => {
      get(s, IC).projectID = "";
    },
  }),
  fc.constant({
    field: "metadata.annotations[cluster.metal-stack.io/tenant]",
    apply: (s: JsonObject) => {
      (s.metadata as JsonObject).annotations = {};
    },
  }),
  fc.constantFrom(-1, 1.5, 2 ** 32).map((v) => ({
    field: `${IC}.firewall.rateLimits[0].rateLimit`,
    apply: (s: JsonObject) => {
      (fw(s).rateLimits as Array<{ rateLimit: number }>)[0]!.rateLimit = v;
    },
  })),
  fc.constantFrom("v9.9.9", "latest").map((v) => ({
    field: `${IC}.firewall.controllerVersion`,
    apply: (s: JsonObject) => {
      fw(s).controllerVersion = v;
    },
  })),
  fc.constant({
    field: "spec.provider.controlPlaneConfig.networkAccessType",
    apply: (s: JsonObject) => {
      get(s, "spec.provider.controlPlaneConfig").networkAccessType = "open";
    },
  }),
);

test("a random mutation of one field fails naming that field", (t) => {
  fc.assert(
    fc.property(validShoot, mutation, (s, m) => {
      const bad = clone(s);
      m.apply(bad);
      const r = validate(bad);
      const fields = [...new Set(r.errors.map((e) => e.field))];
      if (r.allowed || fields.length !== 1 || fields[0] !== m.field)
        throw new Error(`want only ${m.field}, got ${r.message || "allowed"}`);
    }),
    { numRuns: 400 },
  );
  t.pass();
});

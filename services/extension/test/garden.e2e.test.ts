// The garden webhooks for real: gardener-apiserver (built from the pinned Gardener module) as an
// aggregated API of the test bed, with its ExtensionLabels plugin labelling metal objects; our webhook
// configurations registered in kube-apiserver, pointing at the adapter's HTTPS address on loopback; the
// adapter authenticated as deploy/extension's ServiceAccount with exactly its RBAC.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { type GardenTestbed, startGardenTestbed } from "@metal-kube/e2e";
import { createEventSubscriber } from "@metal-kube/events";
import { createKubeClient, type KubeClient, type KubeObject, type ResourceRef } from "@metal-kube/kube";
import { freePort, waitFor } from "@metal-kube/testing";
import test from "ava";
import { gardenWebhookConfigurations } from "../src/adapter/webhook-configurations.js";
import { cloudProfile, secret, setPath, shoot } from "./fixtures/objects.js";
import {
  type Adapter,
  type ExtensionService,
  makeWebhookTls,
  postReview,
  review,
  startAdapter,
  startExtensionService,
  type WebhookTls,
} from "./harness.js";

const DEPLOY_DIR = join(import.meta.dirname, "../../../deploy/extension");
const RBAC_FILES = readdirSync(DEPLOY_DIR)
  .filter((f) => /^(00|10|20)-.*\.yaml$/.test(f))
  .map((f) => join(DEPLOY_DIR, f));
const NS = "garden-proj";
const IC = "spec.provider.infrastructureConfig";

const core = (plural: string, kind: string, namespaced = true): ResourceRef => ({
  group: "core.gardener.cloud",
  version: "v1beta1",
  plural,
  kind,
  namespaced,
});
const SHOOTS = core("shoots", "Shoot");
const CLOUD_PROFILES = core("cloudprofiles", "CloudProfile", false);
const SECRETS: ResourceRef = { group: "", version: "v1", plural: "secrets", kind: "Secret" };

let garden: GardenTestbed;
let service: ExtensionService;
let adapter: Adapter;
let tls: WebhookTls;
let kube: KubeClient;

test.before(async () => {
  garden = await startGardenTestbed({ nats: true });
  const bed = garden.bed;
  service = await startExtensionService({ NATS_URL: bed.natsUrl as string });
  tls = await makeWebhookTls();
  await bed.apply(RBAC_FILES);
  const saKubeconfig = await bed.serviceAccountKubeconfig({
    namespace: "metal-kube-system",
    name: "gardener-extension-metal",
    manifests: RBAC_FILES,
  });
  adapter = await startAdapter(tls, {
    EXTENSION_ADDRESS: service.address,
    KUBECONFIG: saKubeconfig,
    WEBHOOKS: "garden",
  });
  // The committed garden configurations are accepted by the apiserver, then pointed at the loopback adapter.
  await bed.apply(join(DEPLOY_DIR, "40-webhooks-garden.yaml"));
  await bed.apply(
    gardenWebhookConfigurations({ url: `https://${adapter.webhookAddress}`, caBundle: tls.caPem }) as never,
  );
  // What a garden has besides our extension: the other extensions' registrations (Gardener refuses a
  // Shoot whose types nobody registered), a project with its namespace, credentials and their binding.
  await bed.apply([
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
    ...[
      [
        "provider-metal",
        [
          ["ControlPlane", "metal"],
          ["Infrastructure", "metal"],
          ["Worker", "metal"],
        ],
      ],
      ["networking-calico", [["Network", "calico"]]],
      ["os-ubuntu", [["OperatingSystemConfig", "ubuntu"]]],
    ].map(
      ([name, res]) =>
        ({
          apiVersion: "core.gardener.cloud/v1beta1",
          kind: "ControllerRegistration",
          metadata: { name: name as string },
          spec: { resources: (res as string[][]).map(([kind, type]) => ({ kind, type })) },
        }) as never,
    ),
    {
      apiVersion: "core.gardener.cloud/v1beta1",
      kind: "Project",
      metadata: { name: "proj" },
      spec: { namespace: NS },
    } as never,
    secret({ metalAPIHMac: "hmac-key" }) as never,
    {
      apiVersion: "core.gardener.cloud/v1beta1",
      kind: "SecretBinding",
      metadata: { name: "metal-credentials", namespace: NS },
      secretRef: { name: "metal-credentials", namespace: NS },
      provider: { type: "metal" },
    } as never,
  ]);
  kube = createKubeClient({ kubeconfigPath: bed.kubeconfigPath });
  // Through the webhook: our validator judges the profile before Gardener stores it.
  await kube.resource(CLOUD_PROFILES).create(cloudProfile() as KubeObject);
});

test.after.always(async () => {
  await adapter?.proc.stop();
  await service?.proc.stop();
  await kube?.close();
  await garden?.stop();
});

/** The apiserver's refusal message, or "" when the call succeeded. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "";
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function newShoot(name: string): KubeObject {
  const s = shoot(2);
  setPath(s, "metadata.name", name);
  setPath(s, "metadata.labels", {});
  // What our defaults fill in: left out.
  setPath(s, `${IC}.firewall.image`, undefined);
  setPath(s, `${IC}.firewall.size`, undefined);
  return s as KubeObject;
}

test.serial("a good Shoot is stored with our defaults", async (t) => {
  const created = await kube.resource(SHOOTS).create(newShoot("good"));
  const stored = (await kube
    .resource(SHOOTS)
    .get({ namespace: NS, name: created.metadata?.name ?? "" })) as KubeObject & {
    spec: Record<string, unknown>;
  };
  const s = stored as unknown as Record<string, unknown>;
  const at = (...keys: string[]) =>
    keys.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], s);
  t.is(
    at("metadata", "labels", "provider.extensions.gardener.cloud/metal"),
    "true",
    "ExtensionLabels labelled the Shoot",
  );
  t.is(at("spec", "provider", "infrastructureConfig", "firewall", "image"), "firewall-ubuntu-3.0.20240601");
  t.is(at("spec", "provider", "infrastructureConfig", "firewall", "size"), "c1-large-x86");
  t.is(at("spec", "kubernetes", "kubelet", "maxPods"), 250);
  t.is(at("spec", "networking", "pods"), "10.240.0.0/13");
  t.is(at("spec", "networking", "services"), "10.248.0.0/18");
  t.like(at("spec", "networking", "providerConfig") as object, {
    apiVersion: "calico.networking.extensions.gardener.cloud/v1alpha1",
    kind: "NetworkConfig",
    backend: "none",
    ipv4: { mode: "Never" },
  });
  // Gardener defaults nodeCIDRMaskSize itself (24) before any webhook runs: ours never overrides it.
  t.is(at("spec", "kubernetes", "kubeControllerManager", "nodeCIDRMaskSize"), 24);
});

test.serial("a Shoot with a bad firewall size is refused with our message", async (t) => {
  const s = newShoot("bad-size");
  setPath(s as never, `${IC}.firewall.size`, "s1-tiny-x86");
  const msg = await refusal(kube.resource(SHOOTS).create(s));
  t.regex(
    msg,
    /admission webhook "validator\.admission-metal\.extensions\.gardener\.cloud" denied the request/,
  );
  t.regex(
    msg,
    /spec\.provider\.infrastructureConfig\.firewall\.size: Unsupported value: "s1-tiny-x86": supported values: "c1-large-x86", "n1-medium-x86"/,
  );
});

test.serial("changing partitionID on update is refused", async (t) => {
  const shoots = kube.resource(SHOOTS);
  await shoots.create(newShoot("move"));
  const current = (await shoots.get({ namespace: NS, name: "move" })) as unknown as Record<string, unknown>;
  setPath(current as never, `${IC}.partitionID`, "fra-equ02");
  setPath(current as never, `${IC}.firewall.size`, "n1-medium-x86");
  const msg = await refusal(shoots.replace(current as KubeObject));
  t.regex(
    msg,
    /spec\.provider\.infrastructureConfig\.partitionID: Invalid value: "fra-equ02": field is immutable/,
  );
  const after = (await shoots.get({ namespace: NS, name: "move" })) as unknown as Record<
    string,
    Record<string, Record<string, Record<string, unknown>>>
  >;
  t.is(after.spec?.provider?.infrastructureConfig?.partitionID, "fra-equ01");
});

test.serial("a Secret with both keys is refused", async (t) => {
  const both = secret({ metalAPIKey: "token", metalAPIHMac: "hmac" });
  setPath(both, "metadata.name", "both-keys");
  const msg = await refusal(kube.resource(SECRETS).create(both as KubeObject));
  t.regex(
    msg,
    /admission webhook "secrets\.validator\.admission-metal\.extensions\.gardener\.cloud" denied the request: data: Forbidden: either metalAPIHMac or metalAPIKey must be set, not both/,
  );
  const one = secret({ metalAPIKey: "token" });
  setPath(one, "metadata.name", "one-key");
  t.is(await refusal(kube.resource(SECRETS).create(one as KubeObject)), "");
});

test.serial("a CloudProfile with four DNS servers is refused", async (t) => {
  const p = cloudProfile();
  setPath(p, "metadata.name", "metal-bad");
  setPath(p, "spec.providerConfig.metalControlPlanes.prod.partitions.fra-equ02.networkIsolation.dnsServers", [
    "1.1.1.1",
    "1.0.0.1",
    "8.8.8.8",
    "9.9.9.9",
  ]);
  const msg = await refusal(kube.resource(CLOUD_PROFILES).create(p as KubeObject));
  t.regex(
    msg,
    /spec\.providerConfig\.metalControlPlanes\[prod\]\.partitions\[fra-equ02\]\.networkIsolation\.dnsServers: Invalid value: .*only up to 3 dns servers are allowed/,
  );
});

test.serial("the service announced the refusals and the defaults", async (t) => {
  const sub = createEventSubscriber({
    natsUrl: garden.bed.natsUrl as string,
    subject: "metal.extension.admission.>",
    deliver: "all",
  });
  const seen: Array<{ type: string; data: Record<string, unknown> }> = [];
  const done = (async () => {
    for await (const e of sub) {
      seen.push({ type: e.type, data: e.data as Record<string, unknown> });
      if (
        seen.some((s) => s.type.endsWith("denied") && s.data.kind === "Secret") &&
        seen.some((s) => s.type.endsWith("defaulted"))
      )
        break;
    }
  })();
  await waitFor("events", () => done.then(() => true), { timeoutMs: 30_000 }).finally(() => sub.close());
  const denied = seen.find((s) => s.type.endsWith("denied") && s.data.kind === "Shoot");
  t.truthy(denied, JSON.stringify(seen.map((s) => s.type)));
  t.like(denied?.data ?? {}, { kind: "Shoot", namespace: NS, name: "bad-size", operation: "create" });
  t.deepEqual(
    ((denied?.data.fields ?? []) as Array<{ field: string }>).map((f) => f.field),
    [`${IC}.firewall.size`],
  );
  const defaulted = seen.find((s) => s.type.endsWith("defaulted") && s.data.name === "good");
  t.true(((defaulted?.data.fields ?? []) as string[]).includes(`${IC}.firewall.image`));
});

test.serial(
  "AdmissionReview bodies over HTTPS: each garden path answers as the apiserver expects",
  async (t) => {
    const post = (path: string, body: unknown) => postReview(adapter.webhookAddress, tls.caPem, path, body);
    const shootKind = { group: "core.gardener.cloud", version: "v1beta1", kind: "Shoot" };
    const good = shoot(1);
    const ok = await post(
      "/webhooks/validate",
      review({
        kind: shootKind,
        resource: "shoots",
        operation: "CREATE",
        object: good,
        namespace: NS,
        name: "dev",
      }),
    );
    t.is(ok.status, 200);
    t.true(ok.response?.allowed);

    const bad = shoot(1);
    setPath(bad, "spec.provider.workers.0.zones", ["fra-equ01"]);
    const refused = await post(
      "/webhooks/validate",
      review({ kind: shootKind, resource: "shoots", operation: "CREATE", object: bad, namespace: NS }),
    );
    t.false(refused.response?.allowed);
    t.is(refused.response?.status?.code, 422);
    t.deepEqual(refused.response?.status?.details?.causes, [
      {
        type: "FieldValueForbidden",
        field: "spec.provider.workers[0].zones",
        message: "zone spreading is not supported, specify partition via infrastructure config",
      },
    ]);

    const toDefault = shoot(1);
    setPath(toDefault, `${IC}.firewall.size`, undefined);
    const mutated = await post(
      "/webhooks/mutate",
      review({ kind: shootKind, resource: "shoots", operation: "CREATE", object: toDefault, namespace: NS }),
    );
    t.true(mutated.response?.allowed);
    t.is(mutated.response?.patchType, "JSONPatch");
    const patch = JSON.parse(Buffer.from(mutated.response?.patch ?? "", "base64").toString()) as Array<{
      op: string;
      path: string;
      value: unknown;
    }>;
    t.deepEqual(
      patch.find((p) => p.path === "/spec/provider/infrastructureConfig/firewall/size"),
      {
        op: "add",
        path: "/spec/provider/infrastructureConfig/firewall/size",
        value: "c1-large-x86",
      },
    );

    const secretKind = { group: "", version: "v1", kind: "Secret" };
    const none = await post(
      "/webhooks/validate/secrets",
      review({
        kind: secretKind,
        resource: "secrets",
        operation: "CREATE",
        object: secret({ other: "x" }),
        namespace: NS,
      }),
    );
    t.is(
      none.response?.status?.message,
      "data: Required value: either metalAPIHMac or metalAPIKey must be set",
    );

    const unknownProfile = shoot(1);
    setPath(unknownProfile, "spec.cloudProfileName", "nope");
    const missing = await post(
      "/webhooks/validate",
      review({
        kind: shootKind,
        resource: "shoots",
        operation: "CREATE",
        object: unknownProfile,
        namespace: NS,
      }),
    );
    t.false(missing.response?.allowed);
    t.regex(
      missing.response?.status?.message ?? "",
      /spec\.cloudProfileName: CloudProfile nope does not exist/,
    );

    const notJson = await post("/webhooks/validate", "{");
    t.is(notJson.status, 400);
    t.is(
      (
        await post(
          "/nowhere",
          review({ kind: shootKind, resource: "shoots", operation: "CREATE", object: good }),
        )
      ).status,
      404,
    );
  },
);

test.serial("a webhook that cannot reach the service refuses, naming why", async (t) => {
  const dead = `127.0.0.1:${await freePort()}`;
  const lonely = await startAdapter(tls, {
    EXTENSION_ADDRESS: dead,
    KUBECONFIG: garden.bed.kubeconfigPath,
    WEBHOOKS: "garden",
    EXTENSION_TIMEOUT: "1s",
  });
  try {
    const r = await postReview(
      lonely.webhookAddress,
      tls.caPem,
      "/webhooks/validate/secrets",
      review({
        kind: { group: "", version: "v1", kind: "Secret" },
        resource: "secrets",
        operation: "CREATE",
        object: secret({ metalAPIKey: "x" }),
        namespace: NS,
      }),
    );
    t.is(r.status, 200);
    t.false(r.response?.allowed);
    t.is(r.response?.status?.code, 503);
    t.regex(
      r.response?.status?.message ?? "",
      /^extension service unreachable \(ValidateCredentials: (UNAVAILABLE|DEADLINE_EXCEEDED)\)/,
    );
  } finally {
    await lonely.proc.stop();
  }
});

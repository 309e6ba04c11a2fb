// The seed's /controlplane webhook on the real test bed: our MutatingWebhookConfiguration in
// kube-apiserver points at the adapter's HTTPS address on loopback; the adapter runs as deploy/extension's
// ServiceAccount with its RBAC and reads the shoot's Cluster, Infrastructure and Secret when the service
// asks for them.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { startTestbed, type Testbed } from "@metal-kube/e2e";
import { createKubeClient, type KubeClient, type KubeObject, type ResourceRef } from "@metal-kube/kube";
import test from "ava";
import { seedWebhookConfigurations } from "../src/adapter/webhook-configurations.js";
import type { JsonObject } from "../src/gardener/json.js";
import { BRIDGE_CONTAINER, DRIVER_CONTAINER, MACHINE_DRIVER_ENDPOINT } from "../src/seed/mcm-sidecars.js";
import { setPath } from "./fixtures/objects.js";
import {
  cloudproviderSecret,
  cluster,
  infrastructure,
  kubeApiserverDeployment,
  kubeControllerManagerDeployment,
  mcmDeployment,
  operatingSystemConfig,
  SHOOT_NAMESPACE,
} from "./fixtures/seed.js";
import {
  type Adapter,
  type ExtensionService,
  makeWebhookTls,
  startAdapter,
  startExtensionService,
} from "./harness.js";

const DEPLOY_DIR = join(import.meta.dirname, "../../../deploy/extension");
const RBAC_FILES = readdirSync(DEPLOY_DIR)
  .filter((f) => /^(00|10|20)-.*\.yaml$/.test(f))
  .map((f) => join(DEPLOY_DIR, f));
const OTHER_NAMESPACE = "shoot--proj--aws";
const DEPLOYMENTS: ResourceRef = { group: "apps", version: "v1", plural: "deployments", kind: "Deployment" };
const INFRASTRUCTURES: ResourceRef = {
  group: "extensions.gardener.cloud",
  version: "v1alpha1",
  plural: "infrastructures",
  kind: "Infrastructure",
};
const OSCS: ResourceRef = {
  group: "extensions.gardener.cloud",
  version: "v1alpha1",
  plural: "operatingsystemconfigs",
  kind: "OperatingSystemConfig",
};

let bed: Testbed;
let service: ExtensionService;
let adapter: Adapter;
let kube: KubeClient;

test.before(async () => {
  bed = await startTestbed({ crds: ["clusters", "infrastructures", "operatingsystemconfigs"], nats: false });
  service = await startExtensionService();
  const tls = await makeWebhookTls();
  await bed.apply(RBAC_FILES);
  const saKubeconfig = await bed.serviceAccountKubeconfig({
    namespace: "metal-kube-system",
    name: "gardener-extension-metal",
    manifests: RBAC_FILES,
  });
  adapter = await startAdapter(tls, {
    EXTENSION_ADDRESS: service.address,
    KUBECONFIG: saKubeconfig,
    WEBHOOKS: "seed",
  });
  // Every deploy manifest must be accepted by the apiserver (the Deployment is validated, not run; the
  // committed seed configuration is then pointed at the loopback adapter under the same name).
  await bed.apply([join(DEPLOY_DIR, "30-deployment.yaml"), join(DEPLOY_DIR, "41-webhooks-seed.yaml")]);
  await bed.apply(
    seedWebhookConfigurations({ url: `https://${adapter.webhookAddress}`, caBundle: tls.caPem }) as never,
  );
  await bed.apply([
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: SHOOT_NAMESPACE, labels: { "shoot.gardener.cloud/provider": "metal" } },
    },
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: OTHER_NAMESPACE, labels: { "shoot.gardener.cloud/provider": "aws" } },
    },
    cluster() as never,
    cloudproviderSecret() as never,
  ]);
  kube = createKubeClient({ kubeconfigPath: bed.kubeconfigPath });
  const infra = await kube.resource(INFRASTRUCTURES).create(infrastructure() as KubeObject);
  await kube
    .resource(INFRASTRUCTURES)
    .patchStatus(
      { namespace: SHOOT_NAMESPACE, name: infra.metadata?.name ?? "" },
      { nodesCIDR: "10.250.0.0/22" },
    );
});

test.after.always(async () => {
  await adapter?.proc.stop();
  await service?.proc.stop();
  await kube?.close();
  await bed?.stop();
});

type Deployment = KubeObject & {
  spec: {
    template: {
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: { containers: JsonObject[]; volumes?: JsonObject[] };
    };
  };
};
const names = (d: Deployment) => d.spec.template.spec.containers.map((c) => c.name);

test.serial(
  "a machine-controller-manager in a metal shoot namespace gets our two sidecars, once",
  async (t) => {
    const deployments = kube.resource<Deployment>(DEPLOYMENTS);
    const created = await deployments.create(mcmDeployment() as Deployment);
    t.deepEqual(names(created), ["machine-controller-manager", BRIDGE_CONTAINER, DRIVER_CONTAINER]);
    const [, bridge, driver] = created.spec.template.spec.containers as [JsonObject, JsonObject, JsonObject];
    t.true((bridge.args as string[]).includes(`--namespace=${SHOOT_NAMESPACE}`));
    t.true((bridge.args as string[]).includes("--machine-health-timeout=10080m"));
    t.deepEqual(
      (bridge.env as JsonObject[]).find((e) => e.name === "MACHINE_DRIVER_ENDPOINT"),
      { name: "MACHINE_DRIVER_ENDPOINT", value: MACHINE_DRIVER_ENDPOINT },
    );
    t.deepEqual(
      (driver.env as JsonObject[]).find((e) => e.name === "GRPC_LISTEN"),
      { name: "GRPC_LISTEN", value: MACHINE_DRIVER_ENDPOINT },
    );
    const socketMounts = [bridge, driver].map(
      (c) => (c.volumeMounts as JsonObject[]).find((m) => m.mountPath === "/run/metal-kube")?.name,
    );
    t.deepEqual(socketMounts, ["metal-kube", "metal-kube"]);
    t.deepEqual(
      (created.spec.template.spec.volumes ?? []).map((v) => v.name),
      ["kubeconfig", "metal-kube", "machine-driver-outbox"],
    );

    // The gardenlet writes its Deployment again on every reconcile: without the sidecars, with them (a
    // replace of what is stored), and server-side applied. None of these adds them twice.
    const rv = created.metadata?.resourceVersion;
    const again = await deployments.replace({
      ...(mcmDeployment() as Deployment),
      metadata: { ...created.metadata },
    });
    t.deepEqual(names(again), ["machine-controller-manager", BRIDGE_CONTAINER, DRIVER_CONTAINER]);
    t.is(again.metadata?.generation, created.metadata?.generation, "re-applying changed nothing");
    const stored = await deployments.get({ namespace: SHOOT_NAMESPACE, name: "machine-controller-manager" });
    const same = await deployments.replace(stored);
    t.deepEqual(names(same), ["machine-controller-manager", BRIDGE_CONTAINER, DRIVER_CONTAINER]);
    const applied = (await bed.apply(mcmDeployment() as never)) as unknown as Deployment[];
    t.deepEqual(names(applied[0] as Deployment), [
      "machine-controller-manager",
      BRIDGE_CONTAINER,
      DRIVER_CONTAINER,
    ]);
    t.not(rv, undefined);
  },
);

test.serial("a Deployment in another provider's shoot namespace is untouched", async (t) => {
  const d = await kube.resource<Deployment>(DEPLOYMENTS).create(mcmDeployment(OTHER_NAMESPACE) as Deployment);
  t.deepEqual(names(d), ["machine-controller-manager"]);
  t.deepEqual(
    (d.spec.template.spec.volumes ?? []).map((v) => v.name),
    ["kubeconfig"],
  );
});

test.serial(
  "kube-apiserver loses the in-tree cloud provider and gets the node network and the credentials' checksum",
  async (t) => {
    const d = await kube.resource<Deployment>(DEPLOYMENTS).create(kubeApiserverDeployment() as Deployment);
    const [apiserver, vpn] = d.spec.template.spec.containers as [JsonObject, JsonObject];
    t.deepEqual(apiserver.args, [
      "--enable-admission-plugins=Priority,NamespaceLifecycle",
      "--secure-port=443",
      "--disable-admission-plugins=PersistentVolumeLabel",
    ]);
    t.deepEqual(
      (vpn.env as JsonObject[]).find((e) => e.name === "NODE_NETWORK"),
      { name: "NODE_NETWORK", value: "10.250.0.0/22" },
    );
    t.regex(d.spec.template.metadata.annotations?.["checksum/secret-cloudprovider"] ?? "", /^[0-9a-f]{64}$/);
  },
);

test.serial(
  "kube-controller-manager runs with the external cloud provider and may reach the networks",
  async (t) => {
    const d = await kube
      .resource<Deployment>(DEPLOYMENTS)
      .create(kubeControllerManagerDeployment() as Deployment);
    const [kcm] = d.spec.template.spec.containers as [JsonObject];
    t.deepEqual(kcm.command, [
      "/usr/local/bin/kube-controller-manager",
      "--cloud-provider=external",
      "--controllers=*",
    ]);
    t.like(d.spec.template.metadata.labels ?? {}, {
      "networking.gardener.cloud/to-public-networks": "allowed",
      "networking.gardener.cloud/to-private-networks": "allowed",
      "networking.gardener.cloud/to-blocked-cidrs": "allowed",
    });
  },
);

test.serial(
  "an OperatingSystemConfig of a restricted shoot gets the partition's network isolation",
  async (t) => {
    const oscs = kube.resource(OSCS);
    const osc = (await oscs.create(operatingSystemConfig() as KubeObject)) as unknown as JsonObject;
    const spec = osc.spec as JsonObject;
    t.deepEqual(spec.providerConfig, {
      apiVersion: "metal.provider.extensions.gardener.cloud/v1alpha1",
      kind: "ImageProviderConfig",
      networkIsolation: {
        allowedNetworks: { ingress: ["10.0.0.0/8"], egress: ["100.64.0.0/10", "2001:db8::/32"] },
        registryMirrors: [
          {
            name: "metal-stack registry",
            endpoint: "https://r.metal-stack.io",
            ip: "10.1.1.3",
            port: 443,
            mirrorOf: ["ghcr.io", "quay.io"],
          },
        ],
      },
    });
    const unit = (spec.units as JsonObject[])[0] as JsonObject;
    t.regex(
      String(unit.content),
      /--kubeconfig=\/var\/lib\/kubelet\/kubeconfig-real \\\n {4}--cloud-provider=external\nRestart=always/,
    );
    const file = (spec.files as JsonObject[])[0] as JsonObject;
    const config = Buffer.from(
      String(((file.content as JsonObject).inline as JsonObject).data),
      "base64",
    ).toString();
    t.false(config.includes("CSINodeInfo"));
    t.true(config.includes("RotateKubeletServerCertificate: true"));
  },
);

test.serial("a Deployment that is none of the control plane's passes unchanged", async (t) => {
  const d = mcmDeployment();
  setPath(d, "metadata.name", "grafana");
  const created = await kube.resource<Deployment>(DEPLOYMENTS).create(d as Deployment);
  t.deepEqual(names(created), ["machine-controller-manager"]);
});

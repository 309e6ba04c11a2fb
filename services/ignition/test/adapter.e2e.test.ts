// End to end on the test bed: a real kube-apiserver with Gardener's OSC CRD, the ignition service
// and its adapter as processes joined by a unix socket (as deploy/ignition runs them), the adapter
// authenticated as the ServiceAccount of deploy/ignition with exactly that RBAC.

import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { startTestbed, type Testbed } from "@metal-kube/e2e";
import {
  createKubeClient,
  isNotFound,
  type KubeClient,
  type KubeObject,
  type ResourceClient,
} from "@metal-kube/kube";
import { makeTempDir, type ServiceProcess, waitFor } from "@metal-kube/testing";
import test from "ava";
import { CHECKSUM_ANNOTATION, RESULT_SECRET_KEY } from "../src/adapter/actuator.js";
import { type OperatingSystemConfig, OSC_RESOURCE } from "../src/adapter/osc.js";
import { ignitionFiles, ignitionValidate } from "./helpers.js";
import { type IgnitionServer, startIgnitionAdapter, startIgnitionServer } from "./server-harness.js";

const DEPLOY_DIR = join(import.meta.dirname, "../../../deploy/ignition");
const deployFiles = readdirSync(DEPLOY_DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => join(DEPLOY_DIR, f));
const NS = "shoot--proj--e2e";

let bed: Testbed;
let kube: KubeClient;
let oscs: ResourceClient<OperatingSystemConfig>;
let secrets: ResourceClient<KubeObject>;
let server: IgnitionServer;
let adapter: ServiceProcess;
const socketDir = makeTempDir("ignition-pod-");

test.before(async () => {
  bed = await startTestbed({ crds: ["operatingsystemconfigs"], nats: false });
  // Every deploy manifest must be accepted by the apiserver (the Deployment is validated, not run).
  await bed.apply(deployFiles);
  const saKubeconfig = await bed.serviceAccountKubeconfig({
    namespace: "metal-kube-system",
    name: "ignition",
    manifests: deployFiles,
  });
  kube = createKubeClient({ kubeconfigPath: bed.kubeconfigPath });
  oscs = kube.resource<OperatingSystemConfig>(OSC_RESOURCE);
  secrets = kube.resource({ group: "", version: "v1", plural: "secrets", kind: "Secret" });
  await bed.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  server = await startIgnitionServer({ GRPC_LISTEN: `unix://${join(socketDir.path, "ignition.sock")}` });
  adapter = await startIgnitionAdapter({
    KUBECONFIG: saKubeconfig,
    IGNITION_ADDRESS: server.address,
    LEADER_ELECT: "true",
    LEADER_ELECTION_NAMESPACE: "metal-kube-system",
  });
});

test.after.always(async () => {
  await adapter?.stop();
  await server?.stop();
  socketDir.remove();
  await kube?.close();
  await bed?.stop();
});

const KUBELET_UNIT =
  "[Unit]\nDescription=kubelet\n\n[Service]\nExecStart=/opt/bin/kubelet\n\n[Install]\nWantedBy=multi-user.target\n";

function osc(
  name: string,
  type: string,
  purpose: string,
  extra: Partial<OperatingSystemConfig["spec"]> = {},
): OperatingSystemConfig {
  return {
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "OperatingSystemConfig",
    metadata: { name, namespace: NS },
    spec: {
      type,
      purpose,
      criConfig: { name: "containerd", cgroupDriver: "cgroupfs" },
      files: [
        {
          path: "/etc/kubernetes/config.yaml",
          permissions: 0o600,
          content: { inline: { encoding: "", data: "v: 1\n" } },
        },
        {
          path: "/var/lib/kubelet/token",
          permissions: 0o400,
          content: { secretRef: { name: "bootstrap", dataKey: "token" } },
        },
      ],
      units: [
        {
          name: "kubelet.service",
          enable: true,
          command: "start",
          content: KUBELET_UNIT,
          filePaths: ["/etc/kubernetes/config.yaml"],
        },
      ],
      providerConfig: {
        apiVersion: "metal.provider.extensions.gardener.cloud/v1alpha1",
        kind: "ImageProviderConfig",
        networkIsolation: {
          allowedNetworks: { ingress: [], egress: [] },
          dnsServers: ["10.0.0.53"],
          ntpServers: ["10.0.0.123"],
          registryMirrors: [
            {
              name: "m",
              endpoint: "https://mirror.internal",
              ip: "10.0.0.5",
              port: 443,
              mirrorOf: ["docker.io"],
            },
          ],
        },
      },
      ...extra,
    },
  };
}

const get = (name: string) => oscs.get({ namespace: NS, name });
const getSecret = async (name: string) => {
  try {
    return await secrets.get({ namespace: NS, name });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
};
const succeeded = (name: string, generation?: number) =>
  waitFor(
    `${name} reconciled`,
    async () => {
      const o = await get(name);
      const s = o.status;
      return s?.lastOperation?.state === "Succeeded" &&
        s.observedGeneration === (generation ?? o.metadata.generation)
        ? o
        : undefined;
    },
    { timeoutMs: 30_000 },
  );

test.serial(
  "an OSC with a secret-backed file becomes an owned Secret whose user data holds that file",
  async (t) => {
    await secrets.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "bootstrap", namespace: NS },
      data: { token: Buffer.from("bootstrap-token-abc").toString("base64") },
    } as KubeObject);
    // A foreign type first: it must stay untouched.
    await oscs.create(osc("flatcar-pool", "flatcar", "provision"));
    const created = await oscs.create(osc("pool-a", "ubuntu", "provision"));

    const done = await succeeded("pool-a");
    t.deepEqual(done.status?.cloudConfig, { secretRef: { name: "osc-result-pool-a", namespace: NS } });
    t.true(done.metadata.finalizers?.includes("extensions.gardener.cloud/operatingsystemconfigs"));
    t.deepEqual(
      done.status?.extensionUnits?.map((u) => u.name),
      ["containerd.service", "systemd-resolved.service", "systemd-timesyncd.service"],
    );
    t.true(
      done.status?.extensionFiles?.some((f) => f.path === "/etc/containerd/certs.d/docker.io/hosts.toml"),
    );

    const secret = await getSecret("osc-result-pool-a");
    t.truthy(secret);
    const userData = Buffer.from(secret?.data?.[RESULT_SECRET_KEY] ?? "", "base64");
    t.is(
      secret?.metadata.annotations?.[CHECKSUM_ANNOTATION],
      createHash("sha256").update(userData).digest("hex"),
    );
    t.like(secret?.metadata.ownerReferences?.[0], {
      kind: "OperatingSystemConfig",
      name: "pool-a",
      uid: created.metadata.uid,
      controller: true,
    });
    const v = await ignitionValidate(userData);
    t.true(v.ok, v.output);
    const files = ignitionFiles(JSON.parse(userData.toString()));
    t.is(files.get("/var/lib/kubelet/token")?.data.toString(), "bootstrap-token-abc");
    t.is(files.get("/var/lib/kubelet/token")?.mode, 0o400);
    t.is(files.get("/etc/kubernetes/config.yaml")?.data.toString(), "v: 1\n");
    t.regex(
      files.get("/etc/containerd/certs.d/docker.io/hosts.toml")?.data.toString() ?? "",
      /mirror\.internal/,
    );

    const foreign = await get("flatcar-pool");
    t.is(foreign.metadata.finalizers, undefined, "an OSC of another type gets no finalizer");
    t.is(foreign.status?.lastOperation, undefined);
  },
);

test.serial("changing the OSC rewrites the Secret; a reconcile without change does not", async (t) => {
  const before = await getSecret("osc-result-pool-a");
  const current = await get("pool-a");
  const files = current.spec.files ?? [];
  files[0] = {
    ...files[0],
    path: "/etc/kubernetes/config.yaml",
    content: { inline: { encoding: "b64", data: Buffer.from("v: 2\n").toString("base64") } },
  };
  const patched = await oscs.mergePatch({ namespace: NS, name: "pool-a" }, { spec: { files } });
  await succeeded("pool-a", patched.metadata.generation);
  const after = await waitFor("secret rewritten", async () => {
    const s = await getSecret("osc-result-pool-a");
    return s?.metadata.annotations?.[CHECKSUM_ANNOTATION] !==
      before?.metadata.annotations?.[CHECKSUM_ANNOTATION]
      ? s
      : undefined;
  });
  const userData = Buffer.from(after.data?.[RESULT_SECRET_KEY] ?? "", "base64");
  t.is(
    ignitionFiles(JSON.parse(userData.toString())).get("/etc/kubernetes/config.yaml")?.data.toString(),
    "v: 2\n",
  );

  // Gardener's operation annotation asks for a reconcile; the Secret must stay as it is.
  const renders = () =>
    adapter.logs().filter((l) => l.msg === "operating system config rendered" && l.key === `${NS}/pool-a`);
  // Logs are written in batches: wait for the line of the rewrite above before counting.
  await waitFor("the rewrite's log line", () => renders().some((l) => l.write === "updated"));
  const seen = renders().length;
  await oscs.mergePatch(
    { namespace: NS, name: "pool-a" },
    { metadata: { annotations: { "gardener.cloud/operation": "reconcile" } } },
  );
  const next = await waitFor("the annotated reconcile", () => renders()[seen]);
  t.is(next.write, "unchanged");
  t.is(
    (await get("pool-a")).metadata.annotations?.["gardener.cloud/operation"],
    undefined,
    "annotation taken up",
  );
  t.is((await getSecret("osc-result-pool-a"))?.metadata.resourceVersion, after.metadata.resourceVersion);
});

test.serial("a reconcile OSC gets extension files and units in its status and no Secret", async (t) => {
  const created = await oscs.create(
    osc("pool-a-reconcile", "debian", "reconcile", {
      files: [
        { path: "/etc/kubernetes/config.yaml", content: { inline: { encoding: "", data: "v: 1\n" } } },
        // Neither resolvable into user data nor needed for reconcile: accepted as is.
        {
          path: "/opt/bin/tool",
          content: { imageRef: { image: "registry.example/tool:v1", filePathInImage: "/tool" } },
        },
        { path: "/var/lib/unresolved", content: { secretRef: { name: "does-not-exist", dataKey: "x" } } },
      ],
    }),
  );
  const done = await succeeded("pool-a-reconcile", created.metadata.generation);
  t.is(done.status?.cloudConfig, undefined);
  t.deepEqual(
    done.status?.extensionFiles?.map((f) => f.path),
    [
      "/etc/containerd/certs.d/docker.io/hosts.toml",
      "/etc/containerd/config.toml",
      "/etc/resolv.conf",
      "/etc/systemd/resolved.conf.d/metal-dns.conf",
      "/etc/systemd/timesyncd.conf",
    ],
  );
  t.deepEqual(done.status?.extensionFiles?.[1]?.content, {
    inline: {
      encoding: "",
      data: done.status?.extensionFiles?.[1]?.content.inline?.data ?? "",
    },
  });
  t.regex(
    done.status?.extensionFiles?.[1]?.content.inline?.data ?? "",
    /config_path = "\/etc\/containerd\/certs\.d"/,
  );
  t.is(await getSecret("osc-result-pool-a-reconcile"), undefined);
});

test.serial("a bad OSC reports an Error naming the unit, and heals once fixed", async (t) => {
  const bad = osc("pool-bad", "ubuntu", "provision", { units: [{ name: "kubelet", content: KUBELET_UNIT }] });
  await oscs.create(bad);
  const failed = await waitFor(
    "error status",
    async () => {
      const o = await get("pool-bad");
      return o.status?.lastOperation?.state === "Error" ? o : undefined;
    },
    { timeoutMs: 30_000 },
  );
  t.regex(
    failed.status?.lastOperation?.description ?? "",
    /units\[0\] \(kubelet\): name must end in a unit type suffix/,
  );
  const fixed = await oscs.mergePatch(
    { namespace: NS, name: "pool-bad" },
    { spec: { units: [{ name: "kubelet.service", content: KUBELET_UNIT }] } },
  );
  await succeeded("pool-bad", fixed.metadata.generation);
  t.truthy(await getSecret("osc-result-pool-bad"));
});

test.serial("deleting the OSC removes its Secret and the finalizer", async (t) => {
  await oscs.delete({ namespace: NS, name: "pool-a" });
  await waitFor(
    "OSC gone",
    async () => {
      try {
        await get("pool-a");
        return false;
      } catch (err) {
        return isNotFound(err);
      }
    },
    { timeoutMs: 30_000 },
  );
  t.is(await getSecret("osc-result-pool-a"), undefined);
});

test.serial(
  "the adapter's RBAC is least privilege: it cannot list Secrets or touch other kinds",
  async (t) => {
    // The minted ServiceAccount runs the adapter; its own permission check passed at start. Check the
    // edges through SelfSubjectAccessReviews as that ServiceAccount.
    const sa = createKubeClient({
      kubeconfigPath: await bed.serviceAccountKubeconfig({
        namespace: "metal-kube-system",
        name: "ignition",
        manifests: deployFiles,
      }),
    });
    t.teardown(() => sa.close());
    const can = async (verb: string, group: string, resource: string, namespace?: string) => {
      const review = await sa.transport.request<{ status: { allowed: boolean } }>({
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectAccessReview",
          spec: { resourceAttributes: { verb, group, resource, namespace } },
        },
        target: { verb: "create", group: "authorization.k8s.io", resource: "selfsubjectaccessreviews" },
      });
      return review.status.allowed;
    };
    t.true(await can("watch", "extensions.gardener.cloud", "operatingsystemconfigs"));
    t.true(await can("create", "", "secrets", NS));
    t.false(await can("list", "", "secrets", NS));
    t.false(await can("watch", "", "secrets"));
    t.false(await can("delete", "extensions.gardener.cloud", "operatingsystemconfigs", NS));
    t.false(await can("get", "", "configmaps", NS));
    t.false(
      await can("create", "coordination.k8s.io", "leases", "default"),
      "leases only in its own namespace",
    );
  },
);

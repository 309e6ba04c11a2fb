import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  VersionApi,
  Watch,
} from "@kubernetes/client-node";
import { makeTempDir, spawnProcess, waitFor } from "@metal-kube/testing";
import test from "ava";
import { connect } from "nats";
import {
  ALL_CRDS,
  CRD_SOURCES,
  ensureGrpcurl,
  GRPCURL_VERSION,
  KUBERNETES_VERSION,
  loadCrd,
  loadKubeConfig,
  startTestbed,
  type Testbed,
} from "../src/index.js";

// One bed for the file; the tests run one after another because some restart its apiserver.
let bed: Testbed;

test.before(async () => {
  bed = await startTestbed({ crds: ALL_CRDS });
});
test.after.always(async () => {
  await bed?.stop();
});

const code = (err: unknown) => (err as { code?: number }).code;
/** The Status message of a client-node ApiException (its body is the JSON text). */
const statusMessage = (err: unknown): string => {
  const body = (err as { body?: unknown }).body;
  try {
    return (JSON.parse(String(body)) as { message?: string }).message ?? String(body);
  } catch {
    return String(body);
  }
};
const alive = (pid: number | undefined) => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** Command lines of running processes that mention `needle`. */
const processesMentioning = (needle: string) =>
  execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes(needle) && !l.includes("ps -eo"));

test.serial(
  "the bed serves the pinned kube-apiserver, with authentication, admission and NATS",
  async (t) => {
    const kc = bed.kubeConfig();
    const version = await kc.makeApiClient(VersionApi).getCode();
    t.is(version.gitVersion, KUBERNETES_VERSION);

    // Admission: NamespaceLifecycle refuses objects in a namespace that does not exist.
    const core = kc.makeApiClient(CoreV1Api);
    const err = await t.throwsAsync(
      core.createNamespacedConfigMap({
        namespace: "no-such-namespace",
        body: { metadata: { name: "x" }, data: { a: "b" } },
      }),
    );
    t.is(code(err), 404);
    t.regex(statusMessage(err), /namespaces "no-such-namespace" not found/);

    // NATS with JetStream.
    t.truthy(bed.natsUrl);
    const nc = await connect({ servers: bed.natsUrl as string });
    try {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.getAccountInfo();
      t.true(info.limits !== undefined);
    } finally {
      await nc.close();
    }
  },
);

test.serial("a request without a client certificate or token is refused with 401", async (t) => {
  // Anonymous auth is off: no credentials is 401, not an empty list or a 403.
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest(`${bed.server}/api/v1/namespaces`, { ca: bed.caPem }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
  t.is(status, 401);
});

test.serial("every upstream CRD is Established and enforces its schema", async (t) => {
  const kc = bed.kubeConfig();
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  for (const name of ALL_CRDS) {
    const want = await loadCrd(name);
    const crd = await ext.readCustomResourceDefinition({ name: want.metadata?.name as string });
    t.true(
      crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True"),
      `${crd.metadata?.name} Established`,
    );
  }
  t.deepEqual(
    (await loadCrd("machines")).spec.group,
    "machine.sapcloud.io",
    "MCM CRDs come from the MCM module",
  );
  t.true(CRD_SOURCES.clusterwidenetworkpolicies.file.startsWith("config/crd/"));

  // Objects of the installed kinds can be created, and bad ones are refused by the upstream schema.
  const custom = kc.makeApiClient(CustomObjectsApi);
  await bed.apply(`
apiVersion: v1
kind: Namespace
metadata: {name: crd-test}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: crd-test}
spec:
  addresses: ["127.0.0.200/32"]
---
apiVersion: machine.sapcloud.io/v1alpha1
kind: MachineClass
metadata: {name: small, namespace: crd-test}
providerSpec: {size: c1-xlarge-x86}
provider: metal
`);
  const pool = (await custom.getNamespacedCustomObject({
    group: "metallb.io",
    version: "v1beta1",
    namespace: "crd-test",
    plural: "ipaddresspools",
    name: "pool",
  })) as { spec: { addresses: string[] } };
  t.deepEqual(pool.spec.addresses, ["127.0.0.200/32"]);

  const bad = await t.throwsAsync(
    bed.apply({
      apiVersion: "metallb.io/v1beta1",
      kind: "IPAddressPool",
      metadata: { name: "bad", namespace: "crd-test" },
      spec: { addresses: "not-a-list" },
    } as never),
  );
  t.regex(bad.message, /spec\.addresses/);

  await bed.apply({
    apiVersion: "metal-stack.io/v1",
    kind: "ClusterwideNetworkPolicy",
    metadata: { name: "allow-dns", namespace: "firewall" },
    spec: { egress: [{ to: [{ cidr: "127.0.0.53/32" }], ports: [{ protocol: "UDP", port: 53 }] }] },
  } as never);
  const cwnp = (await custom.getNamespacedCustomObject({
    group: "metal-stack.io",
    version: "v1",
    namespace: "firewall",
    plural: "clusterwidenetworkpolicies",
    name: "allow-dns",
  })) as { spec: { egress: unknown[] } };
  t.is(cwnp.spec.egress.length, 1);
});

async function listConfigMaps(kc: KubeConfig, namespace: string) {
  return kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace });
}

test.serial("a minted ServiceAccount has exactly the rules it was given", async (t) => {
  const path = await bed.serviceAccountKubeconfig({
    namespace: "rbac-a",
    name: "reader",
    rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }],
  });
  const sa = loadKubeConfig(path);
  t.is(sa.getCurrentUser()?.name, "system:serviceaccount:rbac-a:reader");
  t.true(readFileSync(path, "utf8").includes('"token"'));

  const listed = await listConfigMaps(sa, "rbac-a");
  t.true(Array.isArray(listed.items));

  const core = sa.makeApiClient(CoreV1Api);
  const create = await t.throwsAsync(
    core.createNamespacedConfigMap({ namespace: "rbac-a", body: { metadata: { name: "nope" } } }),
  );
  t.is(code(create), 403);
  t.regex(statusMessage(create), /cannot create resource "configmaps"/);

  const secrets = await t.throwsAsync(core.listNamespacedSecret({ namespace: "rbac-a" }));
  t.is(code(secrets), 403);
  const otherNs = await t.throwsAsync(listConfigMaps(sa, "default"));
  t.is(code(otherNs), 403);
});

test.serial("a ServiceAccount minted from a deploy manifest gets what the manifest grants", async (t) => {
  const dir = makeTempDir("e2e-rbac-");
  try {
    const manifest = join(dir.path, "rbac.yaml");
    writeFileSync(
      manifest,
      `apiVersion: v1
kind: ServiceAccount
metadata: {name: mcm-adapter, namespace: adapters}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: mcm-adapter}
rules:
- apiGroups: [machine.sapcloud.io]
  resources: [machines]
  verbs: [get, list, watch]
- apiGroups: [machine.sapcloud.io]
  resources: [machines/status]
  verbs: [update, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: mcm-adapter}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: mcm-adapter}
subjects:
- {kind: ServiceAccount, name: mcm-adapter, namespace: adapters}
`,
    );
    const sa = loadKubeConfig(
      await bed.serviceAccountKubeconfig({ namespace: "adapters", name: "mcm-adapter", manifests: manifest }),
    );
    const custom = sa.makeApiClient(CustomObjectsApi);
    const machines = { group: "machine.sapcloud.io", version: "v1alpha1", plural: "machines" };
    const all = (await custom.listClusterCustomObject(machines)) as { items: unknown[] };
    t.true(Array.isArray(all.items));
    const del = await t.throwsAsync(
      custom.deleteNamespacedCustomObject({ ...machines, namespace: "adapters", name: "m1" }),
    );
    t.is(code(del), 403);
    t.regex(statusMessage(del), /cannot delete resource "machines" in API group "machine\.sapcloud\.io"/);
    const cm = await t.throwsAsync(listConfigMaps(sa, "adapters"));
    t.is(code(cm), 403);
  } finally {
    dir.remove();
  }
});

test.serial("grpcurl is built from its pinned module", async (t) => {
  const { path } = await ensureGrpcurl();
  // grpcurl prints its version on stderr.
  const r = spawnSync(path, ["-version"], { encoding: "utf8" });
  t.is(r.status, 0);
  const out = `${r.stdout}${r.stderr}`;
  // It names itself by argv[0] (the cached file is grpcurl-<version>), then the version.
  t.is(out.trim().split(" ").at(-1), GRPCURL_VERSION);
});

test.serial("restartApiserver: a new process on the same URL, data kept, clients carry on", async (t) => {
  const kc = bed.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({
    namespace: "default",
    body: { metadata: { name: "before-restart" }, data: { n: "1" } },
  });
  const pidBefore = bed.apiserverPid();

  // A watch open across the restart is ended by it; that is what informers must survive.
  const watchEnded = new Promise<unknown>((resolve) => {
    void new Watch(kc).watch(
      "/api/v1/namespaces/default/configmaps",
      {},
      () => {},
      (err) => resolve(err ?? "closed"),
    );
  });
  await bed.restartApiserver({ kill: true });
  t.truthy(await watchEnded);
  t.not(bed.apiserverPid(), pidBefore);
  t.false(alive(pidBefore));

  const cm = await core.readNamespacedConfigMap({ namespace: "default", name: "before-restart" });
  t.is(cm.data?.n, "1");
});

test.serial(
  "changes made through a second apiserver while the main one is down are seen after",
  async (t) => {
    const core = bed.kubeConfig().makeApiClient(CoreV1Api);
    const list = await core.listNamespacedConfigMap({ namespace: "default" });
    const rv = list.metadata?.resourceVersion as string;

    const extra = await bed.addApiserver();
    try {
      await bed.stopApiserver();
      try {
        await t.throwsAsync(core.listNamespacedConfigMap({ namespace: "default" }), { any: true });
        const other = loadKubeConfig(extra.kubeconfigPath).makeApiClient(CoreV1Api);
        await other.createNamespacedConfigMap({
          namespace: "default",
          body: { metadata: { name: "during-outage" }, data: { n: "2" } },
        });
      } finally {
        await bed.startApiserver();
      }
    } finally {
      await extra.stop();
    }

    // A watch resumed from the resourceVersion seen before the outage replays the change.
    const kc = bed.kubeConfig();
    const seen = await new Promise<string>((resolve, reject) => {
      let req: { abort(): void } | undefined;
      const timer = setTimeout(() => reject(new Error("no event within 10 s")), 10_000);
      void new Watch(kc)
        .watch(
          "/api/v1/namespaces/default/configmaps",
          { resourceVersion: rv },
          (type, obj: { metadata?: { name?: string } }) => {
            if (type === "ADDED" && obj.metadata?.name === "during-outage") {
              clearTimeout(timer);
              req?.abort();
              resolve(obj.metadata.name);
            }
          },
          () => {},
        )
        .then((r) => {
          req = r;
        }, reject);
    });
    t.is(seen, "during-outage");
  },
);

test.serial("compactEtcd makes an older resourceVersion answer 410 Gone", async (t) => {
  const kc = bed.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const rv = (await core.listNamespacedConfigMap({ namespace: "default" })).metadata
    ?.resourceVersion as string;
  for (let i = 0; i < 3; i++)
    await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { name: `churn-${i}` } },
    });
  const compacted = await bed.compactEtcd();
  t.true(compacted > Number(rv));
  t.is(await bed.etcdRevision(), compacted);

  const outcome = await new Promise<string>((resolve) => {
    void new Watch(kc).watch(
      "/api/v1/namespaces/default/configmaps",
      { resourceVersion: rv },
      (type, obj: { code?: number }) => {
        if (type === "ERROR") resolve(`ERROR ${obj.code}`);
      },
      (err) => resolve(`done ${String(err)}`),
    );
  });
  t.regex(outcome, /410/);
});

test.serial("stop() ends every process and removes every dir, also after a failed start", async (t) => {
  const base = makeTempDir("e2e-stop-");
  try {
    const small = await startTestbed({ baseDir: base.path });
    const pids = small.pids();
    const natsStore = small.nats?.storeDir as string;
    t.true(alive(pids.apiserver) && alive(pids.etcd));
    t.true(processesMentioning(natsStore).length > 0);
    t.true(existsSync(small.dir));
    await small.stop();
    t.false(alive(pids.apiserver));
    t.false(alive(pids.etcd));
    t.deepEqual(processesMentioning(natsStore), []);
    t.false(existsSync(small.dir));
    t.false(existsSync(natsStore));
    await small.stop(); // twice is fine

    // An apiserver that cannot start: the error names it, and etcd, NATS and the dir are gone.
    const failed = await t.throwsAsync(
      startTestbed({ baseDir: base.path, apiserverArgs: ["--no-such-flag"] }),
    );
    t.regex(failed.message, /kube-apiserver exited/);
    t.regex(failed.message, /no-such-flag/);
    t.deepEqual(readdirSync(base.path), []);
    t.deepEqual(processesMentioning(base.path), []);
  } finally {
    base.remove();
  }
});

test.serial(
  "a test process killed with SIGKILL takes etcd and kube-apiserver with it; the next start sweeps its dir",
  async (t) => {
    const base = makeTempDir("e2e-kill-");
    try {
      const child = spawnProcess(process.execPath, [
        "--import",
        "tsx",
        join(import.meta.dirname, "fixtures", "bed-then-wait.ts"),
        base.path,
      ]);
      const dir = await waitFor(
        "the child's test bed",
        () => {
          if (child.child.exitCode !== null) throw new Error(`child exited: ${child.output()}`);
          return /^ready (\S+)$/m.exec(child.output())?.[1];
        },
        { timeoutMs: 90_000, intervalMs: 100 },
      );
      t.true(processesMentioning(dir).length >= 2);
      await child.kill();
      await waitFor(
        "etcd and kube-apiserver to die with their parent",
        () => processesMentioning(dir).length === 0,
        {
          timeoutMs: 10_000,
        },
      );
      t.true(existsSync(dir), "nobody was left to remove the dir");
      const next = await startTestbed({ baseDir: base.path, nats: false });
      await next.stop();
      t.false(existsSync(dir), "the next start removed the dead owner's dir");
    } finally {
      base.remove();
    }
  },
);

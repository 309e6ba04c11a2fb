// The adapter end to end: the test bed's kube-apiserver plays shoot (namespace firewall, CWNPs and
// Services) and seed (namespace shoot--e2e--fw, the Firewall), each reached with its own kubeconfig of a
// ServiceAccount holding exactly deploy/firewall's RBAC. The service applies into the test's `fw`
// namespace; packets between `cluster` and `outside` show what each change does.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startTestbed, type Testbed } from "@metal-kube/e2e";
import { createKubeClient, type KubeClient, type KubeObject, type ResourceClient } from "@metal-kube/kube";
import { makeTempDir, waitFor } from "@metal-kube/testing";
import test from "ava";
import { CONTROLLER_VERSION } from "../src/adapter/config.js";
import { CHECKSUM_ANNOTATION } from "../src/adapter/monitor.js";
import {
  CWNP_RESOURCE,
  type CwnpObject,
  FIREWALL_RESOURCE,
  type FirewallObject,
  MONITOR_RESOURCE,
  type MonitorObject,
  SERVICE_RESOURCE,
  type ServiceObject,
} from "../src/adapter/resources.js";
import { ADDR, createTopology, EXTERNAL_VRF, PRIVATE_VRF, type Topology } from "./netns.js";
import {
  ADAPTER_MAIN,
  type FirewallProcess,
  type RunningProcess,
  startFirewallService,
  startProcess,
} from "./service-process.js";

const DEPLOY = join(import.meta.dirname, "../../../deploy/firewall");
const SEED_NS = "shoot--e2e--fw";
const FW_NAME = "shoot--e2e--fw-firewall-abcde";

let bed: Testbed;
let topo: Topology;
let svc: FirewallProcess;
let adapter: RunningProcess;
let admin: KubeClient;
let cwnps: ResourceClient<CwnpObject>;
let monitors: ResourceClient<MonitorObject>;
let firewalls: ResourceClient<FirewallObject>;
let services: ResourceClient<ServiceObject>;
const dir = makeTempDir("fw-e2e-");

const connect = (from: "cluster" | "outside", host: string, port: number, localAddress?: string) =>
  topo.agents[from].call({ op: "connect", host, port, localAddress, timeoutMs: 1000 }).then((r) => r.ok);
/** What passes now, polled until it matches (a change takes effect within one reconcile). */
const until = <T>(what: string, check: () => Promise<T>) =>
  waitFor(what, check, { timeoutMs: 30_000, intervalMs: 200 });

const cwnp = (
  name: string,
  ports: number[],
  cidr = "198.51.100.0/24",
  except: string[] = [],
): CwnpObject => ({
  apiVersion: "metal-stack.io/v1",
  kind: "ClusterwideNetworkPolicy",
  metadata: { namespace: "firewall", name },
  spec: { egress: [{ to: [{ cidr, except }], ports: ports.map((port) => ({ protocol: "TCP", port })) }] },
});

test.before(async () => {
  bed = await startTestbed({
    crds: ["clusterwidenetworkpolicies", "firewallmonitors", "firewalls"],
    nats: false,
  });
  topo = await createTopology();
  for (const port of [80, 443, 8080]) await topo.agents.outside.call({ op: "listen", proto: "tcp", port });
  await topo.agents.cluster.call({ op: "listen", proto: "tcp", port: 8443 });
  admin = createKubeClient({ kubeconfigPath: bed.kubeconfigPath });
  cwnps = admin.resource(CWNP_RESOURCE);
  monitors = admin.resource(MONITOR_RESOURCE);
  firewalls = admin.resource(FIREWALL_RESOURCE);
  services = admin.resource(SERVICE_RESOURCE);
  // The deploy RBAC, applied as the operator would: shoot side as is, seed side into the seed namespace.
  const shootRbac = readFileSync(join(DEPLOY, "shoot-rbac.yaml"), "utf8");
  const seedRbac = readFileSync(join(DEPLOY, "seed-rbac.yaml"), "utf8").replaceAll(
    "shoot--project--cluster",
    SEED_NS,
  );
  await bed.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: SEED_NS } });
  const shootKubeconfig = await bed.serviceAccountKubeconfig({
    namespace: "firewall",
    name: "metal-kube-firewall",
    manifests: shootRbac,
  });
  const seedKubeconfig = await bed.serviceAccountKubeconfig({
    namespace: SEED_NS,
    name: "metal-kube-firewall",
    manifests: seedRbac,
  });

  // What the firewall-controller-manager makes: the Firewall (seed) and its FirewallMonitor (shoot).
  await firewalls.create({
    apiVersion: "firewall.metal-stack.io/v2",
    kind: "Firewall",
    metadata: { namespace: SEED_NS, name: FW_NAME },
    distance: 0,
    spec: {
      image: "firewall-ubuntu-3.0",
      size: "n1-medium-x86",
      partition: "fra-equ01",
      project: "p1",
      networks: ["internet"],
      interval: "10s",
      internalPrefixes: ["10.0.0.0/8"],
      egressRules: [{ networkID: "internet", ips: [ADDR.snat4] }],
    },
  } as FirewallObject);
  await firewalls.patchStatus(
    { namespace: SEED_NS, name: FW_NAME },
    {
      conditions: [],
      phase: "Running",
      firewallNetworks: [
        {
          networkID: "cluster-net",
          networkType: "privateprimaryunshared",
          vrf: PRIVATE_VRF,
          asn: 4200000001,
          prefixes: ["10.0.0.0/24", "fd00:10::/64"],
          destinationPrefixes: [],
          ips: [ADDR.fwCluster4],
          nat: false,
        },
        {
          networkID: "internet",
          networkType: "external",
          vrf: EXTERNAL_VRF,
          asn: 4200000002,
          prefixes: ["185.1.2.0/24", "2001:db8:1::/64"],
          destinationPrefixes: ["0.0.0.0/0"],
          ips: [ADDR.fwOutside4],
          nat: true,
        },
      ],
    },
  );
  await monitors.create({
    apiVersion: "firewall.metal-stack.io/v2",
    kind: "FirewallMonitor",
    metadata: { namespace: "firewall", name: FW_NAME },
    conditions: [],
    image: "firewall-ubuntu-3.0",
    networks: ["internet"],
    partition: "fra-equ01",
    project: "p1",
    size: "n1-medium-x86",
  } as MonitorObject);

  // As deployed: the service on a unix socket, the adapter dialling it.
  const socket = `unix://${join(dir.path, "firewall.sock")}`;
  svc = await startFirewallService({
    GRPC_LISTEN: socket,
    FIREWALL_NETNS: topo.ns.fw,
    FIREWALL_STATE_DIR: join(dir.path, "state"),
  });
  adapter = startProcess(ADAPTER_MAIN, {
    SHOOT_KUBECONFIG: shootKubeconfig,
    SEED_KUBECONFIG: seedKubeconfig,
    SEED_NAMESPACE: SEED_NS,
    FIREWALL_NAME: FW_NAME,
    FIREWALL_ADDRESS: socket,
    ADAPTER_METRICS_LISTEN: "127.0.0.1:0",
  });
  await waitFor("adapter running", () => adapter.logs().find((l) => l.msg === "firewall adapter running"), {
    timeoutMs: 60_000,
  }).catch((err) => {
    throw new Error(`${String(err)}\n${adapter.output().slice(-3000)}`);
  });
  // The first reconcile puts a ruleset (with no policy yet) in place.
  await waitFor("a first ruleset", async () => (await svc.client.getStatus({ deep: false })).activeChecksum, {
    timeoutMs: 30_000,
  });
});

test.after.always(async () => {
  await adapter?.stop();
  svc?.client.close();
  await svc?.stop();
  await admin?.close();
  await topo?.remove();
  await bed?.stop();
  dir.remove();
});

test.serial(
  "creating, changing and deleting a CWNP changes what passes; its status is written",
  async (t) => {
    t.false(await connect("cluster", ADDR.remoteA4, 443), "nothing is allowed before a policy exists");
    await cwnps.create(cwnp("web", [443]));
    await until("443 passes", () => connect("cluster", ADDR.remoteA4, 443));
    t.false(await connect("cluster", ADDR.remoteA4, 80));
    await until(
      "status deployed",
      async () => (await cwnps.get({ namespace: "firewall", name: "web" })).status?.state === "deployed",
    );

    const current = await cwnps.get({ namespace: "firewall", name: "web" });
    await cwnps.replace({ ...current, spec: cwnp("web", [80]).spec });
    await until("80 passes", () => connect("cluster", ADDR.remoteA4, 80));
    t.false(await connect("cluster", ADDR.remoteA4, 443), "443 is closed again");

    await cwnps.delete({ namespace: "firewall", name: "web" });
    await until("80 is closed", async () => !(await connect("cluster", ADDR.remoteA4, 80)));
    t.pass();
  },
);

test.serial(
  "an invalid CWNP and one outside namespace firewall get status ignored with the reason; the others apply",
  async (t) => {
    await cwnps.create(cwnp("bad-except", [443], "198.51.100.0/24", ["10.0.0.0/8"]));
    await admin
      .resource({ group: "", version: "v1", plural: "namespaces", kind: "Namespace" })
      .create({ metadata: { name: "elsewhere" } } as KubeObject);
    await cwnps.create({
      ...cwnp("elsewhere", [443]),
      metadata: { namespace: "elsewhere", name: "elsewhere" },
    });
    await cwnps.create(cwnp("good", [8080], `${ADDR.outside4}/32`));
    await until("8080 passes", () => connect("cluster", ADDR.outside4, 8080));
    const status = async (ns: string, name: string) => (await cwnps.get({ namespace: ns, name })).status;
    await until(
      "statuses",
      async () =>
        (await status("firewall", "bad-except"))?.state === "ignored" &&
        (await status("elsewhere", "elsewhere"))?.state === "ignored",
    );
    t.deepEqual(await status("firewall", "bad-except"), {
      state: "ignored",
      message: "egress[0].to[0].except[0]: 10.0.0.0/8 is not inside 198.51.100.0/24",
    });
    t.is(
      (await status("elsewhere", "elsewhere"))?.message,
      'metadata.namespace: ClusterwideNetworkPolicies take effect only in namespace firewall, not "elsewhere"',
    );
    t.false(await connect("cluster", ADDR.remoteA4, 443), "the ignored policy opened nothing");
    const events = await admin
      .resource({ group: "", version: "v1", plural: "events", kind: "Event" })
      .list({ namespace: "firewall" });
    t.true(events.items.some((e) => e.reason === "Ignored" && e.involvedObject?.name === "bad-except"));
  },
);

test.serial("a LoadBalancer Service admits its source ranges through the firewall", async (t) => {
  await services.create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace: "default", name: "web-lb" },
    spec: {
      type: "LoadBalancer",
      loadBalancerIP: ADDR.lb4,
      loadBalancerSourceRanges: [`${ADDR.outsideAllowed4}/32`],
      ports: [{ protocol: "TCP", port: 8443 }],
    },
  } as ServiceObject);
  await until("the Service admits its range", () => connect("outside", ADDR.lb4, 8443, ADDR.outsideAllowed4));
  t.false(await connect("outside", ADDR.lb4, 8443, ADDR.outsideOther4));
});

test.serial(
  "the FirewallMonitor gets controllerStatus with lastRun, lastRunAgainstSeed, stats and our checksum",
  async (t) => {
    // Counters are read at each reconcile: wait for one after the Service's traffic.
    const mon = await until("controllerStatus with the Service's packets", async () => {
      const m = await monitors.get({ namespace: "firewall", name: FW_NAME });
      const accept = (
        m.controllerStatus?.stats as
          | { rules?: { accept?: Record<string, { counter: { packets: number } }> } }
          | undefined
      )?.rules?.accept;
      return m.controllerStatus?.lastRunAgainstSeed &&
        (accept?.["accept traffic for k8s service default/web-lb"]?.counter.packets ?? 0) > 0
        ? m
        : undefined;
    });
    const cs = mon.controllerStatus as {
      controllerVersion: string;
      lastRun: string;
      message: string;
      stats: {
        rules: { accept: Record<string, { counter: { packets: number } }> };
        devices: Record<string, { in: number; out: number }>;
      };
    };
    t.is(cs.controllerVersion, CONTROLLER_VERSION);
    const checksum = mon.metadata.annotations?.[CHECKSUM_ANNOTATION];
    t.regex(checksum ?? "", /^[0-9a-f]{64}$/);
    t.regex(
      cs.message,
      new RegExp(
        `^ruleset ${checksum} (applied|unchanged); \\d+ rules, \\d+ sets, \\d+ elements; policies: 1 deployed, 2 ignored$`,
      ),
    );
    t.deepEqual(Object.keys(cs.stats.devices).sort(), ["external", "internal"]);
    t.true(cs.stats.devices.external!.in > 0, "traffic from outside into the cluster counts as external in");
    // The Firewall's interval paces the reconciles, and a change takes effect without a restart.
    const fw = await firewalls.get({ namespace: SEED_NS, name: FW_NAME });
    await firewalls.replace({ ...fw, spec: { ...fw.spec, interval: "1s" } });
    const runs = new Set<string>();
    await until("lastRun advances every second", async () => {
      const m = await monitors.get({ namespace: "firewall", name: FW_NAME });
      runs.add(String(m.controllerStatus?.lastRun));
      return runs.size >= 4;
    });
    t.pass();
  },
);

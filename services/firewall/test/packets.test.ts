// Real packets through the agent's ruleset: cluster -> fw -> outside (and back), IPv4 and IPv6, with
// nft in network namespaces this test makes.
import { createLogger } from "@metal-kube/logging";
import { ApplyOutcome, type NetworkPolicy } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { makeTempDir } from "@metal-kube/testing";
import test from "ava";
import { createFirewallAgent, type FirewallAgent } from "../src/agent.js";
import { createApplier } from "../src/applier.js";
import { createNftRunner } from "../src/nft.js";
import { createRenderer } from "../src/renderer.js";
import { createStateStore } from "../src/state-store.js";
import { ADDR, createTopology, state, type Topology } from "./netns.js";

let topo: Topology;
let agent: FirewallAgent;
let dir: ReturnType<typeof makeTempDir>;

const policy = (name: string, p: Partial<NetworkPolicy>): NetworkPolicy => ({
  namespace: "firewall",
  name,
  ingress: [],
  egress: [],
  ...p,
});
const tcp = (port: string, endPort?: number) => ({ protocol: "TCP", port, endPort });
const udp = (port: string) => ({ protocol: "UDP", port, endPort: undefined });

const POLICIES: NetworkPolicy[] = [
  policy("web", {
    egress: [
      {
        to: [
          { cidr: "198.51.100.0/24", except: ["198.51.100.64/26"] },
          { cidr: "2001:db8:2::/64", except: ["2001:db8:2::80/125"] },
        ],
        toFqdns: [],
        ports: [tcp("443"), udp("53")],
      },
    ],
  }),
  // An empty ports list admits every port and protocol.
  policy("any-port", {
    egress: [
      {
        to: [
          { cidr: `${ADDR.outside4}/32`, except: [] },
          { cidr: `${ADDR.outside6}/128`, except: [] },
        ],
        toFqdns: [],
        ports: [],
      },
    ],
  }),
  // Ingress from anywhere on 443: with the reference's rule shape this also let the cluster out on 443.
  policy("public-https", { ingress: [{ from: [], ports: [tcp("443")] }] }),
  policy("flood", { ingress: [{ from: [{ cidr: "185.1.2.0/24", except: [] }], ports: [udp("9999")] }] }),
];

const SERVICE = {
  namespace: "default",
  name: "web-lb",
  ips: [ADDR.lb4, ADDR.lb6],
  ports: [{ protocol: "TCP", port: 8443 }],
  sourceRanges: [`${ADDR.outsideAllowed4}/32`, `${ADDR.outsideAllowed6}/128`],
};

const connect = (from: "cluster" | "outside", host: string, port: number, localAddress?: string) =>
  topo.agents[from].call({ op: "connect", host, port, localAddress, timeoutMs: 1500 });
const exchange = (from: "cluster" | "outside", host: string, port: number) =>
  topo.agents[from].call({ op: "udp", host, port, timeoutMs: 1500 });

async function counter(name: string): Promise<{ packets: number; bytes: number }> {
  const { stdout } = await topo.nft(["-j", "list", "counter", "inet", "firewall", name]);
  const c = (JSON.parse(stdout).nftables as Array<{ counter?: { packets: number; bytes: number } }>).find(
    (o) => o.counter,
  );
  return c!.counter!;
}

test.before(async () => {
  topo = await createTopology();
  dir = makeTempDir("fw-packets-");
  agent = createFirewallAgent({
    renderer: createRenderer(),
    applier: createApplier({
      nft: createNftRunner({ netns: topo.ns.fw }),
      table: "firewall",
      store: createStateStore(dir.path),
      logger: createLogger({ name: "test", level: "warn" }),
    }),
    logger: createLogger({ name: "test", level: "warn" }),
  });
  for (const port of [80, 443, 8080]) await topo.agents.outside.call({ op: "listen", proto: "tcp", port });
  const outsideAddresses = [
    ADDR.outside4,
    ADDR.outside6,
    ADDR.remoteA4,
    ADDR.remoteA6,
    ADDR.remoteB4,
    ADDR.remoteB6,
    ADDR.remoteExcept4,
    ADDR.remoteExcept6,
  ];
  for (const port of [53, 5353])
    await topo.agents.outside.call({ op: "listen", proto: "udp", port, addresses: outsideAddresses });
  for (const port of [443, 8443]) await topo.agents.cluster.call({ op: "listen", proto: "tcp", port });
  await topo.agents.cluster.call({ op: "listen", proto: "udp", port: 9999, silent: true });
  const res = await agent.apply({
    state: state(
      topo.firewall({
        egressRules: [{ networkId: "internet", ips: [ADDR.snat4, ADDR.snat6] }],
      }),
      { policies: POLICIES, services: [SERVICE] },
    ),
    dryRun: false,
    strict: true,
  });
  if (res.outcome !== ApplyOutcome.APPLY_OUTCOME_APPLIED)
    throw new Error(`apply: ${JSON.stringify(res.failure)}`);
});

test.after.always(async () => {
  await topo?.remove();
  dir?.remove();
});

test.serial(
  "egress to an allowed CIDR and port: TCP connect and UDP exchange pass (IPv4 and IPv6)",
  async (t) => {
    for (const r of [
      await connect("cluster", ADDR.remoteA4, 443),
      await exchange("cluster", ADDR.remoteA4, 53),
      await connect("cluster", ADDR.remoteA6, 443),
      await exchange("cluster", ADDR.remoteA6, 53),
    ])
      t.true(r.ok, JSON.stringify(r));
  },
);

test.serial(
  "another port, another CIDR and an except entry are dropped and counted in drop_total",
  async (t) => {
    const before = await counter("drop_total");
    for (const [host, port] of [
      [ADDR.remoteA4, 80],
      [ADDR.remoteB4, 443],
      [ADDR.remoteExcept4, 443],
      [ADDR.remoteA6, 80],
      [ADDR.remoteB6, 443],
      [ADDR.remoteExcept6, 443],
    ] as const) {
      const r = await connect("cluster", host, port);
      t.false(r.ok, `${host}:${port} must be dropped`);
    }
    t.false((await exchange("cluster", ADDR.remoteB4, 53)).ok);
    const after = await counter("drop_total");
    // Each refused connect retransmits its SYN at least once within the timeout.
    t.true(after.packets - before.packets >= 7, `drop_total grew by ${after.packets - before.packets}`);
  },
);

test.serial("an empty ports list admits every port and protocol", async (t) => {
  for (const port of [80, 443, 8080])
    t.true((await connect("cluster", ADDR.outside4, port)).ok, `tcp ${port}`);
  t.true((await exchange("cluster", ADDR.outside4, 5353)).ok);
  t.true((await connect("cluster", ADDR.outside6, 8080)).ok);
});

test.serial("a LoadBalancer Service admits its source ranges only, and only its port", async (t) => {
  t.true((await connect("outside", ADDR.lb4, 8443, ADDR.outsideAllowed4)).ok);
  t.false((await connect("outside", ADDR.lb4, 8443, ADDR.outsideOther4)).ok);
  t.true((await connect("outside", ADDR.lb6, 8443, ADDR.outsideAllowed6)).ok);
  t.false((await connect("outside", ADDR.lb6, 8443, ADDR.outsideOther6)).ok);
  // The Service's rule does not open the cluster host's other addresses.
  t.false((await connect("outside", ADDR.cluster4, 8443, ADDR.outsideAllowed4)).ok);
  const { counters } = await agent.counters();
  const svc = counters.find((c) => c.comment === "accept traffic for k8s service default/web-lb");
  t.truthy(svc);
  t.true(svc!.packets >= 2);
});

test.serial("an ingress rule admits traffic into the cluster and never opens cluster egress", async (t) => {
  t.true((await connect("outside", ADDR.cluster4, 443)).ok);
  t.true((await connect("outside", ADDR.cluster6, 443)).ok);
  t.false((await connect("cluster", ADDR.remoteB4, 443)).ok);
  t.false((await connect("cluster", ADDR.remoteB6, 443)).ok);
});

test.serial("SNAT rewrites the source of egress traffic to the configured IPs", async (t) => {
  const r4 = await connect("cluster", ADDR.outside4, 80);
  t.is(r4.greeting, `hello ${ADDR.snat4}`);
  const r6 = await connect("cluster", ADDR.outside6, 80);
  t.is(r6.greeting, `hello ${ADDR.snat6}`);
});

test.serial("the rate limit drops traffic above its rate and counts it in drop_ratelimit", async (t) => {
  const res = await agent.apply({
    state: state(
      topo.firewall({
        egressRules: [{ networkId: "internet", ips: [ADDR.snat4, ADDR.snat6] }],
        rateLimits: [{ networkId: "internet", rate: 1 }],
      }),
      { policies: POLICIES, services: [SERVICE] },
    ),
    dryRun: false,
    strict: true,
  });
  t.is(res.outcome, ApplyOutcome.APPLY_OUTCOME_APPLIED, JSON.stringify(res.failure));
  await topo.agents.cluster.call({ op: "count", port: 9999 });
  const flood = (await topo.agents.outside.call({
    op: "flood",
    host: ADDR.cluster4,
    port: 9999,
    count: 5000,
    size: 1200,
  })) as {
    ok: boolean;
    sent: number;
    seconds: number;
    bytes: number;
  };
  await new Promise((r) => setTimeout(r, 300));
  const got = (await topo.agents.cluster.call({ op: "count", port: 9999 })) as {
    ok: boolean;
    packets: number;
    bytes: number;
  };
  const limited = await counter("drop_ratelimit");
  t.true(limited.packets > 0, "drop_ratelimit counted nothing");
  // At most the rate over the flood's duration, plus a generous allowance for the token bucket.
  const allowance = 1024 * 1024 * (flood.seconds + 0.5) + 512 * 1024;
  t.true(
    got.bytes <= allowance,
    `received ${got.bytes} bytes in ${flood.seconds.toFixed(2)} s (allowance ${allowance})`,
  );
  t.true(got.packets > 0, "nothing got through: the limit must only cut what is above the rate");
  t.log(
    `flood: sent ${flood.sent} packets (${(flood.bytes / 1e6).toFixed(1)} MB) in ${flood.seconds.toFixed(2)} s; received ${got.packets}; drop_ratelimit ${limited.packets}`,
  );
});

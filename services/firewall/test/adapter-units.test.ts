// The adapter's translations without a cluster: Kubernetes objects to the desired state, the
// FirewallMonitor's controllerStatus, and Go durations.
import { ApplyOutcome, CounterKind, PolicyState } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import test from "ava";
import { desiredState, firewallOf, policyOf, serviceOf } from "../src/adapter/desired-state.js";
import { applyMessage, controllerStatus } from "../src/adapter/monitor.js";
import { parseGoDuration } from "../src/adapter/reconciler.js";

test("a CWNP becomes a policy as written: int-or-string ports, toFQDNs, nothing checked here", (t) => {
  t.deepEqual(
    policyOf({
      metadata: { namespace: "firewall", name: "p" },
      spec: {
        ingress: [
          {
            from: [{ cidr: "1.2.3.0/24" }],
            ports: [{ port: 443 }, { protocol: "UDP", port: "53", endPort: 60 }],
          },
        ],
        egress: [{ toFQDNs: [{ matchPattern: "*.example.com" }], ports: [{ protocol: "TCP" }] }, {}],
      },
    }),
    {
      namespace: "firewall",
      name: "p",
      ingress: [
        {
          from: [{ cidr: "1.2.3.0/24", except: [] }],
          ports: [
            { protocol: "", port: "443", endPort: undefined },
            { protocol: "UDP", port: "53", endPort: 60 },
          ],
        },
      ],
      egress: [
        {
          to: [],
          toFqdns: [{ matchName: "", matchPattern: "*.example.com" }],
          ports: [{ protocol: "TCP", port: "", endPort: undefined }],
        },
        { to: [], toFqdns: [], ports: [] },
      ],
    },
  );
});

test("only LoadBalancer Services count; their IPs come from spec and status, once each", (t) => {
  t.is(
    serviceOf({
      metadata: { namespace: "a", name: "b" },
      spec: { type: "ClusterIP", ports: [{ port: 80 }] },
    }),
    undefined,
  );
  t.deepEqual(
    serviceOf({
      metadata: { namespace: "a", name: "b" },
      spec: {
        type: "LoadBalancer",
        loadBalancerIP: "203.0.113.5",
        loadBalancerSourceRanges: ["192.0.2.0/24"],
        ports: [{ port: 443 }, { protocol: "UDP", port: 53 }],
      },
      status: { loadBalancer: { ingress: [{ ip: "203.0.113.5" }, { ip: "2001:db8::5" }, {}] } },
    }),
    {
      namespace: "a",
      name: "b",
      ips: ["203.0.113.5", "2001:db8::5"],
      ports: [
        { protocol: "", port: 443 },
        { protocol: "UDP", port: 53 },
      ],
      sourceRanges: ["192.0.2.0/24"],
    },
  );
});

test("the Firewall's spec and status.firewallNetworks become the Firewall part; extra cluster prefixes join", (t) => {
  const fw = firewallOf(
    {
      metadata: { namespace: "seed", name: "fw-1" },
      spec: {
        internalPrefixes: ["10.0.0.0/8"],
        rateLimits: [{ networkID: "internet", rate: 10 }],
        egressRules: [{ networkID: "internet", ips: ["185.1.2.5"] }],
        allowedNetworks: { egress: ["100.64.0.0/10"] },
        logAcceptedConnections: true,
      },
      status: {
        firewallNetworks: [
          {
            networkID: "internet",
            networkType: "external",
            vrf: 104009,
            prefixes: ["185.1.2.0/24"],
            ips: ["185.1.2.1"],
            nat: true,
            asn: 1,
            destinationPrefixes: ["0.0.0.0/0"],
          },
        ],
      },
    },
    ["10.244.0.0/16"],
  );
  t.like(fw, {
    name: "fw-1",
    internalPrefixes: ["10.0.0.0/8"],
    clusterPrefixes: ["10.244.0.0/16"],
    rateLimits: [{ networkId: "internet", rate: 10 }],
    egressRules: [{ networkId: "internet", ips: ["185.1.2.5"] }],
    allowedNetworks: { ingress: [], egress: ["100.64.0.0/10"] },
    logAcceptedConnections: true,
  });
  t.deepEqual(fw.networks[0], {
    networkId: "internet",
    networkType: "external",
    vrf: 104009,
    prefixes: ["185.1.2.0/24"],
    destinationPrefixes: ["0.0.0.0/0"],
    ips: ["185.1.2.1"],
    nat: true,
    asn: 1,
  });
  const state = desiredState(
    { metadata: { name: "fw" } },
    [{ metadata: { namespace: "firewall", name: "p" } }],
    [{ metadata: { name: "s" }, spec: { type: "NodePort" } }],
  );
  t.is(state.policies.length, 1);
  t.is(state.services.length, 0);
});

test("Go durations as the Firewall's spec.interval writes them", (t) => {
  t.is(parseGoDuration("10s"), 10_000);
  t.is(parseGoDuration("1m30s"), 90_000);
  t.is(parseGoDuration("500ms"), 500);
  t.is(parseGoDuration("1h"), 3_600_000);
  for (const bad of ["", "10", "ten seconds", "0s", "5s garbage"]) t.is(parseGoDuration(bad), undefined, bad);
});

test("controllerStatus: devices from the accounting counters, rules by comment with tcp and udp twins added", (t) => {
  const counter = (name: string, comment: string, kind: CounterKind, packets: number) => ({
    name,
    comment,
    kind,
    packets,
    bytes: packets * 100,
  });
  const apply = {
    outcome: ApplyOutcome.APPLY_OUTCOME_APPLIED,
    checksum: "c".repeat(64),
    activeChecksum: "c".repeat(64),
    summary: { rules: 10, chains: 5, sets: 11, elements: 3, counters: 9, setDetails: [] },
    policies: [
      { namespace: "firewall", name: "a", state: PolicyState.POLICY_STATE_DEPLOYED, message: "" },
      { namespace: "firewall", name: "b", state: PolicyState.POLICY_STATE_IGNORED, message: "x" },
    ],
    services: [],
    warnings: [],
    failure: undefined,
    durationMs: 5,
  };
  const cs = controllerStatus({
    controllerVersion: "v1",
    now: new Date("2026-12-03T08:00:00Z"),
    lastRunAgainstSeed: new Date("2026-12-03T07:59:59Z"),
    apply,
    counters: [
      counter("internal_in", "count internal in traffic", CounterKind.COUNTER_KIND_ACCOUNTING, 1),
      counter("external_out", "count external out traffic", CounterKind.COUNTER_KIND_ACCOUNTING, 7),
      counter("np_a_tcp", "accept traffic for np a", CounterKind.COUNTER_KIND_ACCEPT, 2),
      counter("np_a_udp", "accept traffic for np a", CounterKind.COUNTER_KIND_ACCEPT, 3),
      counter("drop_total", "dropped by policy", CounterKind.COUNTER_KIND_DROP, 4),
    ],
  });
  t.deepEqual(cs.stats, {
    rules: {
      accept: { "accept traffic for np a": { counter: { bytes: 500, packets: 5 } } },
      drop: { "dropped by policy": { counter: { bytes: 400, packets: 4 } } },
      other: {},
    },
    devices: { internal: { in: 100, out: 0 }, external: { in: 0, out: 700 } },
    idsStats: {},
  });
  t.like(cs, {
    controllerVersion: "v1",
    lastRun: "2026-12-03T08:00:00.000Z",
    lastRunAgainstSeed: "2026-12-03T07:59:59.000Z",
    distance: 0,
    distanceSupported: false,
  });
  t.is(
    applyMessage(apply),
    `ruleset ${"c".repeat(64)} applied; 10 rules, 11 sets, 3 elements; policies: 1 deployed, 1 ignored`,
  );
});

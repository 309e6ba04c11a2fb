import { createHash } from "node:crypto";
import { PolicyState, SetKind } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { Code, ServiceError } from "@metal-kube/service-kit";
import test from "ava";
import { createRenderer } from "../src/renderer.js";
import { egressPolicy, firewallSpec, ingressPolicy, lbService, port } from "./fixtures/spec.js";

const renderer = createRenderer();
const render = (...args: Parameters<typeof renderer.render>) => renderer.render(...args);
const results = (r: ReturnType<typeof render>) =>
  Object.fromEntries(
    r.policies.map((p) => [p.name, p.state === PolicyState.POLICY_STATE_DEPLOYED ? "deployed" : p.message]),
  );
const setElements = (r: ReturnType<typeof render>, name: string) => {
  const m = new RegExp(`\\t(?:set|map) ${name} \\{[\\s\\S]*?\\n\\t\\}`).exec(r.text);
  const body = m ? m[0] : "";
  const e = /elements = \{\n([\s\S]*?)\n\t\t\}/.exec(body);
  return e
    ? e[1]!
        .split(/,\s*\n?\s*/)
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
};

test("the same desired state gives the same bytes and checksum, whatever the input order", (t) => {
  const policies = [
    egressPolicy("b", [["1.2.3.0/24"]], [port("TCP", "443")]),
    egressPolicy("a", [["5.6.0.0/16", ["5.6.7.0/24"]]], [port("UDP", "53")]),
    ingressPolicy("c", ["0.0.0.0/0"], [port("TCP", "22")]),
  ];
  const services = [lbService("y", ["185.1.2.20"]), lbService("x", ["185.1.2.21"], ["192.0.2.0/24"])];
  const one = render({ firewall: firewallSpec(), policies, services });
  const two = render({
    firewall: firewallSpec(),
    policies: [...policies].reverse(),
    services: [...services].reverse(),
  });
  t.is(one.text, two.text);
  t.is(one.checksum, two.checksum);
  t.is(one.checksum, createHash("sha256").update(one.text.replace(one.checksum, "@CHECKSUM@")).digest("hex"));
  t.true(one.text.includes(`comment "sha256:${one.checksum}"`), "the marker set carries the checksum");
});

test("a reordering is a change: the checksum is over the bytes in order, not over sorted lines", (t) => {
  // Two egress rules of one policy in the other order: the same lines, in another order.
  const p = egressPolicy("p", [["1.2.3.0/24"]], [port("TCP", "443")]);
  const q = {
    ...p,
    egress: [
      ...p.egress,
      { to: [{ cidr: "1.2.3.0/24", except: [] }], toFqdns: [], ports: [port("UDP", "53")] },
    ],
  };
  const swapped = { ...q, egress: [q.egress[1]!, q.egress[0]!] };
  const a = render({ firewall: firewallSpec(), policies: [q], services: [] });
  const b = render({ firewall: firewallSpec(), policies: [swapped], services: [] });
  t.not(a.checksum, b.checksum);
  const sortedLines = (s: string) =>
    s
      .split("\n")
      .filter((l) => !l.includes("sha256:"))
      .map((l) => l.replace(/_e[01]_[0-9a-f]{8}/g, ""))
      .sort()
      .join("\n");
  t.is(
    sortedLines(a.text),
    sortedLines(b.text),
    "the reference's sorted-line checksum would call these equal",
  );
});

test("invalid policies are ignored with the field at fault; the others are rendered", (t) => {
  const r = render({
    firewall: firewallSpec(),
    policies: [
      egressPolicy("ok", [["1.2.3.0/24"]], [port("TCP", "443")]),
      egressPolicy("bad-cidr", [["1.2.3.0/33"]]),
      egressPolicy("bad-port", [["1.2.3.0/24"]], [port("TCP", "70000")]),
      egressPolicy("zero-port", [["1.2.3.0/24"]], [port("TCP", "0")]),
      egressPolicy("named-port", [["1.2.3.0/24"]], [port("TCP", "https")]),
      egressPolicy("reversed", [["1.2.3.0/24"]], [port("TCP", "443", 80)]),
      egressPolicy("end-no-port", [["1.2.3.0/24"]], [port("TCP", "", 80)]),
      egressPolicy("icmp", [["1.2.3.0/24"]], [port("ICMP", "1")]),
      egressPolicy("except-outside", [["10.0.0.0/16", ["10.1.0.0/16"]]]),
      egressPolicy("except-family", [["10.0.0.0/16", ["fd00::/64"]]]),
      egressPolicy("bad-except", [["10.0.0.0/16", ["10.0.0.1/99"]]]),
      egressPolicy("elsewhere", [["1.2.3.0/24"]], [], "default"),
      {
        namespace: "firewall",
        name: "to-and-fqdn",
        ingress: [],
        egress: [
          {
            to: [{ cidr: "1.2.3.0/24", except: [] }],
            toFqdns: [{ matchName: "example.com", matchPattern: "" }],
            ports: [],
          },
        ],
      },
    ],
    services: [],
  });
  t.deepEqual(results(r), {
    ok: "deployed",
    "bad-cidr": 'egress[0].to[0].cidr: "1.2.3.0/33" is not an IPv4 or IPv6 CIDR',
    "bad-port": "egress[0].ports[0].port: 70000 is not in 1-65535",
    "zero-port": "egress[0].ports[0].port: 0 is not in 1-65535",
    "named-port": 'egress[0].ports[0].port: "https" is not a port number (named ports are not supported)',
    reversed: "egress[0].ports[0].endPort: 80 is less than port 443",
    "end-no-port": "egress[0].ports[0].endPort: needs port",
    icmp: 'egress[0].ports[0].protocol: "ICMP" is not one of TCP, UDP, SCTP',
    "except-outside": "egress[0].to[0].except[0]: 10.1.0.0/16 is not inside 10.0.0.0/16",
    "except-family": "egress[0].to[0].except[0]: fd00::/64 is not inside 10.0.0.0/16",
    "bad-except": 'egress[0].to[0].except[0]: "10.0.0.1/99" is not an IPv4 or IPv6 CIDR',
    elsewhere:
      'metadata.namespace: ClusterwideNetworkPolicies take effect only in namespace firewall, not "default"',
    "to-and-fqdn": "egress[0]: to and toFQDNs exclude each other: split them into two rules",
  });
  t.deepEqual(setElements(r, "egress_v4"), [
    "1.2.3.0/24 : jump np_ok_e0_" + /np_ok_e0_([0-9a-f]{8})/.exec(r.text)![1],
  ]);
});

test("strict refuses the request with INVALID_ARGUMENT naming the policy and field", (t) => {
  const err = t.throws(
    () =>
      render(
        {
          firewall: firewallSpec(),
          policies: [
            egressPolicy("ok", [["1.2.3.0/24"]]),
            egressPolicy("bad", [["1.2.3.0/24"]], [port("TCP", "443", 80)]),
          ],
          services: [],
        },
        { strict: true },
      ),
    { instanceOf: ServiceError },
  );
  t.is(err?.code, Code.INVALID_ARGUMENT);
  t.is(err?.message, "state.policies[firewall/bad].egress[0].ports[0].endPort: 80 is less than port 443");
});

test("a malformed Firewall spec is INVALID_ARGUMENT naming the field; unknown networks are warnings", (t) => {
  const bad = (extra: Parameters<typeof firewallSpec>[0]) =>
    t.throws(() => render({ firewall: firewallSpec(extra), policies: [], services: [] }), {
      instanceOf: ServiceError,
    });
  t.is(
    bad({ internalPrefixes: ["10.0.0.0/8", "nope"] })?.message,
    'state.firewall.internalPrefixes[1]: "nope" is not an IPv4 or IPv6 prefix',
  );
  t.is(
    bad({ egressRules: [{ networkId: "internet", ips: ["185.1.2.5", "9.9.9.9"] }] })?.message,
    "state.firewall.egressRules[0].ips[1]: 9.9.9.9 is not in any prefix of network internet",
  );
  t.is(
    bad({ rateLimits: [{ networkId: "internet", rate: 0 }] })?.message,
    "state.firewall.rateLimits[0].rate: must be at least 1 (MiB/s)",
  );
  t.is(bad({ allowedNetworks: { ingress: ["x"], egress: [] } })?.code, Code.INVALID_ARGUMENT);
  const r = render({
    firewall: firewallSpec({
      rateLimits: [
        { networkId: "nowhere", rate: 10 },
        { networkId: "underlay", rate: 10 },
      ],
      egressRules: [{ networkId: "cluster-net", ips: ["10.0.0.9"] }],
    }),
    policies: [],
    services: [],
  });
  t.deepEqual(r.warnings, [
    'firewall.rateLimits[0]: network "nowhere" is not one of the machine\'s, left out',
    "firewall.rateLimits[1]: the underlay is never rate limited, left out",
    "firewall.egressRules[0]: network cluster-net is privateprimaryunshared, SNAT is only for external networks, left out",
  ]);
  t.false(r.text.includes("mbytes/second"));
  t.false(r.text.includes("chain postrouting"));
  t.is(t.throws(() => render(undefined))?.message, "state.firewall: is required");
});

test("empty to/from means any address of both families, empty ports every port and protocol", (t) => {
  const r = render({
    firewall: firewallSpec(),
    policies: [egressPolicy("out", []), ingressPolicy("in", [], [port("UDP", "")])],
    services: [],
  });
  t.deepEqual(
    setElements(r, "egress_v4").map((e) => e.split(" : ")[0]),
    ["0.0.0.0/0"],
  );
  t.deepEqual(
    setElements(r, "egress_v6").map((e) => e.split(" : ")[0]),
    ["::/0"],
  );
  t.deepEqual(
    setElements(r, "ingress_v6").map((e) => e.split(" : ")[0]),
    ["::/0"],
  );
  t.regex(
    r.text,
    /chain np_out_e0_[0-9a-f]{8} \{\n\t\tcounter name "np_out_e0_[0-9a-f]{8}" accept comment "accept traffic for np out"\n/,
  );
  t.regex(r.text, /\t\tmeta l4proto udp counter name "np_in_i0_[0-9a-f]{8}_udp" accept/);
});

test("ingress rules match the cluster's networks as destination; the cluster prefixes come from the networks", (t) => {
  const r = render({
    firewall: firewallSpec({ clusterPrefixes: ["10.244.0.0/16"] }),
    policies: [ingressPolicy("in", ["192.0.2.0/24"], [port("TCP", "443")])],
    services: [],
  });
  t.true(r.text.includes("\t\tip daddr @cluster_prefixes ip saddr vmap @ingress_v4\n"));
  t.true(r.text.includes("\t\tip6 daddr @cluster_prefixes_v6 ip6 saddr vmap @ingress_v6\n"));
  t.deepEqual(setElements(r, "cluster_prefixes"), ["10.0.0.0/22", "10.244.0.0/16"]);
  t.deepEqual(setElements(r, "cluster_prefixes_v6"), ["fd00:10::/64"]);
  t.false(r.text.includes("10.0.0.0/8 }"), "no hard-coded cluster prefix");
});

test("overlapping rules of several policies share a chain that tries each; except is per block", (t) => {
  const r = render({
    firewall: firewallSpec(),
    policies: [
      egressPolicy(
        "wide",
        [["198.51.100.0/24", ["198.51.100.128/25"]], ["203.0.113.0/24"]],
        [port("TCP", "443")],
      ),
      egressPolicy("narrow", [["198.51.100.0/26"]], [port("TCP", "80")]),
    ],
    services: [],
  });
  const els = setElements(r, "egress_v4");
  t.is(els.length, 3);
  t.regex(els[0]!, /^198\.51\.100\.0\/26 : jump mix_[0-9a-f]{16}$/);
  t.regex(els[1]!, /^198\.51\.100\.64\/26 : jump np_wide_e0_/);
  t.regex(
    els[2]!,
    /^203\.0\.113\.0\/24 : jump np_wide_e0_/,
    "the except of the first block does not touch the second",
  );
  t.regex(
    r.text,
    /chain mix_[0-9a-f]{16} \{\n\t\tjump np_narrow_e0_[0-9a-f]{8}\n\t\tjump np_wide_e0_[0-9a-f]{8}\n/,
  );
});

test("a Service admits its IPs and ports from its source ranges; IPs outside the allowed networks are left out", (t) => {
  const allowed = { ingress: ["185.1.2.0/24", "2001:db8:1::/64"], egress: [] };
  const r = render({
    firewall: firewallSpec({ allowedNetworks: allowed }),
    policies: [],
    services: [
      lbService(
        "mixed",
        ["185.1.2.20", "9.9.9.9", "2001:db8:1::20"],
        ["192.0.2.0/24", "2001:db8:9::/48"],
        [443, 80],
      ),
      lbService("outside", ["9.9.9.10"]),
      lbService("pending", []),
      lbService("bad-range", ["185.1.2.30"], ["nope"]),
    ],
  });
  t.deepEqual(
    r.services.map((s) => [
      s.name,
      s.state === PolicyState.POLICY_STATE_DEPLOYED ? "deployed" : "ignored",
      s.message,
    ]),
    [
      ["bad-range", "ignored", 'sourceRanges[0]: "nope" is not an IPv4 or IPv6 CIDR'],
      ["mixed", "deployed", "9.9.9.9 is outside the allowed ingress networks, left out"],
      ["outside", "ignored", "ips: 9.9.9.10 is outside the allowed ingress networks, left out"],
      ["pending", "ignored", "ips: no load balancer IP assigned yet"],
    ],
  );
  t.deepEqual(
    setElements(r, "services_v4").map((e) => e.split(" : ")[0]),
    ["185.1.2.20 . tcp . 80", "185.1.2.20 . tcp . 443"],
  );
  t.deepEqual(
    setElements(r, "services_v6").map((e) => e.split(" : ")[0]),
    ["2001:db8:1::20 . tcp . 80", "2001:db8:1::20 . tcp . 443"],
  );
  t.regex(
    r.text,
    /\t\tip saddr \{ 192\.0\.2\.0\/24 \} counter name "svc_default_mixed_[0-9a-f]{8}" accept comment "accept traffic for k8s service default\/mixed"\n/,
  );
  t.regex(r.text, /\t\tip6 saddr \{ 2001:db8:9::\/48 \} counter name "svc_default_mixed_/);
  t.false(r.text.includes("9.9.9.10"), "a Service with no allowed IP renders nothing");
});

test("in an isolated cluster a policy outside the allowed networks is ignored and an empty to means the allowed networks", (t) => {
  const r = render({
    firewall: firewallSpec({ allowedNetworks: { ingress: [], egress: ["100.64.0.0/10"] } }),
    policies: [
      egressPolicy("inside", [["100.64.1.0/24"]]),
      egressPolicy("outside", [["8.8.8.8/32"]]),
      egressPolicy("any", []),
    ],
    services: [],
  });
  t.is(
    results(r).outside,
    "egress[0].to[0].cidr: 8.8.8.8 is outside the allowed egress networks (100.64.0.0/10)",
  );
  const els = setElements(r, "egress_v4").map((e) => e.split(" : ")[0]);
  t.deepEqual(els, ["100.64.0.0/24", "100.64.1.0/24", "100.64.2.0-100.127.255.255"]);
  t.deepEqual(setElements(r, "egress_v6"), [], "no IPv6 is allowed, so any means none there");
});

test("toFQDNs selectors get named timeout sets per family, shared by policies with the same selector", (t) => {
  const fqdn = (name: string, sel: { matchName?: string; matchPattern?: string }) => ({
    namespace: "firewall",
    name,
    ingress: [],
    egress: [
      {
        to: [],
        toFqdns: [{ matchName: sel.matchName ?? "", matchPattern: sel.matchPattern ?? "" }],
        ports: [port("TCP", "443")],
      },
    ],
  });
  const r = render({
    firewall: firewallSpec(),
    policies: [
      fqdn("a", { matchName: "Example.com" }),
      fqdn("b", { matchName: "example.com" }),
      fqdn("c", { matchPattern: "*.example.org" }),
    ],
    services: [],
  });
  const fqdnSets = r.summary.setDetails.filter((s) => s.kind === SetKind.SET_KIND_FQDN);
  t.deepEqual(
    fqdnSets.map((s) => [s.selector, s.family]),
    [
      ["matchName:example.com", "ip"],
      ["matchName:example.com", "ip6"],
      ["matchPattern:*.example.org", "ip"],
      ["matchPattern:*.example.org", "ip6"],
    ],
  );
  t.deepEqual(
    r.dynamicSets,
    fqdnSets.map((s) => s.name),
  );
  for (const s of fqdnSets)
    t.regex(
      r.text,
      new RegExp(
        `set ${s.name} \\{\\n\\t\\ttype ipv${s.family === "ip" ? 4 : 6}_addr\\n\\t\\tflags timeout\\n`,
      ),
    );
  t.is(r.text.match(/daddr @fqdn_[0-9a-f]{16}_v4 jump np_/g)?.length, 3);
  t.deepEqual(setElements(r, "egress_v4"), [], "a toFQDNs rule opens no address by itself");
});

test("SNAT, rate limits and logging follow the Firewall spec", (t) => {
  const r = render({
    firewall: firewallSpec({
      egressRules: [{ networkId: "internet", ips: ["185.1.2.5", "185.1.2.6", "2001:db8:1::5"] }],
      rateLimits: [{ networkId: "internet", rate: 100 }],
      logAcceptedConnections: true,
    }),
    policies: [egressPolicy("p", [["1.2.3.0/24"]], [port("TCP", "443")])],
    services: [],
  });
  t.true(
    r.text.includes(
      '\t\tiifname { "vlan104009", "vrf104009" } limit rate over 100 mbytes/second counter name "drop_ratelimit" drop',
    ),
  );
  t.true(r.text.includes("snat ip to jhash ip saddr . ip daddr mod 2 map { 0 : 185.1.2.5, 1 : 185.1.2.6 }"));
  t.true(
    r.text.includes('\t\tip6 saddr @cluster_prefixes_v6 oifname "vlan104009" counter name "snat_internet_'),
  );
  t.regex(
    r.text,
    /\t\ttcp dport 443 limit rate 10\/second burst 5 packets log prefix "nftables-firewall-accepted: "\n\t\ttcp dport 443 counter name/,
  );
});

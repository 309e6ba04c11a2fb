// Three network namespaces made by the test: `cluster` (a node network, IPv4 and IPv6), `fw` (the
// firewall machine: forwarding, the agent's nftables) and `outside` (servers), joined by veth pairs named
// as on a firewall: the fw side of the cluster link is `vlan<private vrf>`, of the outside link
// `vlan<external vrf>`. Names carry a random suffix; remove() deletes everything.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import type { DesiredState, FirewallSpec } from "@metal-kube/proto/metalstack/firewall/v1/firewall";

const run = promisify(execFile);

export const PRIVATE_VRF = 42;
export const EXTERNAL_VRF = 104009;

/** Addresses of the topology. The outside host also answers for the extra "remote" addresses. */
export const ADDR = {
  cluster4: "10.0.0.10",
  cluster6: "fd00:10::10",
  fwCluster4: "10.0.0.1",
  fwCluster6: "fd00:10::1",
  fwOutside4: "185.1.2.1",
  fwOutside6: "2001:db8:1::1",
  outside4: "185.1.2.10",
  outside6: "2001:db8:1::10",
  /** Outside client addresses inside / outside a Service's source ranges. */
  outsideAllowed4: "185.1.2.11",
  outsideOther4: "185.1.2.40",
  outsideAllowed6: "2001:db8:1::5",
  outsideOther6: "2001:db8:1::40",
  /** Remote servers (on the outside host). */
  remoteA4: "198.51.100.10",
  remoteExcept4: "198.51.100.77",
  remoteB4: "203.0.113.9",
  remoteA6: "2001:db8:2::10",
  remoteExcept6: "2001:db8:2::81",
  remoteB6: "2001:db8:3::10",
  /** A LoadBalancer IP, held by the cluster host. */
  lb4: "203.0.113.50",
  lb6: "2001:db8:5::50",
  /** SNAT addresses of the external network (held by the fw). */
  snat4: "185.1.2.5",
  snat6: "2001:db8:1::5:5",
} as const;

export interface NetAgent {
  call(req: Record<string, unknown>): Promise<Record<string, unknown> & { ok: boolean }>;
  stop(): void;
}

export interface Topology {
  id: string;
  ns: { cluster: string; fw: string; outside: string };
  agents: { cluster: NetAgent; outside: NetAgent };
  /** `ip netns exec <fw> nft ...` */
  nft(args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** The Firewall spec matching the topology. */
  firewall(extra?: Partial<FirewallSpec>): FirewallSpec;
  remove(): Promise<void>;
}

const ip = (args: string[]) => run("ip", args);
const inNs = (ns: string, args: string[]) => run("ip", ["netns", "exec", ns, ...args]);

async function startAgent(ns: string): Promise<NetAgent> {
  const child: ChildProcess = spawn(
    "ip",
    [
      "netns",
      "exec",
      ns,
      process.execPath,
      "--import",
      "tsx",
      join(import.meta.dirname, "fixtures/net-agent.ts"),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const waiting = new Map<number, (v: Record<string, unknown> & { ok: boolean }) => void>();
  let next = 1;
  const ready = new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`net agent in ${ns} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = JSON.parse(line) as { id?: number; ready?: boolean; ok: boolean };
      if (m.ready) resolve();
      else if (m.id !== undefined) waiting.get(m.id)?.(m);
    });
  });
  await ready;
  return {
    call(req) {
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, (v) => {
          waiting.delete(id);
          resolve(v);
        });
        child.stdin!.write(`${JSON.stringify({ id, ...req })}\n`);
      });
    },
    stop() {
      child.stdin?.end();
      child.kill();
    },
  };
}

/** Builds the topology; everything made so far is removed again when a step fails. */
export async function createTopology(): Promise<Topology> {
  const id = randomBytes(3).toString("hex");
  const ns = { cluster: `fwt-c-${id}`, fw: `fwt-f-${id}`, outside: `fwt-o-${id}` };
  const agents: Partial<Topology["agents"]> = {};
  const remove = async () => {
    agents.cluster?.stop();
    agents.outside?.stop();
    for (const n of Object.values(ns)) await ip(["netns", "del", n]).catch(() => undefined);
  };
  try {
    for (const n of Object.values(ns)) await ip(["netns", "add", n]);
    // Veths are made in the fw namespace and one end moved, so no host-side names are ever used.
    await inNs(ns.fw, ["ip", "link", "add", `vlan${PRIVATE_VRF}`, "type", "veth", "peer", "name", "c0"]);
    await inNs(ns.fw, ["ip", "link", "set", "c0", "netns", ns.cluster]);
    await inNs(ns.fw, ["ip", "link", "add", `vlan${EXTERNAL_VRF}`, "type", "veth", "peer", "name", "o0"]);
    await inNs(ns.fw, ["ip", "link", "set", "o0", "netns", ns.outside]);
    const script = (n: string, lines: string[]) => inNs(n, ["sh", "-ec", lines.join("\n")]);
    await script(ns.fw, [
      "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1",
      "ip link set lo up",
      `ip addr add ${ADDR.fwCluster4}/24 dev vlan${PRIVATE_VRF}`,
      `ip addr add ${ADDR.fwCluster6}/64 dev vlan${PRIVATE_VRF} nodad`,
      `ip addr add ${ADDR.fwOutside4}/24 dev vlan${EXTERNAL_VRF}`,
      `ip addr add ${ADDR.fwOutside6}/64 dev vlan${EXTERNAL_VRF} nodad`,
      `ip addr add ${ADDR.snat4}/32 dev vlan${EXTERNAL_VRF}`,
      `ip addr add ${ADDR.snat6}/128 dev vlan${EXTERNAL_VRF} nodad`,
      `ip link set vlan${PRIVATE_VRF} up`,
      `ip link set vlan${EXTERNAL_VRF} up`,
      `ip route add 198.51.100.0/24 via ${ADDR.outside4}`,
      `ip route add 203.0.113.0/25 via ${ADDR.outside4}`,
      `ip route add ${ADDR.lb4}/32 via ${ADDR.cluster4}`,
      `ip -6 route add 2001:db8:2::/64 via ${ADDR.outside6}`,
      `ip -6 route add 2001:db8:3::/64 via ${ADDR.outside6}`,
      `ip -6 route add ${ADDR.lb6}/128 via ${ADDR.cluster6}`,
    ]);
    await script(ns.cluster, [
      "ip link set lo up",
      `ip addr add ${ADDR.cluster4}/24 dev c0`,
      `ip addr add ${ADDR.cluster6}/64 dev c0 nodad`,
      `ip addr add ${ADDR.lb4}/32 dev lo`,
      `ip addr add ${ADDR.lb6}/128 dev lo`,
      "ip link set c0 up",
      `ip route add default via ${ADDR.fwCluster4}`,
      `ip -6 route add default via ${ADDR.fwCluster6}`,
    ]);
    await script(ns.outside, [
      "ip link set lo up",
      `ip addr add ${ADDR.outside4}/24 dev o0`,
      `ip addr add ${ADDR.outsideAllowed4}/24 dev o0`,
      `ip addr add ${ADDR.outsideOther4}/24 dev o0`,
      `ip addr add ${ADDR.outside6}/64 dev o0 nodad`,
      `ip addr add ${ADDR.outsideAllowed6}/64 dev o0 nodad`,
      `ip addr add ${ADDR.outsideOther6}/64 dev o0 nodad`,
      ...[ADDR.remoteA4, ADDR.remoteExcept4, ADDR.remoteB4].map((a) => `ip addr add ${a}/32 dev lo`),
      ...[ADDR.remoteA6, ADDR.remoteExcept6, ADDR.remoteB6].map((a) => `ip addr add ${a}/128 dev lo`),
      "ip link set o0 up",
      `ip route add 10.0.0.0/24 via ${ADDR.fwOutside4}`,
      `ip route add ${ADDR.lb4}/32 via ${ADDR.fwOutside4}`,
      `ip -6 route add fd00:10::/64 via ${ADDR.fwOutside6}`,
      `ip -6 route add ${ADDR.lb6}/128 via ${ADDR.fwOutside6}`,
    ]);
    agents.cluster = await startAgent(ns.cluster);
    agents.outside = await startAgent(ns.outside);
  } catch (err) {
    await remove();
    throw err;
  }
  return {
    id,
    ns,
    agents: agents as Topology["agents"],
    nft: (args) => inNs(ns.fw, ["/usr/sbin/nft", ...args]),
    firewall: (extra = {}) => ({
      name: `fw-${id}`,
      networks: [
        {
          networkId: "cluster-net",
          networkType: "privateprimaryunshared",
          vrf: PRIVATE_VRF,
          prefixes: ["10.0.0.0/24", "fd00:10::/64"],
          destinationPrefixes: [],
          ips: [ADDR.fwCluster4],
          nat: false,
          asn: 4200000001,
        },
        {
          networkId: "internet",
          networkType: "external",
          vrf: EXTERNAL_VRF,
          prefixes: ["185.1.2.0/24", "2001:db8:1::/64"],
          destinationPrefixes: ["0.0.0.0/0", "::/0"],
          ips: [ADDR.fwOutside4],
          nat: true,
          asn: 4200000002,
        },
      ],
      internalPrefixes: ["10.0.0.0/8", "fd00::/8"],
      clusterPrefixes: [],
      rateLimits: [],
      egressRules: [],
      allowedNetworks: undefined,
      logAcceptedConnections: false,
      ...extra,
    }),
    remove,
  };
}

export function state(
  firewall: FirewallSpec,
  parts: Partial<Omit<DesiredState, "firewall">> = {},
): DesiredState {
  return { firewall, policies: parts.policies ?? [], services: parts.services ?? [] };
}

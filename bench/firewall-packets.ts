// `npm run bench firewall-packets` (as root: it makes network namespaces): UDP packets per second from
// `cluster` through `fw` to `outside`, with 1,000 policies (10,000 CIDRs, 500 Services) in the firewall,
// for three rulesets in one run: ours, the reference's rule shape for the same policies (one rule per
// policy rule and protocol, bench/fixtures/firewall-reference-shape.ts) and an empty accept-all table.
// The receiver never answers, so every packet is one of a connection not yet answered and runs through
// the whole forward chain: what is measured is the chain's cost per packet.
// Targets: ours within 20% of accept-all, and at least 5x the reference shape.
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { buildRepoGoBinary } from "@metal-kube/e2e";
import type { NetworkPolicy } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { makeTempDir } from "@metal-kube/testing";
import { createRenderer } from "../services/firewall/src/renderer.js";
import { ADDR, createTopology, PRIVATE_VRF } from "../services/firewall/test/netns.js";
import { referenceShape } from "./fixtures/firewall-reference-shape.js";
import { largeState } from "./fixtures/firewall-state.js";

const run = promisify(execFile);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 3);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PORT = 9000;

const pktgen = await buildRepoGoBinary({
  name: "bench-pktgen",
  dir: join(import.meta.dirname, "pktgen"),
  onProgress: (line) => console.log(line),
});
const topo = await createTopology();
const dir = makeTempDir("fw-packets-");
try {
  const probe = (name: string): NetworkPolicy => ({
    namespace: "firewall",
    name,
    ingress: [],
    egress: [
      {
        to: [{ cidr: `${ADDR.outside4}/32`, except: [] }],
        toFqdns: [],
        ports: [{ protocol: "UDP", port: String(PORT), endPort: undefined }],
      },
    ],
  });
  // The probe's policy sorts last (the reference's worst case) or in the middle of the 1,000.
  const states = {
    last: largeState({ firewall: topo.firewall(), extra: [probe("zzzz-probe")] }),
    middle: largeState({ firewall: topo.firewall(), extra: [probe("policy-0499-probe")] }),
  };
  const rulesets: Record<string, string> = {
    "accept-all":
      "table inet firewall {\n}\ndelete table inet firewall\ntable inet firewall {\n\tchain forward {\n\t\ttype filter hook forward priority 1; policy accept;\n\t}\n}\n",
    // Not a target, a measure: what connection tracking alone costs (every stateful ruleset pays it).
    "accept-all + conntrack":
      "table inet firewall {\n}\ndelete table inet firewall\ntable inet firewall {\n\tchain forward {\n\t\ttype filter hook forward priority 1; policy accept;\n\t\tct state established,related accept\n\t}\n}\n",
    "ours (probe last)": createRenderer().render(states.last).text,
    "reference (probe last)": referenceShape(
      { ...states.last, policies: [...states.last.policies].sort((a, b) => (a.name < b.name ? -1 : 1)) },
      PRIVATE_VRF,
    ),
    "ours (probe in the middle)": createRenderer().render(states.middle).text,
    "reference (probe in the middle)": referenceShape(
      { ...states.middle, policies: [...states.middle.policies].sort((a, b) => (a.name < b.name ? -1 : 1)) },
      PRIVATE_VRF,
    ),
  };
  const refRules = rulesets["reference (probe last)"]!.split("\n").filter((l) =>
    l.includes(" accept comment"),
  ).length;
  console.log(
    `reference shape: ${refRules} accept rules in one chain; ours: verdict maps (${createRenderer().render(states.last).summary!.elements} elements)`,
  );

  const measure = async (name: string): Promise<number> => {
    const file = join(dir.path, "ruleset.nft");
    writeFileSync(file, rulesets[name]!);
    await run("ip", ["netns", "exec", topo.ns.fw, "/usr/sbin/nft", "-f", file], { maxBuffer: 1 << 26 });
    // Each sender has a source port of its own: a new conntrack entry, never one a former run answered.
    const recv = run("ip", [
      "netns",
      "exec",
      topo.ns.outside,
      pktgen,
      "recv",
      "-addr",
      `${ADDR.outside4}:${PORT}`,
      "-d",
      `${SECONDS + 2}s`,
    ]);
    await new Promise((r) => setTimeout(r, 300));
    await run("ip", [
      "netns",
      "exec",
      topo.ns.cluster,
      pktgen,
      "send",
      "-addr",
      `${ADDR.outside4}:${PORT}`,
      "-d",
      `${SECONDS}s`,
    ]);
    const got = JSON.parse((await recv).stdout) as { packets: number; perSecond: number };
    return got.perSecond;
  };
  const names = Object.keys(rulesets);
  const results: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) for (const n of names) results[n]!.push(await measure(n));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const m = Object.fromEntries(names.map((n) => [n, median(results[n]!)]));
  for (const n of names)
    console.log(
      `${n.padEnd(32)} ${Math.round(m[n]!).toLocaleString("en").padStart(9)} packets/s (runs: ${results[n]!.map((x) => Math.round(x)).join(", ")})`,
    );
  let missed = 0;
  for (const where of ["last", "in the middle"]) {
    const ours = m[`ours (probe ${where})`]!;
    const ref = m[`reference (probe ${where})`]!;
    const ofAccept = ours / m["accept-all"]!;
    const vsRef = ours / ref;
    const ok1 = ofAccept >= 0.8;
    const ok2 = vsRef >= 5;
    if (!ok1 || !ok2) missed++;
    const ofTracked = ours / m["accept-all + conntrack"]!;
    console.log(
      `probe ${where}: ours = ${(ofAccept * 100).toFixed(0)}% of accept-all (target >= 80%: ${ok1 ? "met" : "MISSED"}; ${(ofTracked * 100).toFixed(0)}% of accept-all with conntrack), ${vsRef.toFixed(1)}x the reference shape (target >= 5x: ${ok2 ? "met" : "MISSED"})`,
    );
  }
  process.exitCode = missed ? 1 : 0;
} finally {
  await topo.remove();
  dir.remove();
}

// `npm run bench firewall-apply` (as root: it makes a network namespace): 1,000 ClusterwideNetworkPolicies
// with 10,000 CIDRs and 500 LoadBalancer Services.
//   render (with the service's node options)        target at most 100 ms
//   Apply of a change (render + check + apply)     target at most 500 ms
//   Apply of the same state again (no change)      target at most 20 ms
// Apply goes through the bundled service over gRPC, into a network namespace of its own.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import {
  ApplyOutcome,
  type DesiredState,
  FirewallClient,
} from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { makeTempDir } from "@metal-kube/testing";
import { NODE_FLAGS, serviceNodeArgs } from "../scripts/build.js";
import { createFirewallClient } from "../services/firewall/src/adapter/firewall-client.js";
import { createRenderer } from "../services/firewall/src/renderer.js";
import { firewallSpec } from "../services/firewall/test/fixtures/spec.js";
import { cidrCount, largeState } from "./fixtures/firewall-state.js";

const base = () => largeState({ firewall: firewallSpec() });
const state = base();
const pct = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const fmt = (xs: number[]) =>
  `p50 ${pct(xs, 0.5).toFixed(1)} ms, p90 ${pct(xs, 0.9).toFixed(1)} ms, min ${Math.min(...xs).toFixed(1)} ms`;
let missed = 0;
const judge = (what: string, xs: number[], target: number) => {
  const ok = pct(xs, 0.5) <= target;
  if (!ok) missed++;
  console.log(`${what.padEnd(44)} ${fmt(xs)} (target ${target} ms: ${ok ? "met" : "MISSED"})`);
};
const load = () => execFileSync("cat", ["/proc/loadavg"]).toString().split(" ").slice(0, 3).join(" ");

/** The render loop, in a process started with the service's node options (as it runs deployed). */
if (process.argv.includes("--render")) {
  const renderer = createRenderer();
  for (let i = 0; i < 5; i++) renderer.render(state);
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    renderer.render(state);
    times.push(performance.now() - t);
  }
  const s = renderer.render(state).summary!;
  process.stdout.write(JSON.stringify({ times, summary: s }));
  process.exit(0);
}

console.log(
  `desired state: ${state.policies.length} policies, ${cidrCount(state)} CIDRs, ${state.services.length} Services; load ${load()}`,
);
const renderChild = spawnSync(
  process.execPath,
  [...(NODE_FLAGS.firewall ?? []), "--import", "tsx", import.meta.filename, "--render"],
  {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  },
);
if (renderChild.status !== 0) throw new Error(`render child: ${renderChild.stderr}`);
const { times: renders, summary } = JSON.parse(renderChild.stdout) as {
  times: number[];
  summary: { rules: number; chains: number; sets: number; elements: number };
};
console.log(
  `ruleset: ${summary.rules} rules, ${summary.chains} chains, ${summary.sets} sets, ${summary.elements} elements`,
);
judge(`render (${(NODE_FLAGS.firewall ?? []).join(" ") || "node"})`, renders, 100);

const ns = `fwb-${randomBytes(3).toString("hex")}`;
const dir = makeTempDir("fw-bench-");
execFileSync("ip", ["netns", "add", ns]);
// As on the machine: the service runs in the namespace whose nftables it owns (nft runs there without
// `ip netns exec`) and listens on a unix socket, which the benchmark reaches from outside the namespace.
const socket = `unix://${join(dir.path, "firewall.sock")}`;
const child = spawn("ip", ["netns", "exec", ns, process.execPath, ...serviceNodeArgs("firewall")], {
  env: {
    ...process.env,
    GRPC_LISTEN: socket,
    METRICS_LISTEN: "127.0.0.1:0",
    FIREWALL_STATE_DIR: join(dir.path, "state"),
    EVENTS_OUTBOX_DIR: join(dir.path, "outbox"),
    NATS_URL: "nats://127.0.0.1:1",
    LOG_LEVEL: "warn",
  },
  stdio: "ignore",
});
const probe = new FirewallClient(socket, credentials.createInsecure());
await new Promise<void>((resolve, reject) =>
  probe.waitForReady(Date.now() + 30_000, (err) => (err ? reject(err) : resolve())),
);
probe.close();
const server = {
  address: socket,
  stop: () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    }),
};
const client = createFirewallClient(server.address);
try {
  /**
   * CPU the service (and the nft it ran) spent, from /proc: on a machine shared with other work the
   * wall time says as much about the others; the CPU time is what an apply costs the firewall.
   */
  const cpuMs = () => {
    const f = (readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1] ?? "").split(" ");
    return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / 100;
  };
  const cpu: Record<string, number[]> = {};
  const apply = async (s: DesiredState, want: ApplyOutcome, kind = "") => {
    const c0 = cpuMs();
    const t = performance.now();
    const r = await client.apply({ state: s, dryRun: false, strict: false });
    const ms = performance.now() - t;
    if (kind) {
      cpu[kind] ??= [];
      cpu[kind].push(cpuMs() - c0);
    }
    if (r.outcome !== want)
      throw new Error(
        `Apply: ${ApplyOutcome[r.outcome]}, wanted ${ApplyOutcome[want]}: ${JSON.stringify(r.failure)}`,
      );
    return ms;
  };
  const fulls: number[] = [];
  for (let i = 0; i < 3; i++) {
    // A fresh table each time: the first apply after a start is the whole file.
    await client.apply({ state: { ...state, policies: [] }, dryRun: false, strict: false });
    execFileSync("ip", ["netns", "exec", ns, "/usr/sbin/nft", "delete", "table", "inet", "firewall"]);
    fulls.push(await apply(state, ApplyOutcome.APPLY_OUTCOME_APPLIED));
  }
  console.log(`${"Apply, whole table (first apply after a start)".padEnd(44)} ${fmt(fulls)} (no target)`);
  const ports: number[] = [];
  const cidrs: number[] = [];
  for (let i = 0; i < 12; i++) {
    const p = base();
    p.policies[i]!.egress[0]!.ports[0]!.port = String(40000 + i);
    ports.push(await apply(p, ApplyOutcome.APPLY_OUTCOME_APPLIED, "port"));
    const c = base();
    c.policies[i]!.egress[0]!.to.push({ cidr: `9.9.${i}.0/24`, except: [] });
    cidrs.push(await apply(c, ApplyOutcome.APPLY_OUTCOME_APPLIED, "cidrs"));
  }
  judge("Apply, one policy's port changed", ports, 500);
  judge("Apply, one policy's CIDRs changed", cidrs, 500);
  const last = base();
  last.policies[11]!.egress[0]!.to.push({ cidr: "9.9.11.0/24", except: [] });
  const same: number[] = [];
  for (let i = 0; i < 40; i++) same.push(await apply(last, ApplyOutcome.APPLY_OUTCOME_UNCHANGED, "same"));
  judge("Apply, no change (a reconcile of nothing new)", same, 20);
  const cpuLine = (k: string) => `${pct(cpu[k]!, 0.5).toFixed(0)} ms`;
  console.log(
    `service CPU per Apply (p50, its nft included): port change ${cpuLine("port")}, CIDR change ${cpuLine("cidrs")}, no change ${cpuLine("same")} (clock ticks of 10 ms)`,
  );
  console.log(`load after: ${load()}`);
} finally {
  client.close();
  await server.stop();
  execFileSync("ip", ["netns", "del", ns]);
  dir.remove();
}
process.exitCode = missed ? 1 : 0;

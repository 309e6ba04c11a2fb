// The FirewallMonitor's controllerStatus, as the firewall-controller-manager reads it (it copies
// controllerVersion, lastRun and lastRunAgainstSeed into the Firewall's status), plus our checksum.
import {
  ApplyOutcome,
  type ApplyResponse,
  type Counter,
  CounterKind,
  PolicyState,
} from "@metal-kube/proto/metalstack/firewall/v1/firewall";

export const CHECKSUM_ANNOTATION = "firewall.metal-kube.io/ruleset-checksum";
export const SUMMARY_ANNOTATION = "firewall.metal-kube.io/ruleset-summary";

export interface MonitorInput {
  controllerVersion: string;
  now: Date;
  lastRunAgainstSeed: Date | undefined;
  /** The last Apply's answer; undefined when none could be made (message says why). */
  apply: ApplyResponse | undefined;
  counters: Counter[];
  message?: string;
}

type CounterStat = { counter: { bytes: number; packets: number } };

/** One line a human reads in `kubectl get fwmon -o yaml`: what the ruleset is and what became of it. */
export function applyMessage(a: ApplyResponse): string {
  const outcome = ApplyOutcome[a.outcome].replace("APPLY_OUTCOME_", "").toLowerCase().replace("_", "-");
  const ignored = a.policies.filter((p) => p.state === PolicyState.POLICY_STATE_IGNORED).length;
  const s = a.summary;
  const parts = [
    `ruleset ${a.activeChecksum || a.checksum} ${outcome}`,
    `${s?.rules ?? 0} rules, ${s?.sets ?? 0} sets, ${s?.elements ?? 0} elements`,
    `policies: ${a.policies.length - ignored} deployed, ${ignored} ignored`,
  ];
  if (a.failure) parts.push(`failed: ${a.failure.message.split("\n")[0]}`);
  return parts.join("; ");
}

export function controllerStatus(i: MonitorInput): Record<string, unknown> {
  const rules: Record<"accept" | "drop" | "other", Record<string, CounterStat>> = {
    accept: {},
    drop: {},
    other: {},
  };
  const devices = { internal: { in: 0, out: 0 }, external: { in: 0, out: 0 } };
  for (const c of i.counters) {
    if (c.kind === CounterKind.COUNTER_KIND_ACCOUNTING) {
      const [where, dir] = c.name.split("_") as ["internal" | "external", "in" | "out"];
      if (devices[where]) devices[where][dir] = c.bytes;
      continue;
    }
    const action =
      c.kind === CounterKind.COUNTER_KIND_ACCEPT
        ? "accept"
        : c.kind === CounterKind.COUNTER_KIND_DROP
          ? "drop"
          : "other";
    const key = c.comment || c.name;
    // tcp/udp twins share a comment in the reference; their counts add up instead of the last one winning.
    const prev = rules[action][key]?.counter ?? { bytes: 0, packets: 0 };
    rules[action][key] = { counter: { bytes: prev.bytes + c.bytes, packets: prev.packets + c.packets } };
  }
  return {
    message: i.message ?? (i.apply ? applyMessage(i.apply) : "no ruleset applied yet"),
    controllerVersion: i.controllerVersion,
    nftablesExporterVersion: "",
    lastRun: i.now.toISOString(),
    ...(i.lastRunAgainstSeed ? { lastRunAgainstSeed: i.lastRunAgainstSeed.toISOString() } : {}),
    distance: 0,
    distanceSupported: false,
    stats: { rules, devices, idsStats: {} },
  };
}

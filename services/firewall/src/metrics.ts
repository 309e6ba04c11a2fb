// The table's counters and the agent's applies on the service's /metrics, read at scrape time.

import { ApplyOutcome, CounterKind } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { FirewallAgent } from "./agent.js";

const KIND_LABEL: Record<number, string> = {
  [CounterKind.COUNTER_KIND_ACCOUNTING]: "accounting",
  [CounterKind.COUNTER_KIND_DROP]: "drop",
  [CounterKind.COUNTER_KIND_ACCEPT]: "accept",
  [CounterKind.COUNTER_KIND_SNAT]: "snat",
};

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * firewall_counter_{packets,bytes}_total{name,comment,kind}: every named counter of the table (a rule
 * of a policy or Service is named by its comment); they restart at 0 when a changed ruleset is applied,
 * which Prometheus' rate() reads as a counter reset.
 */
export function registerFirewallMetrics(registry: Registry, agent: FirewallAgent): void {
  const labelNames = ["name", "comment", "kind"] as const;
  let last: Promise<Awaited<ReturnType<FirewallAgent["counters"]>>> | undefined;
  // Both counters are collected in one scrape: one read of the table serves them.
  const read = () => {
    last ??= agent.counters().finally(() => setTimeout(() => (last = undefined), 500).unref());
    return last;
  };
  for (const [field, metric, help] of [
    ["packets", "firewall_counter_packets_total", "packets counted by each named counter of the table"],
    ["bytes", "firewall_counter_bytes_total", "bytes counted by each named counter of the table"],
  ] as const)
    new Counter({
      name: metric,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const { counters } = await read().catch(() => ({ counters: [] }));
        for (const c of counters)
          this.labels({ name: c.name, comment: c.comment, kind: KIND_LABEL[c.kind] ?? "other" }).inc(
            c[field],
          );
      },
    });

  new Gauge({
    name: "firewall_ruleset_info",
    help: "1 for the checksum of the ruleset live in the table",
    labelNames: ["checksum"],
    registers: [registry],
    async collect() {
      this.reset();
      const { checksum } = await read().catch(() => ({ checksum: "" }));
      if (checksum) this.labels({ checksum }).set(1);
    },
  });
  const applies = new Counter({
    name: "firewall_applies_total",
    help: "Apply calls by outcome",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const stageSeconds = new Histogram({
    name: "firewall_apply_stage_seconds",
    help: "seconds per stage of an apply (read, check, apply, verify, restore)",
    labelNames: ["stage"],
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const seconds = new Histogram({
    name: "firewall_apply_seconds",
    help: "seconds per Apply call, by outcome",
    labelNames: ["outcome"],
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  agent.onApply((s) => {
    const outcome = ApplyOutcome[s.outcome].replace("APPLY_OUTCOME_", "").toLowerCase();
    applies.labels({ outcome }).inc();
    seconds.labels({ outcome }).observe(s.durationMs / 1000);
    for (const [stage, ms] of Object.entries(s.stages))
      stageSeconds.labels({ stage }).observe((ms ?? 0) / 1000);
  });
}

// The firewall agent: render, apply, status and counters over one renderer and one applier. What the
// gRPC methods do, without gRPC.

import type { Logger } from "@metal-kube/logging";
import {
  type ApplyFailure,
  ApplyOutcome,
  type ApplyRequest,
  type ApplyResponse,
  ApplyStage,
  type Counter,
  CounterKind,
  type DesiredState,
  type GetStatusResponse,
  type LastApply,
  type ListCountersResponse,
  PolicyState,
  type RenderRequest,
  type RenderResponse,
} from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { ServiceError } from "@metal-kube/service-kit";
import type { Applier, ApplyAttempt } from "./applier.js";
import { type EventSink, noopEventSink, type RulesetAction, type RulesetEvent } from "./events.js";
import type { LiveCounter } from "./live-table.js";
import { ACCOUNTING_COUNTERS, DROP_COUNTERS } from "./names.js";
import type { Renderer, RenderResult } from "./renderer.js";

/** Counters read for ListCounters and /metrics are reused this long (a read loads the whole table). */
export const DEFAULT_COUNTER_CACHE_MS = 2_000;

export interface AgentOptions {
  renderer: Renderer;
  /** Absent in render-only mode: nothing touches nftables. */
  applier?: Applier;
  events?: EventSink;
  logger: Logger;
  counterCacheMs?: number;
}

export interface ApplyStats {
  outcome: ApplyOutcome;
  stages: ApplyAttempt["stages"];
  durationMs: number;
}

export interface FirewallAgent {
  render(req: RenderRequest): RenderResponse;
  apply(req: ApplyRequest): Promise<ApplyResponse>;
  /**
   * The answer to a repeat of the request `previous` answered, when the live table still is that
   * ruleset (only its marker is read); undefined when it is not and the request must be applied again.
   */
  repeat(previous: ApplyResponse, firewall: string): Promise<ApplyResponse | undefined>;
  status(deep: boolean): Promise<GetStatusResponse>;
  counters(): Promise<ListCountersResponse>;
  /** Puts the last good ruleset back when the live table is not it; call before serving. */
  start(): Promise<void>;
  /** Called after every apply, for metrics. */
  onApply(listener: (s: ApplyStats) => void): void;
  readonly renderOnly: boolean;
}

const OUTCOMES: Record<ApplyAttempt["outcome"], ApplyOutcome> = {
  applied: ApplyOutcome.APPLY_OUTCOME_APPLIED,
  unchanged: ApplyOutcome.APPLY_OUTCOME_UNCHANGED,
  "dry-run": ApplyOutcome.APPLY_OUTCOME_DRY_RUN,
  "rolled-back": ApplyOutcome.APPLY_OUTCOME_ROLLED_BACK,
};

export function counterKind(name: string): CounterKind {
  if ((ACCOUNTING_COUNTERS as readonly string[]).includes(name)) return CounterKind.COUNTER_KIND_ACCOUNTING;
  if ((DROP_COUNTERS as readonly string[]).includes(name)) return CounterKind.COUNTER_KIND_DROP;
  if (name.startsWith("snat_")) return CounterKind.COUNTER_KIND_SNAT;
  return CounterKind.COUNTER_KIND_ACCEPT;
}

const toCounter = (c: LiveCounter): Counter => ({ ...c, kind: counterKind(c.name) });

export function createFirewallAgent(o: AgentOptions): FirewallAgent {
  const events = o.events ?? noopEventSink;
  const cacheMs = o.counterCacheMs ?? DEFAULT_COUNTER_CACHE_MS;
  const listeners: Array<(s: ApplyStats) => void> = [];
  let lastApply: LastApply | undefined;
  let lastUnchangedAt = "";
  let lastIgnored = "";
  let countersCache: { at: number; value: Promise<LiveCounter[]> } | undefined;

  const readCounters = () => {
    if (!o.applier) return Promise.resolve([]);
    const now = Date.now();
    if (!countersCache || now - countersCache.at > cacheMs) {
      const value = o.applier.live.counters();
      countersCache = { at: now, value };
      value.catch(() => {
        countersCache = undefined;
      });
    }
    return countersCache.value;
  };

  const eventOf = (
    r: RenderResult,
    extra: Partial<RulesetEvent> & { durationMs: number; dryRun: boolean },
  ): RulesetEvent => ({
    firewall: r.plan.name,
    checksum: r.checksum,
    rules: r.summary.rules,
    sets: r.summary.sets,
    elements: r.summary.elements,
    policies: {
      deployed: r.policies.filter((p) => p.state === PolicyState.POLICY_STATE_DEPLOYED).length,
      ignored: r.policies.filter((p) => p.state === PolicyState.POLICY_STATE_IGNORED).length,
    },
    services: {
      deployed: r.services.filter((p) => p.state === PolicyState.POLICY_STATE_DEPLOYED).length,
      ignored: r.services.filter((p) => p.state === PolicyState.POLICY_STATE_IGNORED).length,
    },
    ...extra,
  });

  const render = (
    req: { state: DesiredState | undefined; strict: boolean },
    dryRun: boolean,
  ): RenderResult => {
    try {
      return o.renderer.render(req.state, { strict: req.strict });
    } catch (err) {
      if (err instanceof ServiceError)
        events.emit("invalid", {
          firewall: req.state?.firewall?.name ?? "",
          checksum: "",
          rules: 0,
          sets: 0,
          elements: 0,
          policies: { deployed: 0, ignored: 0 },
          services: { deployed: 0, ignored: 0 },
          dryRun,
          durationMs: 0,
          invalid: [{ kind: "request", namespace: "", name: err.field ?? "", message: err.message }],
        });
      throw err;
    }
  };

  /** An `invalid` event when the set of left-out policies and Services changes. */
  const reportIgnored = (r: RenderResult, dryRun: boolean) => {
    const invalid = [
      ...r.policies
        .filter((p) => p.state === PolicyState.POLICY_STATE_IGNORED)
        .map((p) => ({ kind: "policy" as const, namespace: p.namespace, name: p.name, message: p.message })),
      ...r.services
        .filter((p) => p.state === PolicyState.POLICY_STATE_IGNORED)
        .map((p) => ({ kind: "service" as const, namespace: p.namespace, name: p.name, message: p.message })),
    ];
    const key = JSON.stringify(invalid);
    if (key === lastIgnored) return;
    lastIgnored = key;
    if (invalid.length) events.emit("invalid", eventOf(r, { durationMs: 0, dryRun, invalid }));
  };

  const responseOf = (
    r: RenderResult,
    outcome: ApplyOutcome,
    attempt: Partial<ApplyAttempt>,
    durationMs: number,
  ): ApplyResponse => ({
    outcome,
    checksum: r.checksum,
    summary: r.summary,
    policies: r.policies,
    services: r.services,
    warnings: r.warnings,
    failure: attempt.failure ? ({ ...attempt.failure } satisfies ApplyFailure) : undefined,
    activeChecksum: attempt.activeChecksum ?? "",
    durationMs: Math.round(durationMs),
  });

  return {
    renderOnly: !o.applier,
    onApply: (l) => void listeners.push(l),

    render(req) {
      const r = render({ state: req.state, strict: req.strict }, true);
      return {
        ruleset: r.text,
        checksum: r.checksum,
        summary: r.summary,
        policies: r.policies,
        services: r.services,
        warnings: r.warnings,
      };
    },

    async apply(req) {
      const t0 = performance.now();
      const applier = o.applier;
      const done = (outcome: ApplyOutcome, stages: ApplyAttempt["stages"]) => {
        const durationMs = performance.now() - t0;
        for (const l of listeners) l({ outcome, stages, durationMs });
        return durationMs;
      };
      const r = render({ state: req.state, strict: req.strict }, req.dryRun);
      reportIgnored(r, req.dryRun);
      if (!applier) {
        const durationMs = done(ApplyOutcome.APPLY_OUTCOME_DRY_RUN, {});
        lastApply = {
          outcome: ApplyOutcome.APPLY_OUTCOME_DRY_RUN,
          checksum: r.checksum,
          at: new Date().toISOString(),
          durationMs: Math.round(durationMs),
          failure: undefined,
        };
        return responseOf(r, ApplyOutcome.APPLY_OUTCOME_DRY_RUN, {}, durationMs);
      }
      const attempt = await applier.apply(r, { dryRun: req.dryRun });
      const outcome = OUTCOMES[attempt.outcome];
      const durationMs = done(outcome, attempt.stages);
      const response = responseOf(r, outcome, attempt, durationMs);
      if (attempt.outcome === "unchanged") lastUnchangedAt = new Date().toISOString();
      else
        lastApply = {
          outcome,
          checksum: r.checksum,
          at: new Date().toISOString(),
          durationMs: Math.round(durationMs),
          failure: response.failure,
        };
      const action: RulesetAction | undefined =
        attempt.outcome === "applied"
          ? "applied"
          : attempt.outcome === "unchanged"
            ? "unchanged"
            : attempt.outcome === "rolled-back"
              ? "rolled-back"
              : undefined;
      if (action)
        events.emit(
          action,
          eventOf(r, {
            durationMs: Math.round(durationMs),
            dryRun: req.dryRun,
            activeChecksum: attempt.activeChecksum ?? "",
            ...(attempt.failure
              ? { failure: { ...attempt.failure, stage: ApplyStage[attempt.failure.stage] } }
              : {}),
          }),
        );
      if (attempt.outcome === "applied") countersCache = undefined;
      o.logger.info(
        {
          outcome: ApplyOutcome[outcome],
          checksum: r.checksum,
          rules: r.summary.rules,
          elements: r.summary.elements,
          stages: attempt.stages,
          durationMs: Math.round(durationMs),
        },
        "apply",
      );
      return response;
    },

    async repeat(previous, firewall) {
      const applier = o.applier;
      if (!applier) return undefined;
      const t0 = performance.now();
      const live = await applier.live.checksum();
      if (live !== previous.checksum || applier.lastGood()?.checksum !== live) return undefined;
      const durationMs = performance.now() - t0;
      for (const l of listeners) l({ outcome: ApplyOutcome.APPLY_OUTCOME_UNCHANGED, stages: {}, durationMs });
      lastUnchangedAt = new Date().toISOString();
      const response = {
        ...previous,
        outcome: ApplyOutcome.APPLY_OUTCOME_UNCHANGED,
        failure: undefined,
        activeChecksum: live,
        durationMs: Math.round(durationMs),
      };
      const count = (xs: ApplyResponse["policies"]) => ({
        deployed: xs.filter((p) => p.state === PolicyState.POLICY_STATE_DEPLOYED).length,
        ignored: xs.filter((p) => p.state === PolicyState.POLICY_STATE_IGNORED).length,
      });
      events.emit("unchanged", {
        firewall,
        checksum: live,
        rules: response.summary?.rules ?? 0,
        sets: response.summary?.sets ?? 0,
        elements: response.summary?.elements ?? 0,
        policies: count(response.policies),
        services: count(response.services),
        dryRun: false,
        durationMs: Math.round(durationMs),
        activeChecksum: live,
      });
      return response;
    },

    async status(deep) {
      const applier = o.applier;
      if (!applier)
        return {
          activeChecksum: "",
          lastGoodChecksum: "",
          lastGoodAt: "",
          lastApply,
          summary: undefined,
          counters: [],
          renderOnly: true,
          verified: false,
          verifyMessage: "render-only: nftables is never touched",
          lastUnchangedAt,
        };
      const lastGood = applier.lastGood();
      const v = await applier.verify(deep);
      const counters = (await readCounters())
        .map(toCounter)
        .filter(
          (c) => c.kind === CounterKind.COUNTER_KIND_ACCOUNTING || c.kind === CounterKind.COUNTER_KIND_DROP,
        );
      return {
        activeChecksum: v.checksum ?? "",
        lastGoodChecksum: lastGood?.checksum ?? "",
        lastGoodAt: lastGood?.appliedAt ?? "",
        lastApply,
        summary: lastGood?.summary,
        counters,
        renderOnly: false,
        verified: v.ok,
        verifyMessage: v.message,
        lastUnchangedAt,
      };
    },

    async counters() {
      if (!o.applier) return { counters: [], checksum: "" };
      const [counters, checksum] = await Promise.all([readCounters(), o.applier.live.checksum()]);
      return { counters: counters.map(toCounter), checksum: checksum ?? "" };
    },

    async start() {
      if (!o.applier) return;
      const r = await o.applier.restore();
      if (r.error) o.logger.error({ error: r.error }, "could not put the last good ruleset back");
      else if (r.restored) o.logger.warn({ checksum: r.checksum }, "restored the last good ruleset");
      else o.logger.info({ checksum: r.checksum ?? null }, "live table checked at start");
    },
  };
}

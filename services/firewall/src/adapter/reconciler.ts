// One reconcile of the whole firewall: read the caches, Apply through the service, write each CWNP's
// status and the FirewallMonitor. Every event leads here (one key), so bursts coalesce into one apply.
import {
  type EventRecorder,
  type Informer,
  isNotFound,
  type JsonPatchOp,
  type ResourceClient,
} from "@metal-kube/kube";
import type { Logger } from "@metal-kube/logging";
import {
  ApplyOutcome,
  type ApplyRequest,
  type ApplyResponse,
  PolicyState,
} from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { desiredState } from "./desired-state.js";
import type { FirewallServiceClient } from "./firewall-client.js";
import { CHECKSUM_ANNOTATION, controllerStatus, SUMMARY_ANNOTATION } from "./monitor.js";
import {
  type CwnpObject,
  type FirewallObject,
  type MonitorObject,
  type ServiceObject,
  SHOOT_NAMESPACE,
} from "./resources.js";

export const DEFAULT_INTERVAL_MS = 10_000;

export interface ReconcilerOptions {
  firewallName: string;
  seedNamespace: string;
  extraClusterPrefixes: readonly string[];
  controllerVersion: string;
  defaultIntervalMs?: number;
  service: FirewallServiceClient;
  firewalls: Informer<FirewallObject>;
  cwnps: Informer<CwnpObject>;
  services: Informer<ServiceObject>;
  monitors: Informer<MonitorObject>;
  cwnpClient: ResourceClient<CwnpObject>;
  monitorClient: ResourceClient<MonitorObject>;
  recorder?: EventRecorder;
  logger: Logger;
  onResult?: (r: {
    result: "applied" | "unchanged" | "dry-run" | "rolled-back" | "refused" | "no-firewall";
    at: Date;
  }) => void;
}

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
/** A Go duration (`10s`, `1m30s`, `500ms`) in milliseconds; undefined when it is not one. */
export function parseGoDuration(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    at = re.lastIndex;
  }
  return at === s.length && total > 0 ? total : undefined;
}

export function createReconciler(o: ReconcilerOptions) {
  const log = o.logger.child({ firewall: o.firewallName });
  const defaultInterval = o.defaultIntervalMs ?? DEFAULT_INTERVAL_MS;
  let lastRunAgainstSeed: Date | undefined;
  let last: ApplyResponse | undefined;
  /** The request of the last reconcile while nothing it is made of changed (the client encodes it once). */
  let request: { firewall: FirewallObject; apply: ApplyRequest } | undefined;

  async function writeStatuses(res: ApplyResponse, signal: AbortSignal) {
    const byKey = new Map(o.cwnps.store.list().map((c) => [`${c.metadata.namespace}/${c.metadata.name}`, c]));
    // A policy counts as deployed only once a ruleset holding it is live; a dry run or rollback reports
    // only the ignored ones.
    const live =
      res.outcome === ApplyOutcome.APPLY_OUTCOME_APPLIED ||
      res.outcome === ApplyOutcome.APPLY_OUTCOME_UNCHANGED;
    for (const p of res.policies) {
      if (signal.aborted) return;
      const obj = byKey.get(`${p.namespace}/${p.name}`);
      if (!obj) continue;
      const ignored = p.state === PolicyState.POLICY_STATE_IGNORED;
      if (!ignored && !live) continue;
      const want = { state: ignored ? "ignored" : "deployed", message: p.message };
      if (obj.status?.state === want.state && (obj.status?.message ?? "") === want.message) continue;
      try {
        await o.cwnpClient.patchStatus({ namespace: p.namespace, name: p.name }, want);
        if (ignored) o.recorder?.event(obj, "Warning", "Ignored", p.message);
      } catch (err) {
        if (!isNotFound(err))
          log.warn({ err, policy: `${p.namespace}/${p.name}` }, "could not write the policy's status");
      }
    }
  }

  async function writeMonitor(status: Record<string, unknown>, res: ApplyResponse | undefined) {
    const mon = o.monitors.store.get(`${SHOOT_NAMESPACE}/${o.firewallName}`);
    if (!mon) {
      log.debug("no FirewallMonitor yet (the firewall-controller-manager creates it)");
      return;
    }
    const ops: JsonPatchOp[] = [{ op: "add", path: "/controllerStatus", value: status }];
    if (res) {
      const annotations = {
        [CHECKSUM_ANNOTATION]: res.activeChecksum,
        [SUMMARY_ANNOTATION]: JSON.stringify({
          outcome: ApplyOutcome[res.outcome].replace("APPLY_OUTCOME_", "").toLowerCase(),
          rules: res.summary?.rules ?? 0,
          sets: res.summary?.sets ?? 0,
          elements: res.summary?.elements ?? 0,
        }),
      };
      const current = mon.metadata.annotations;
      if (!current) ops.push({ op: "add", path: "/metadata/annotations", value: annotations });
      else
        for (const [k, v] of Object.entries(annotations))
          if (current[k] !== v)
            ops.push({
              op: "add",
              path: `/metadata/annotations/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`,
              value: v,
            });
    }
    try {
      await o.monitorClient.jsonPatch({ namespace: SHOOT_NAMESPACE, name: o.firewallName }, ops);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** The monitor when no ruleset could be applied: lastRun still moves, the message says why. */
  const writeProblem = (now: Date, message: string) =>
    writeMonitor(
      controllerStatus({
        controllerVersion: o.controllerVersion,
        now,
        lastRunAgainstSeed,
        apply: last,
        counters: [],
        message,
      }),
      undefined,
    );

  return {
    /** A CWNP, Service or Firewall changed: the next reconcile builds its request anew. */
    invalidate() {
      request = undefined;
    },
    /** The one key's reconcile; resolves with when to run again (the Firewall's spec.interval). */
    async reconcile(signal: AbortSignal): Promise<{ requeueAfterMs: number }> {
      const fw = o.firewalls.store.get(`${o.seedNamespace}/${o.firewallName}`);
      const now = new Date();
      if (!fw) {
        log.warn(
          { seedNamespace: o.seedNamespace },
          "Firewall not found in the seed: the ruleset stays as it is",
        );
        o.onResult?.({ result: "no-firewall", at: now });
        await writeProblem(now, `Firewall ${o.seedNamespace}/${o.firewallName} not found in the seed`);
        return { requeueAfterMs: defaultInterval };
      }
      if (!o.firewalls.lastError) lastRunAgainstSeed = now;
      const interval = parseGoDuration(fw.spec?.interval);
      if (fw.spec?.interval && interval === undefined)
        log.warn({ interval: fw.spec.interval }, "spec.interval is not a duration; using the default");
      const requeueAfterMs = interval ?? defaultInterval;
      if (request?.firewall !== fw)
        request = {
          firewall: fw,
          apply: {
            state: desiredState(fw, o.cwnps.store.list(), o.services.store.list(), o.extraClusterPrefixes),
            dryRun: fw.spec?.dryRun ?? false,
            strict: false,
          },
        };
      let res: ApplyResponse;
      try {
        res = await o.service.apply(request.apply, signal);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        log.error({ err }, "Apply refused");
        o.onResult?.({ result: "refused", at: now });
        await writeProblem(now, `apply refused: ${message}`);
        throw err;
      }
      last = res;
      const result = {
        [ApplyOutcome.APPLY_OUTCOME_APPLIED]: "applied",
        [ApplyOutcome.APPLY_OUTCOME_UNCHANGED]: "unchanged",
        [ApplyOutcome.APPLY_OUTCOME_DRY_RUN]: "dry-run",
        [ApplyOutcome.APPLY_OUTCOME_ROLLED_BACK]: "rolled-back",
      }[res.outcome as number] as "applied" | "unchanged" | "dry-run" | "rolled-back";
      if (res.outcome === ApplyOutcome.APPLY_OUTCOME_ROLLED_BACK)
        log.error({ failure: res.failure, kept: res.activeChecksum }, "the ruleset was rolled back");
      else if (res.outcome !== ApplyOutcome.APPLY_OUTCOME_UNCHANGED)
        log.info({ outcome: result, checksum: res.checksum, warnings: res.warnings }, "ruleset");
      await writeStatuses(res, signal);
      const counters = await o.service.listCounters({}, signal).then(
        (c) => c.counters,
        () => [],
      );
      await writeMonitor(
        controllerStatus({
          controllerVersion: o.controllerVersion,
          now,
          lastRunAgainstSeed,
          apply: res,
          counters,
        }),
        res,
      );
      o.onResult?.({ result, at: now });
      return { requeueAfterMs };
    },
  };
}

import type { KubeObject } from "./types.js";

/** Gardener's lastOperation types the generic reconciler uses. */
export type OperationType = "Create" | "Reconcile" | "Delete";
export type OperationState = "Processing" | "Error" | "Succeeded";

/** What the reconciler reports about one step of an operation. */
export interface OperationReport {
  type: OperationType;
  state: OperationState;
  description: string;
  /** metadata.generation the operation worked on (written as observedGeneration on Error/Succeeded). */
  generation: number | undefined;
  /** Extra status fields the actuator returned, merged on Succeeded (e.g. providerStatus). */
  extra?: Record<string, unknown>;
}

/**
 * How a kind records progress in its status. `write` edits a copy of `status` in place; the reconciler
 * sends the difference to the status subresource.
 */
export interface StatusWriter {
  /** The operation type a reconcile (not a deletion) of this object is: Create the first time. */
  operationType(obj: KubeObject): Exclude<OperationType, "Delete">;
  /** True when the status already reports success for the object's current generation. */
  isUpToDate(obj: KubeObject): boolean;
  write(status: Record<string, unknown>, report: OperationReport, now: Date): void;
}

/** Kubernetes timestamps are RFC 3339 with second precision. */
export function kubeTime(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

const progressOf = { Processing: 1, Error: 50, Succeeded: 100 } as const;

/**
 * Gardener extension resources: `status.lastOperation` {type, state, description, lastUpdateTime,
 * progress}, `status.lastError` {description, lastUpdateTime} while failing, and
 * `status.observedGeneration`, exactly as gardener/extensions' status updater writes them.
 */
export const lastOperationStatus: StatusWriter = {
  operationType(obj) {
    // As Gardener's ComputeOperationType: a Create stays a Create until it has succeeded once.
    const last = obj.status?.lastOperation;
    if (!last) return "Create";
    return last.type === "Create" && last.state !== "Succeeded" ? "Create" : "Reconcile";
  },
  isUpToDate(obj) {
    const s = obj.status;
    return (
      s?.lastOperation?.state === "Succeeded" &&
      s.lastOperation.type !== "Delete" &&
      s.observedGeneration === obj.metadata.generation
    );
  },
  write(status, r, now) {
    const t = kubeTime(now);
    status.lastOperation = {
      type: r.type,
      state: r.state,
      description: r.description,
      lastUpdateTime: t,
      progress: progressOf[r.state],
    };
    if (r.state === "Error") status.lastError = { description: r.description, lastUpdateTime: t };
    if (r.state === "Succeeded") {
      delete status.lastError;
      Object.assign(status, r.extra ?? {});
    }
    if (r.state !== "Processing" && r.generation !== undefined) status.observedGeneration = r.generation;
  },
};

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/**
 * Kinds that report through `status.conditions` (metav1.Condition) and `status.observedGeneration`: one
 * condition (`Ready` by default) is True on success, False with reason Error on failure, and Unknown with
 * reason Processing while work is under way; a resync of an object that is already Ready for its
 * generation leaves it True so the condition does not flap. lastTransitionTime moves only when the
 * condition's status changes.
 */
export function conditionsStatus(conditionType = "Ready"): StatusWriter {
  const find = (obj: KubeObject): Condition | undefined =>
    (obj.status?.conditions as Condition[] | undefined)?.find((c) => c.type === conditionType);
  return {
    operationType(obj) {
      return obj.status?.observedGeneration === undefined ? "Create" : "Reconcile";
    },
    isUpToDate(obj) {
      const c = find(obj);
      return c?.status === "True" && obj.status?.observedGeneration === obj.metadata.generation;
    },
    write(status, r, now) {
      const conditions = [...((status.conditions as Condition[] | undefined) ?? [])];
      const i = conditions.findIndex((c) => c.type === conditionType);
      const old = i >= 0 ? conditions[i] : undefined;
      if (r.state === "Processing" && old?.status === "True" && old.observedGeneration === r.generation)
        return;
      const value = r.state === "Succeeded" ? "True" : r.state === "Error" ? "False" : "Unknown";
      const reason =
        r.state === "Succeeded"
          ? `${r.type}Succeeded`
          : r.state === "Error"
            ? `${r.type}Failed`
            : "Processing";
      const next: Condition = {
        type: conditionType,
        status: value,
        lastTransitionTime: old && old.status === value ? old.lastTransitionTime : kubeTime(now),
        reason,
        message: r.description,
      };
      if (r.generation !== undefined) next.observedGeneration = r.generation;
      if (i >= 0) conditions[i] = next;
      else conditions.push(next);
      status.conditions = conditions;
      if (r.state === "Succeeded") Object.assign(status, r.extra ?? {});
      if (r.state !== "Processing" && r.generation !== undefined) status.observedGeneration = r.generation;
    },
  };
}

/** No status writes: for kinds whose status belongs to someone else. */
export const noStatus: StatusWriter = {
  operationType: () => "Reconcile",
  isUpToDate: () => false,
  write() {},
};

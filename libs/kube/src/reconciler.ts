import { createLogger, type Logger } from "@metal-kube/logging";
import type { EventRecorder, EventType } from "./event-recorder.js";
import { addFinalizer, hasFinalizer, removeFinalizer } from "./finalizers.js";
import { isNotFound, KubeError } from "./kube-error.js";
import type { KubeMetrics } from "./metrics.js";
import {
  conditionsStatus,
  lastOperationStatus,
  noStatus,
  type OperationReport,
  type OperationState,
  type OperationType,
  type StatusWriter,
} from "./operation-status.js";
import { parseOptions } from "./parse-options.js";
import { mutateWithRetry } from "./patch.js";
import { isRequeueAfterError } from "./requeue-after-error.js";
import type { ResourceClient } from "./resource-client.js";
import { type KubeObject, objectKey } from "./types.js";
import type { QueueResult } from "./work-queue.js";

/** Gardener's operation annotation: `reconcile` asks for a reconcile and is removed once taken up. */
export const OPERATION_ANNOTATION = "gardener.cloud/operation";

export interface ActuatorContext<T extends KubeObject> {
  operation: OperationType;
  /** Aborted when the controller stops or loses leadership: stop work and do not write any more. */
  signal: AbortSignal;
  logger: Logger;
  client: ResourceClient<T>;
  /** Records a Kubernetes Event on the object (in the background). */
  event(type: EventType, reason: string, message: string): void;
  /** Writes a Processing status with this description, for long operations. */
  progress(description: string): Promise<void>;
}

export interface ActuatorResult {
  /** Reconcile again after this long (success, periodic re-check). */
  requeueAfterMs?: number;
  /** Status fields merged into the Succeeded status write (e.g. `providerStatus`, `nodesCIDR`). */
  status?: Record<string, unknown>;
}

/**
 * The per-kind part of a controller, as in Gardener's extension library. Both methods are idempotent:
 * they run again after failures, restarts and resyncs. Throw RequeueAfterError to wait without failing.
 */
export interface Actuator<T extends KubeObject> {
  /** Makes the world match the object. */
  // biome-ignore lint/suspicious/noConfusingVoidType: lets actuators with nothing to report just return
  reconcile(obj: T, ctx: ActuatorContext<T>): Promise<ActuatorResult | undefined | void>;
  /** Removes what reconcile made; resolve only when it is gone (the finalizer is removed afterwards). */
  delete(obj: T, ctx: ActuatorContext<T>): Promise<void>;
}

export type StatusStyle = "lastOperation" | "conditions" | "none" | StatusWriter;

export interface ReconcilerOptions<T extends KubeObject> {
  client: ResourceClient<T>;
  actuator: Actuator<T>;
  /** Finalizer this controller owns, e.g. `extensions.gardener.cloud/metal`. */
  finalizer: string;
  /** How the kind reports progress; default `lastOperation` (Gardener extension resources). */
  status?: StatusStyle;
  /** Condition type for `status: "conditions"`. */
  conditionType?: string;
  /** Write a Processing status before calling the actuator (default true). */
  reportProcessing?: boolean;
  /**
   * Write Processing only once the operation has run this long (default 0: at once, as Gardener does).
   * A reconcile that finishes sooner goes straight to Succeeded, which saves one write per object.
   */
  processingDelayMs?: number;
  /** The kind lacks a status subresource: status is written through the main resource. */
  statusSubresource?: boolean;
  events?: EventRecorder;
  logger?: Logger;
  metrics?: KubeMetrics;
}

/** Runs one reconcile of one object (undefined when it is gone) and says when to come back. */
export interface Reconciler<T extends KubeObject> {
  readonly kind: string;
  reconcile(obj: T | undefined, signal: AbortSignal): Promise<QueueResult>;
}

function statusWriterFor(style: StatusStyle, conditionType: string | undefined): StatusWriter {
  if (typeof style === "object") return style;
  if (style === "lastOperation") return lastOperationStatus;
  if (style === "conditions") return conditionsStatus(conditionType);
  return noStatus;
}

const describeError = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * The generic reconciler of Gardener's extension library: gone = done; a deleting object with our
 * finalizer goes to `actuator.delete` and loses the finalizer once that succeeded; otherwise the finalizer
 * is ensured, status goes Processing, `actuator.reconcile` runs, and status goes Succeeded (with
 * observedGeneration) or Error (and the failure is re-thrown so the queue backs off). Every status change
 * of note is also an Event.
 */
export function createReconciler<T extends KubeObject>(options: ReconcilerOptions<T>): Reconciler<T> {
  const o = parseOptions(
    { reportProcessing: true, processingDelayMs: 0, statusSubresource: true },
    options,
    "ReconcilerOptions",
  );
  if (!o.finalizer) throw new TypeError("ReconcilerOptions.finalizer: must not be empty");
  const client = o.client;
  const writer = statusWriterFor(o.status ?? "lastOperation", o.conditionType);
  const kind = client.resource.kind ?? client.resource.plural;
  const baseLog = (o.logger ?? createLogger({ name: "kube" })).child({ kind });
  const subresource = o.statusSubresource ? "status" : undefined;

  async function writeStatus(obj: T, report: OperationReport, signal: AbortSignal): Promise<T> {
    if (writer === noStatus) return obj;
    signal.throwIfAborted();
    const now = new Date();
    return mutateWithRetry(
      client,
      { name: obj.metadata.name ?? "", namespace: obj.metadata.namespace },
      (copy) => {
        const c = copy as KubeObject;
        c.status ??= {};
        const status = c.status as Record<string, unknown>;
        writer.write(status, report, now);
      },
      { current: obj, subresource },
    );
  }

  function observe(op: OperationType, result: "success" | "error" | "requeue", started: number) {
    o.metrics?.reconcileDuration.observe(
      { kind, operation: op, result },
      (performance.now() - started) / 1000,
    );
    if (result === "error") o.metrics?.reconcileErrors.inc({ kind, operation: op });
  }

  async function run(obj: T, signal: AbortSignal): Promise<QueueResult> {
    const started = performance.now();
    const key = objectKey(obj);
    const deleting = Boolean(obj.metadata.deletionTimestamp);
    if (deleting && !hasFinalizer(obj, o.finalizer)) return undefined;
    const op: OperationType = deleting ? "Delete" : writer.operationType(obj);
    const log = baseLog.child({ key, operation: op, generation: obj.metadata.generation });
    const generation = obj.metadata.generation;
    const wasUpToDate = writer.isUpToDate(obj);
    let current = obj;
    // Status writes of one reconcile run one after the other (a delayed Processing write, progress
    // reports and the final write must not race each other).
    let writes: Promise<unknown> = Promise.resolve();
    const report = (state: OperationState, description: string, extra?: Record<string, unknown>) => {
      const p = writes.then(async () => {
        current = await writeStatus(current, { type: op, state, description, generation, extra }, signal);
      });
      writes = p.catch(() => {});
      return p;
    };
    let processingTimer: NodeJS.Timeout | undefined;
    const startProcessing = async () => {
      if (!o.reportProcessing) return;
      const description = `${op} of the ${kind} in progress`;
      if (o.processingDelayMs <= 0) return report("Processing", description);
      processingTimer = setTimeout(() => {
        report("Processing", description).catch((e) =>
          log.warn({ err: describeError(e) }, "could not write the Processing status"),
        );
      }, o.processingDelayMs);
    };
    const event = (type: EventType, reason: string, message: string) =>
      o.events?.event(current, type, reason, message);
    const ctx: ActuatorContext<T> = {
      operation: op,
      signal,
      logger: log,
      client,
      event,
      progress: (d) => report("Processing", d),
    };
    const noun = kind;
    try {
      if (!deleting) {
        // Ensure the finalizer before any external work, and take up Gardener's operation annotation.
        const annotated = obj.metadata.annotations?.[OPERATION_ANNOTATION] === "reconcile";
        signal.throwIfAborted();
        current = await addFinalizer(
          client,
          current,
          o.finalizer,
          annotated
            ? (c) => {
                if (c.metadata.annotations?.[OPERATION_ANNOTATION] === "reconcile") {
                  delete c.metadata.annotations[OPERATION_ANNOTATION];
                }
              }
            : undefined,
        );
      }
      await startProcessing();
      signal.throwIfAborted();
      if (deleting) {
        await o.actuator.delete(current, ctx);
        clearTimeout(processingTimer);
        signal.throwIfAborted();
        await report("Succeeded", `${noun} deleted`);
        await removeFinalizer(client, current, o.finalizer);
        event("Normal", "DeleteSucceeded", `${noun} deleted`);
        log.info("deleted");
        observe(op, "success", started);
        return undefined;
      }
      const result = (await o.actuator.reconcile(current, ctx)) ?? {};
      clearTimeout(processingTimer);
      signal.throwIfAborted();
      await report("Succeeded", `${noun} ${op === "Create" ? "created" : "reconciled"}`, result.status);
      if (!wasUpToDate)
        event("Normal", `${op}Succeeded`, `${noun} ${op === "Create" ? "created" : "reconciled"}`);
      log.debug("reconciled");
      observe(op, "success", started);
      return result.requeueAfterMs !== undefined ? { requeueAfterMs: result.requeueAfterMs } : undefined;
    } catch (err) {
      // No Processing write may land after the outcome.
      clearTimeout(processingTimer);
      if (signal.aborted) throw err;
      if (isSelfNotFound(err, obj)) {
        // The object vanished under us (deleted, finalizer removed by someone): gone = done.
        observe(op, "success", started);
        return undefined;
      }
      if (isRequeueAfterError(err)) {
        log.info({ requeueAfterMs: err.requeueAfterMs, reason: err.message }, "waiting; will retry");
        await report("Processing", err.message).catch((e) =>
          log.warn({ err: describeError(e) }, "status write failed"),
        );
        event("Normal", "Waiting", err.message);
        observe(op, "requeue", started);
        return { requeueAfterMs: err.requeueAfterMs };
      }
      const message = describeError(err);
      log.warn({ err: message }, `${op} failed`);
      observe(op, "error", started);
      event("Warning", `${op}Failed`, message);
      await report("Error", `${op} of the ${noun} failed: ${message}`).catch((e) =>
        log.warn({ err: describeError(e) }, "could not write the Error status"),
      );
      throw err;
    } finally {
      clearTimeout(processingTimer);
    }
  }

  /** A 404 from writing this very object, not from something the actuator called. */
  const isSelfNotFound = (err: unknown, obj: T) =>
    isNotFound(err) &&
    err instanceof KubeError &&
    err.target.group === client.resource.group &&
    err.target.resource.split("/")[0] === client.resource.plural &&
    err.target.name === obj.metadata.name &&
    err.target.namespace === obj.metadata.namespace;

  return {
    kind,
    async reconcile(obj, signal) {
      // Gone = done: nothing to clean up that a finalizer would not have kept alive.
      if (!obj) return undefined;
      return run(obj, signal);
    },
  };
}

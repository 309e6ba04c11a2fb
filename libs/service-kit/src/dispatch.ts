import { randomUUID } from "node:crypto";
import { type handleUnaryCall, Metadata, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { type Logger, redactSecrets } from "@metal-kube/logging";
import type { CallContext, Interceptor, UnaryHandler } from "./call-context.js";
import type { RpcMetrics } from "./metrics.js";
import { Code, codeName, type ErrorMapper, ServiceError, toServiceError } from "./service-error.js";

export interface DispatchOptions {
  logger: Logger;
  metrics: RpcMetrics;
  interceptors: readonly Interceptor[];
  errorMappers: readonly ErrorMapper[];
  /** Extra field names masked in debug-level bodies. */
  secretFields: ReadonlySet<string>;
  /** Counts calls in flight so shutdown can wait for them. */
  inflight: { count: number; idle: () => void };
}

/** grpc-js deadline (Date | number, Infinity when unset) as a Date or undefined. */
function deadlineOf(call: ServerUnaryCall<unknown, unknown>): Date | undefined {
  const d = call.getDeadline();
  if (d instanceof Date) return d;
  return Number.isFinite(d) ? new Date(d) : undefined;
}

/**
 * A caller whose deadline passes cancels the stream on its own clock, which runs ahead of ours by the
 * request's transit time (tens of ms on a loaded host). A cancellation this close to our deadline is
 * the deadline, not a caller changing its mind.
 */
function deadlineSlackMs(budgetMs: number): number {
  return Math.max(20, budgetMs * 0.1);
}

/**
 * One call's context. A class, not an object literal: a literal with getters made per call gets a map
 * of its own in V8's old space, which made every scavenge of a busy server promote megabytes (the kit
 * measured 15% slower than bare grpc-js until this). The signal, its controller, the cancel listener
 * and the deadline timer are made only when the handler reads ctx.signal or a deadline is set; a
 * cancel nobody listened for is still read from call.cancelled when the call ends.
 */
class UnaryCallContext implements CallContext {
  readonly deadline: Date | undefined;
  readonly peer: string;
  #controller: AbortController | undefined;
  #reason: ServiceError | undefined;
  #onCancel: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #slack: number;

  constructor(
    readonly method: string,
    private readonly call: ServerUnaryCall<unknown, unknown>,
    private readonly baseLogger: Logger,
  ) {
    this.deadline = deadlineOf(call);
    this.peer = call.getPeer();
    this.#slack = 0;
    if (this.deadline) {
      const ms = this.deadline.getTime() - Date.now();
      // A cancellation this close to our deadline is the deadline (see deadlineSlackMs).
      this.#slack = deadlineSlackMs(ms);
      this.#timer = setTimeout(
        () => this.#abort(ServiceError.deadlineExceeded("deadline exceeded")),
        Math.max(0, ms),
      );
    }
  }

  get metadata(): Metadata {
    return this.call.metadata;
  }

  get logger(): Logger {
    return this.baseLogger.child({ method: this.method });
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.call.cancelled) this.#abort(this.#cancelReason());
      else {
        this.#onCancel = () => this.#abort(this.#cancelReason());
        this.call.once("cancelled", this.#onCancel);
      }
    }
    return this.#controller.signal;
  }

  /** Stops the timer and the listener; the call is answered. */
  end(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#onCancel) this.call.removeListener("cancelled", this.#onCancel);
  }

  /** Why the call ended early (deadline or cancel), read once the handler has settled. */
  endReason(): ServiceError | undefined {
    if (!this.#reason && this.call.cancelled) this.#reason = this.#cancelReason();
    return this.#reason;
  }

  #abort(reason: ServiceError): void {
    this.#reason ??= reason;
    this.#controller ??= new AbortController();
    this.#controller.abort(this.#reason);
  }

  #cancelReason(): ServiceError {
    return this.deadline && Date.now() >= this.deadline.getTime() - this.#slack
      ? ServiceError.deadlineExceeded("deadline exceeded")
      : new ServiceError(Code.CANCELLED, "call cancelled by the caller");
  }
}

/**
 * Adapts an async handler to grpc-js: applies interceptors, aborts the handler's signal on cancel or
 * deadline, maps errors to codes, and writes one log line plus metrics per call.
 */
export function dispatchUnary(
  method: string,
  handler: UnaryHandler<unknown, unknown>,
  o: DispatchOptions,
): handleUnaryCall<unknown, unknown> {
  const wrapped = o.interceptors.reduceRight<UnaryHandler<unknown, unknown>>((next, ic) => ic(next), handler);
  const recorder = o.metrics.method(method);
  const debug = o.logger.isLevelEnabled("debug");
  // The call line holds only fields built here (bodies pass redactSecrets first), so pino's path redaction,
  // which costs more than the rest of the line, is skipped for it. Failures with a cause keep it.
  const callLog = o.logger.child({}, { redact: { paths: [] } });

  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const start = performance.now();
    o.inflight.count++;
    const context = new UnaryCallContext(method, call, o.logger);

    const finish = (code: Code, response: unknown, err: ServiceError | undefined, ref?: string) => {
      context.end();
      const seconds = (performance.now() - start) / 1e3;
      const codeLabel = codeName(code);
      recorder.record(codeLabel, seconds);
      const line: Record<string, unknown> = {
        method,
        code: codeLabel,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        peer: context.peer,
      };
      if (debug) {
        line.request = redactSecrets(call.request, o.secretFields);
        if (response !== undefined) line.response = redactSecrets(response, o.secretFields);
      }
      if (err && code === Code.INTERNAL) {
        o.logger.error({ ...line, ref, err: err.cause ?? err }, "call failed");
      } else if (err) {
        callLog.info({ ...line, error: err.message }, "call");
      } else {
        callLog.info(line, "call");
      }
      if (--o.inflight.count === 0) o.inflight.idle();
    };

    // A signal aborted by the deadline surfaces as DEADLINE_EXCEEDED even when the handler ignores it.
    wrapped(call.request, context).then(
      (response) => {
        const reason = context.endReason();
        if (reason) {
          finish(reason.code, undefined, reason);
          callback({ code: reason.code, details: reason.message, metadata: new Metadata() });
          return;
        }
        finish(Code.OK, response, undefined);
        callback(null, response);
      },
      (thrown: unknown) => {
        const abortReason = context.endReason();
        let err = toServiceError(abortReason ? (thrown ?? abortReason) : thrown, o.errorMappers);
        if (err.code === Code.INTERNAL && abortReason) err = abortReason;
        // INTERNAL reaches the caller with a reference to its log line, never the cause.
        const ref = err.code === Code.INTERNAL ? randomUUID().slice(0, 8) : undefined;
        finish(err.code, undefined, err, ref);
        const details = ref
          ? `${err.exposeMessage ? err.message : "internal error"} (ref ${ref})`
          : err.message;
        callback({ code: err.code, details, metadata: new Metadata() });
      },
    );
  };
}

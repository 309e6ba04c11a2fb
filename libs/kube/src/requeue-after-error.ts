/**
 * Thrown by an actuator that cannot finish yet for an expected reason (waiting for another resource, an
 * IP still being allocated): the key is retried after `requeueAfterMs`, the status stays Processing with
 * the message, and it counts as neither error nor failure (no backoff, no error metric, no Warning).
 */
export class RequeueAfterError extends Error {
  override readonly name = "RequeueAfterError";
  readonly requeueAfterMs: number;
  constructor(requeueAfterMs: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    if (!Number.isFinite(requeueAfterMs) || requeueAfterMs < 0) {
      throw new TypeError(
        `RequeueAfterError: requeueAfterMs must be a non-negative number, got ${requeueAfterMs}`,
      );
    }
    this.requeueAfterMs = requeueAfterMs;
  }
}

export function isRequeueAfterError(err: unknown): err is RequeueAfterError {
  return err instanceof RequeueAfterError;
}

// One error type for every failed metal-api call: services map it to gRPC codes with the helpers.

export type MetalApiErrorKind = "http" | "timeout" | "aborted" | "connection" | "decode";

export interface MetalApiErrorInit {
  kind: MetalApiErrorKind;
  operation: string;
  /** HTTP status when a response arrived. */
  status?: number;
  /** metal-api's `message` from `{statuscode, message}`, or the raw body text. */
  metalMessage?: string;
  /** How many attempts were made. */
  attempts?: number;
  cause?: unknown;
}

const NO_MACHINE = /no machine.*available|no .*available machine/i;

export class MetalApiError extends Error {
  readonly kind: MetalApiErrorKind;
  /** The client operation, e.g. `machine.allocate`. */
  readonly operation: string;
  readonly status: number | undefined;
  readonly metalMessage: string | undefined;
  readonly attempts: number;

  constructor(init: MetalApiErrorInit) {
    const what =
      init.kind === "http"
        ? `HTTP ${init.status}: ${init.metalMessage ?? ""}`.trimEnd()
        : init.kind === "timeout"
          ? "timed out"
          : init.kind === "aborted"
            ? "aborted"
            : init.kind === "decode"
              ? `undecodable response (HTTP ${init.status})`
              : `connection failed: ${init.cause instanceof Error ? init.cause.message : String(init.cause)}`;
    super(
      `metal-api ${init.operation}: ${what}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = "MetalApiError";
    this.kind = init.kind;
    this.operation = init.operation;
    this.status = init.status;
    this.metalMessage = init.metalMessage;
    this.attempts = init.attempts ?? 1;
  }

  isNotFound(): boolean {
    return this.status === 404;
  }
  isConflict(): boolean {
    return this.status === 409;
  }
  isForbidden(): boolean {
    return this.status === 403;
  }
  isBadRequest(): boolean {
    return this.status === 400;
  }
  /** 422 "no machine available": the partition has no free machine of the size. */
  isNoMachineAvailable(): boolean {
    return this.status === 422 && NO_MACHINE.test(this.metalMessage ?? "");
  }
  /** No answer or a 5xx: the outcome of a write is unknown. */
  isUnavailable(): boolean {
    return (
      this.kind === "connection" ||
      this.kind === "timeout" ||
      (this.status !== undefined && this.status >= 500)
    );
  }
}

export const isMetalApiError = (e: unknown): e is MetalApiError => e instanceof MetalApiError;
export const isNotFound = (e: unknown): boolean => isMetalApiError(e) && e.isNotFound();
export const isConflict = (e: unknown): boolean => isMetalApiError(e) && e.isConflict();
export const isForbidden = (e: unknown): boolean => isMetalApiError(e) && e.isForbidden();
export const isBadRequest = (e: unknown): boolean => isMetalApiError(e) && e.isBadRequest();
export const isNoMachineAvailable = (e: unknown): boolean => isMetalApiError(e) && e.isNoMachineAvailable();

/** Thrown by createMetalApiClient for unusable options; names the option. */
export class MetalApiConfigError extends Error {
  readonly option: string;
  constructor(option: string, message: string) {
    super(`metal-api client option ${option}: ${message}`);
    this.name = "MetalApiConfigError";
    this.option = option;
  }
}

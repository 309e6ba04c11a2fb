import { status } from "@grpc/grpc-js";

export type Code = status;
export const Code = status;

export interface ServiceErrorOptions {
  /** The underlying error: logged, never sent to the caller. */
  cause?: unknown;
  /** The request field at fault (INVALID_ARGUMENT); prefixed to the message. */
  field?: string;
  /**
   * INTERNAL only: the message is safe for the caller (e.g. an upstream API's own error text) and is sent
   * with the log reference instead of a bare "internal error". The cause still stays in the log.
   */
  exposeMessage?: boolean;
}

/**
 * The one error type of every service. `message` is what the caller sees; `cause` stays in the logs.
 * Anything thrown that is not a ServiceError reaches the caller as INTERNAL without details.
 */
export class ServiceError extends Error {
  readonly code: Code;
  readonly field: string | undefined;
  readonly exposeMessage: boolean;

  constructor(code: Code, message: string, options: ServiceErrorOptions = {}) {
    super(options.field ? `${options.field}: ${message}` : message, { cause: options.cause });
    this.name = "ServiceError";
    this.code = code;
    this.field = options.field;
    this.exposeMessage = options.exposeMessage ?? false;
  }

  static invalidArgument(field: string, message: string, cause?: unknown): ServiceError {
    return new ServiceError(Code.INVALID_ARGUMENT, message, { field, cause });
  }
  static notFound(message: string, cause?: unknown): ServiceError {
    return new ServiceError(Code.NOT_FOUND, message, { cause });
  }
  static alreadyExists(message: string, cause?: unknown): ServiceError {
    return new ServiceError(Code.ALREADY_EXISTS, message, { cause });
  }
  static failedPrecondition(message: string, cause?: unknown): ServiceError {
    return new ServiceError(Code.FAILED_PRECONDITION, message, { cause });
  }
  static permissionDenied(message: string, cause?: unknown): ServiceError {
    return new ServiceError(Code.PERMISSION_DENIED, message, { cause });
  }
  static resourceExhausted(message: string, cause?: unknown): ServiceError {
    return new ServiceError(Code.RESOURCE_EXHAUSTED, message, { cause });
  }
  static aborted(message: string, cause?: unknown): ServiceError {
    return new ServiceError(Code.ABORTED, message, { cause });
  }
  static unavailable(message: string, cause?: unknown): ServiceError {
    return new ServiceError(Code.UNAVAILABLE, message, { cause });
  }
  static deadlineExceeded(message: string, cause?: unknown): ServiceError {
    return new ServiceError(Code.DEADLINE_EXCEEDED, message, { cause });
  }
  static unimplemented(message: string): ServiceError {
    return new ServiceError(Code.UNIMPLEMENTED, message);
  }
  static internal(message: string, cause?: unknown): ServiceError {
    return new ServiceError(Code.INTERNAL, message, { cause });
  }
  /** INTERNAL whose message the caller sees, for failures described by a dependency in its own words. */
  static internalWithMessage(message: string, cause?: unknown): ServiceError {
    return new ServiceError(Code.INTERNAL, message, { cause, exposeMessage: true });
  }
}

/** Turns a thrown value into a ServiceError, or undefined when this mapper does not know it. */
export type ErrorMapper = (err: unknown) => ServiceError | undefined;

/** Maps any thrown value with the given mappers; unknown errors become INTERNAL with the cause kept. */
export function toServiceError(err: unknown, mappers: readonly ErrorMapper[] = []): ServiceError {
  if (err instanceof ServiceError) return err;
  for (const map of mappers) {
    const mapped = map(err);
    if (mapped) return mapped;
  }
  if (err instanceof Error && err.name === "AbortError")
    return new ServiceError(Code.CANCELLED, "call cancelled", { cause: err });
  return ServiceError.internal("internal error", err);
}

/** Upper-case gRPC code name, e.g. RESOURCE_EXHAUSTED, for logs and metric labels. */
export function codeName(code: Code): string {
  return Code[code] ?? String(code);
}

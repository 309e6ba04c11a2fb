// metal-api failures -> the gRPC codes MCM acts on (anchors §1): RESOURCE_EXHAUSTED makes MCM and the
// cluster-autoscaler back off, UNAVAILABLE/ABORTED make MCM retry in seconds.

import { isMetalApiError, type MetalApiError } from "@metal-kube/metal-api";
import { type ErrorMapper, ServiceError } from "@metal-kube/service-kit";

/** The message the caller sees: metal-api's own words plus the operation, never credentials. */
function describe(err: MetalApiError): string {
  return err.message;
}

export function toDriverError(err: MetalApiError): ServiceError {
  if (err.kind === "aborted") {
    // The call's own signal fired; the kit answers with the signal's reason (CANCELLED or DEADLINE_EXCEEDED).
    return ServiceError.internal(describe(err), err);
  }
  if (err.kind === "timeout" || err.kind === "connection")
    return ServiceError.unavailable(describe(err), err);
  const status = err.status ?? 0;
  if (status === 422) return ServiceError.resourceExhausted(describe(err), err);
  if (status === 404) return ServiceError.notFound(describe(err), err);
  if (status === 403) return ServiceError.permissionDenied(describe(err), err);
  if (status === 409) return ServiceError.aborted(describe(err), err);
  if (status >= 500) return ServiceError.unavailable(describe(err), err);
  // The rest reaches MCM as INTERNAL with metal-api's own message (issue 5), plus the log reference.
  return ServiceError.internalWithMessage(describe(err), err);
}

/** Error mapper for the kit: any MetalApiError that escapes a handler. */
export const metalErrorMapper: ErrorMapper = (err) => (isMetalApiError(err) ? toDriverError(err) : undefined);

/** True for failures after which a write may or may not have happened (no answer, or a 5xx). */
export function outcomeUnknown(err: unknown): boolean {
  return isMetalApiError(err) && err.kind !== "aborted" && err.isUnavailable();
}

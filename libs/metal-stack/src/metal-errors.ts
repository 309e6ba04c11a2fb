// metal-api failures as the gRPC codes callers act on, one map for every service (anchors §1, §3):
// 422 (no machine available, quota, too many allocations) is RESOURCE_EXHAUSTED so MCM and the
// cluster-autoscaler back off; no answer or a 5xx is UNAVAILABLE and a conflict ABORTED so callers retry
// in seconds; metal-api's own message reaches the caller (it carries no credentials).

import { isMetalApiError, type MetalApiError } from "@metal-kube/metal-api";
import { type ErrorMapper, ServiceError } from "@metal-kube/service-kit";

export function metalApiErrorToServiceError(err: MetalApiError): ServiceError {
  // The call's own signal fired: the kit answers with the signal's reason (CANCELLED or DEADLINE_EXCEEDED).
  if (err.kind === "aborted") return ServiceError.internal(err.message, err);
  if (err.kind === "timeout" || err.kind === "connection") return ServiceError.unavailable(err.message, err);
  const status = err.status ?? 0;
  if (status === 422) return ServiceError.resourceExhausted(err.message, err);
  if (status === 404) return ServiceError.notFound(err.message, err);
  if (status === 403) return ServiceError.permissionDenied(err.message, err);
  if (status === 409) return ServiceError.aborted(err.message, err);
  // metal-api refuses the request in the state things are in (e.g. freeing an IP a machine uses).
  if (status === 400) return ServiceError.failedPrecondition(err.message, err);
  if (status >= 500) return ServiceError.unavailable(err.message, err);
  return ServiceError.internalWithMessage(err.message, err);
}

/** The kit's error mapper for any MetalApiError that escapes a handler. */
export const metalErrorMapper: ErrorMapper = (err) =>
  isMetalApiError(err) ? metalApiErrorToServiceError(err) : undefined;

/** True for failures after which a write may or may not have happened (no answer, or a 5xx). */
export function outcomeUnknown(err: unknown): boolean {
  return isMetalApiError(err) && err.kind !== "aborted" && err.isUnavailable();
}

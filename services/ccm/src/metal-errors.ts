// metal-api failures -> gRPC codes the adapter (and any caller) can act on.

import { isMetalApiError, type MetalApiError } from "@metal-kube/metal-api";
import { Code, type ErrorMapper, ServiceError } from "@metal-kube/service-kit";

export function toCcmError(err: MetalApiError): ServiceError {
  if (err.kind === "aborted") return ServiceError.internal(err.message, err);
  if (err.kind === "timeout" || err.kind === "connection") return ServiceError.unavailable(err.message, err);
  const status = err.status ?? 0;
  if (status === 422) return ServiceError.resourceExhausted(err.message, err);
  if (status === 404) return ServiceError.notFound(err.message, err);
  if (status === 403) return ServiceError.permissionDenied(err.message, err);
  if (status === 409) return ServiceError.aborted(err.message, err);
  if (status === 400) return ServiceError.failedPrecondition(err.message, err);
  if (status >= 500) return ServiceError.unavailable(err.message, err);
  return new ServiceError(Code.INTERNAL, err.message, { cause: err });
}

export const metalErrorMapper: ErrorMapper = (err) => (isMetalApiError(err) ? toCcmError(err) : undefined);

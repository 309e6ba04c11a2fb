// Translations between the service's answers and AdmissionReview responses.

import { status } from "@grpc/grpc-js";
import { type FieldError, FieldErrorType } from "@metal-kube/proto/metalstack/extension/v1/admission";
import {
  type AdmissionResponse,
  allow,
  denyError,
  denyInvalid,
  type StatusCause,
} from "./admission-review.js";
import { ExtensionCallError } from "./grpc-client.js";

/** Kubernetes' StatusCause types for field errors (metav1.CauseType). */
const CAUSE: Record<number, string> = {
  [FieldErrorType.FIELD_ERROR_TYPE_REQUIRED]: "FieldValueRequired",
  [FieldErrorType.FIELD_ERROR_TYPE_INVALID]: "FieldValueInvalid",
  [FieldErrorType.FIELD_ERROR_TYPE_FORBIDDEN]: "FieldValueForbidden",
  [FieldErrorType.FIELD_ERROR_TYPE_NOT_SUPPORTED]: "FieldValueNotSupported",
  [FieldErrorType.FIELD_ERROR_TYPE_DUPLICATE]: "FieldValueDuplicate",
};

export function verdictResponse(
  uid: string,
  v: { allowed: boolean; errors: FieldError[]; message: string },
): AdmissionResponse {
  if (v.allowed) return allow(uid);
  const causes: StatusCause[] = v.errors.map((e) => ({
    type: CAUSE[e.type] ?? "FieldValueInvalid",
    message: e.message,
    field: e.field,
  }));
  return denyInvalid(uid, v.message, causes);
}

/**
 * A failure to decide is a refusal, never an accidental "allowed": the apiserver shows this message
 * with the webhook's name, and with failurePolicy Fail the object is not stored.
 */
export function failureResponse(uid: string, err: unknown): AdmissionResponse {
  if (err instanceof ExtensionCallError) {
    if (err.code === status.INVALID_ARGUMENT)
      return denyError(uid, 400, `extension service refused the request: ${err.details}`);
    const unreachable = err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED;
    return denyError(
      uid,
      unreachable ? 503 : 500,
      `${unreachable ? "extension service unreachable" : "extension service failed"} (${err.method}: ${status[err.code]}): ${err.details}`,
    );
  }
  return denyError(uid, 500, `extension webhook failed: ${err instanceof Error ? err.message : String(err)}`);
}

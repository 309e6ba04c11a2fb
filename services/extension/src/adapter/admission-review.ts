// AdmissionReview (admission.k8s.io/v1): the request the apiserver posts to a webhook and the answer it
// expects back.

export const ADMISSION_REVIEW_API_VERSIONS = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"];

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource?: { group: string; version: string; resource: string };
  name?: string;
  namespace?: string;
  operation: Operation;
  object?: Record<string, unknown> | null;
  oldObject?: Record<string, unknown> | null;
  dryRun?: boolean;
}

export interface StatusCause {
  type: string;
  message: string;
  field: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: {
    apiVersion?: string;
    kind?: string;
    status: "Failure";
    code: number;
    reason?: string;
    message: string;
    details?: { causes: StatusCause[] };
  };
  patchType?: "JSONPatch";
  /** base64 of the RFC 6902 patch. */
  patch?: string;
  warnings?: string[];
}

export class BadReviewError extends Error {
  override name = "BadReviewError";
}

/** The request of an AdmissionReview body, or BadReviewError saying what is wrong with it. */
export function parseAdmissionReview(body: string): { apiVersion: string; request: AdmissionRequest } {
  let review: unknown;
  try {
    review = JSON.parse(body);
  } catch (err) {
    throw new BadReviewError(`body is not JSON: ${(err as Error).message}`);
  }
  const r = review as { apiVersion?: unknown; kind?: unknown; request?: Partial<AdmissionRequest> };
  if (typeof r !== "object" || r === null || r.kind !== "AdmissionReview")
    throw new BadReviewError("body is not an AdmissionReview");
  const apiVersion = typeof r.apiVersion === "string" ? r.apiVersion : "";
  if (!ADMISSION_REVIEW_API_VERSIONS.includes(apiVersion))
    throw new BadReviewError(
      `apiVersion must be one of ${ADMISSION_REVIEW_API_VERSIONS.join(", ")}, not ${apiVersion || "(none)"}`,
    );
  const req = r.request;
  if (!req || typeof req !== "object") throw new BadReviewError("request is missing");
  if (typeof req.uid !== "string" || req.uid === "") throw new BadReviewError("request.uid is missing");
  if (!req.kind || typeof req.kind.kind !== "string") throw new BadReviewError("request.kind is missing");
  if (typeof req.operation !== "string") throw new BadReviewError("request.operation is missing");
  return { apiVersion, request: req as AdmissionRequest };
}

export function reviewBody(apiVersion: string, response: AdmissionResponse): string {
  return JSON.stringify({ apiVersion, kind: "AdmissionReview", response });
}

export const allow = (uid: string, warnings?: string[]): AdmissionResponse => ({
  uid,
  allowed: true,
  ...(warnings && warnings.length > 0 ? { warnings } : {}),
});

/** A refusal as Kubernetes' field errors give it: 422 Invalid with one cause per field. */
export function denyInvalid(uid: string, message: string, causes: StatusCause[]): AdmissionResponse {
  return {
    uid,
    allowed: false,
    status: { status: "Failure", code: 422, reason: "Invalid", message, details: { causes } },
  };
}

/** A refusal for any other reason: the webhook could not decide, so the object is not let through. */
export function denyError(uid: string, code: number, message: string): AdmissionResponse {
  return {
    uid,
    allowed: false,
    status: { status: "Failure", code, reason: code >= 500 ? "InternalError" : "BadRequest", message },
  };
}

/** Allowed with a JSON patch, unless the patch is empty. */
export function allowPatched(uid: string, patch: Uint8Array): AdmissionResponse {
  const text = Buffer.from(patch).toString("utf8").trim();
  if (text === "" || text === "[]") return allow(uid);
  return { uid, allowed: true, patchType: "JSONPatch", patch: Buffer.from(patch).toString("base64") };
}

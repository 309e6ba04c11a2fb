import { ServiceError } from "@metal-kube/service-kit";
import { at, isObject, type JsonObject, obj, str } from "./json.js";

export const CORE_API_VERSION = "core.gardener.cloud/v1beta1";
export const SECURITY_API_VERSION = "security.gardener.cloud/v1alpha1";
export const EXTENSIONS_API_VERSION = "extensions.gardener.cloud/v1alpha1";

/** The provider type this extension serves. */
export const PROVIDER_TYPE = "metal";

export interface ObjectKind {
  apiVersion: string;
  kind: string;
}

/**
 * Parses a request field holding a Kubernetes object as JSON. An empty field gives undefined when
 * `optional`; anything unreadable, or an object of a kind not in `kinds`, is INVALID_ARGUMENT naming the
 * request field.
 */
export function parseObject(
  bytes: Uint8Array,
  field: string,
  kinds: readonly ObjectKind[],
  optional: true,
): JsonObject | undefined;
export function parseObject(
  bytes: Uint8Array,
  field: string,
  kinds: readonly ObjectKind[],
  optional?: false,
): JsonObject;
export function parseObject(
  bytes: Uint8Array,
  field: string,
  kinds: readonly ObjectKind[],
  optional = false,
): JsonObject | undefined {
  if (bytes.length === 0) {
    if (optional) return undefined;
    throw ServiceError.invalidArgument(
      field,
      `required: the ${kinds.map((k) => k.kind).join(" or ")} as JSON`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch (err) {
    throw ServiceError.invalidArgument(field, `not valid JSON: ${(err as Error).message}`, err);
  }
  if (!isObject(value)) throw ServiceError.invalidArgument(field, "not a JSON object");
  const apiVersion = str(value.apiVersion) ?? "";
  const kind = str(value.kind) ?? "";
  if (!kinds.some((k) => k.kind === kind && k.apiVersion === apiVersion)) {
    const want = kinds.map((k) => `${k.apiVersion} ${k.kind}`).join(" or ");
    throw ServiceError.invalidArgument(
      field,
      `must be ${want}, not ${apiVersion || "(no apiVersion)"} ${kind || "(no kind)"}`,
    );
  }
  return value;
}

export const SHOOT: ObjectKind = { apiVersion: CORE_API_VERSION, kind: "Shoot" };
export const CLOUD_PROFILE: ObjectKind = { apiVersion: CORE_API_VERSION, kind: "CloudProfile" };
export const NAMESPACED_CLOUD_PROFILE: ObjectKind = {
  apiVersion: CORE_API_VERSION,
  kind: "NamespacedCloudProfile",
};
export const SECRET_BINDING: ObjectKind = { apiVersion: CORE_API_VERSION, kind: "SecretBinding" };
export const CREDENTIALS_BINDING: ObjectKind = {
  apiVersion: SECURITY_API_VERSION,
  kind: "CredentialsBinding",
};
export const SECRET: ObjectKind = { apiVersion: "v1", kind: "Secret" };
export const DEPLOYMENT: ObjectKind = { apiVersion: "apps/v1", kind: "Deployment" };
export const CLUSTER: ObjectKind = { apiVersion: EXTENSIONS_API_VERSION, kind: "Cluster" };
export const INFRASTRUCTURE: ObjectKind = { apiVersion: EXTENSIONS_API_VERSION, kind: "Infrastructure" };
export const OPERATING_SYSTEM_CONFIG: ObjectKind = {
  apiVersion: EXTENSIONS_API_VERSION,
  kind: "OperatingSystemConfig",
};

export const nameOf = (o: JsonObject): string => str(at(o, "metadata", "name")) ?? "";
export const namespaceOf = (o: JsonObject): string => str(at(o, "metadata", "namespace")) ?? "";
export const annotationsOf = (o: JsonObject): JsonObject => obj(at(o, "metadata", "annotations")) ?? {};
export const isDeleting = (o: JsonObject): boolean => at(o, "metadata", "deletionTimestamp") != null;

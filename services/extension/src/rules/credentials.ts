import type { FieldError } from "@metal-kube/proto/metalstack/extension/v1/admission";
import {
  FieldPath,
  fieldError,
  formatFieldErrors,
  normalizeErrors,
  type Verdict,
  verdict,
} from "../field-errors.js";
import { at, isObject, type JsonObject, obj, str } from "../gardener/json.js";
import { CREDENTIALS_BINDING, isDeleting, PROVIDER_TYPE } from "../gardener/objects.js";

/** The keys of a metal-api credentials Secret: a bearer token or an HMAC key, exactly one. */
export const API_KEY = "metalAPIKey";
export const API_HMAC = "metalAPIHMac";

const DATA = FieldPath.root().child("data");

/** A key's value in the Secret: `data` is base64 (as the apiserver sends it), `stringData` plain. */
function secretValue(secret: JsonObject, key: string): string {
  const plain = obj(secret.stringData)?.[key];
  if (typeof plain === "string" && plain !== "") return plain;
  const b64 = obj(secret.data)?.[key];
  return typeof b64 === "string" ? Buffer.from(b64, "base64").toString("utf8") : "";
}

const hasData = (secret: JsonObject) =>
  Object.keys(obj(secret.data) ?? {}).length > 0 || Object.keys(obj(secret.stringData) ?? {}).length > 0;

/** The Secret rule, paths rooted at the Secret. */
export function secretErrors(secret: JsonObject): FieldError[] {
  if (!hasData(secret)) return [fieldError.required(DATA, "secret does not contain any data")];
  const key = secretValue(secret, API_KEY) !== "";
  const hmac = secretValue(secret, API_HMAC) !== "";
  if (key && hmac)
    return [fieldError.forbidden(DATA, `either ${API_HMAC} or ${API_KEY} must be set, not both`)];
  if (!key && !hmac) return [fieldError.required(DATA, `either ${API_HMAC} or ${API_KEY} must be set`)];
  return [];
}

/** A Secret labelled as metal credentials; an update that leaves its data alone is not checked again. */
export function validateSecret(secret: JsonObject, old: JsonObject | undefined): Verdict {
  if (isDeleting(secret)) return verdict([]);
  if (
    old &&
    JSON.stringify(old.data ?? {}) === JSON.stringify(secret.data ?? {}) &&
    secret.stringData == null
  )
    return verdict([]);
  return verdict(secretErrors(secret));
}

/** The referenced Secret's problems as one error on the binding's reference field. */
function referencedSecretErrors(field: FieldPath, ref: string, secret: JsonObject | undefined): FieldError[] {
  if (!secret) return [fieldError.invalid(field, ref, `referenced secret ${ref} does not exist`)];
  const errors = normalizeErrors(secretErrors(secret));
  if (errors.length === 0) return [];
  return [
    fieldError.invalid(field, ref, `referenced secret ${ref} is not valid: ${formatFieldErrors(errors)}`),
  ];
}

/**
 * A SecretBinding (checked unless an update keeps its provider type) or a CredentialsBinding (checked on
 * create; it must reference a v1 Secret), together with the Secret it references.
 */
export function validateBinding(
  binding: JsonObject,
  old: JsonObject | undefined,
  secret: JsonObject | undefined,
): Verdict {
  if (isDeleting(binding)) return verdict([]);
  const providerType = str(at(binding, "provider", "type"));
  // A binding may serve several provider types ("metal,aws"): only metal ones are ours.
  if (
    providerType !== undefined &&
    !providerType
      .split(",")
      .map((t) => t.trim())
      .includes(PROVIDER_TYPE)
  )
    return verdict([]);
  if (binding.kind === CREDENTIALS_BINDING.kind) {
    if (old) return verdict([]);
    const ref = obj(binding.credentialsRef) ?? {};
    const field = FieldPath.root().child("credentialsRef");
    const apiVersion = str(ref.apiVersion) ?? "";
    const kind = str(ref.kind) ?? "";
    if (apiVersion !== "v1" || kind !== "Secret")
      return verdict([
        fieldError.invalid(
          field,
          { apiVersion, kind },
          `unsupported credentials reference: version ${JSON.stringify(apiVersion)}, kind ${JSON.stringify(kind)} (metal needs a v1 Secret)`,
        ),
      ]);
    return verdict(
      referencedSecretErrors(field, `${str(ref.namespace) ?? ""}/${str(ref.name) ?? ""}`, secret),
    );
  }
  if (old && isObject(old.provider) && str(at(old, "provider", "type")) === providerType) return verdict([]);
  const ref = obj(binding.secretRef) ?? {};
  const namespace = str(ref.namespace) || (str(at(binding, "metadata", "namespace")) ?? "");
  return verdict(
    referencedSecretErrors(
      FieldPath.root().child("secretRef"),
      `${namespace}/${str(ref.name) ?? ""}`,
      secret,
    ),
  );
}

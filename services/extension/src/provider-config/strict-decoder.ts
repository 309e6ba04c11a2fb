// Strict decoding of the provider configs, as Gardener's strict decoder does it: every key must be a
// field of the type (case-sensitive), every value of the field's type; null is the field's zero value.
// Unlike the reference, every problem is reported (not the first), each at its own path.
import type { FieldError } from "@metal-kube/proto/metalstack/extension/v1/admission";
import { FieldPath, fieldError } from "../field-errors.js";

export type Schema =
  | { kind: "string" }
  | { kind: "bool" }
  | { kind: "int"; min: number; max: number }
  | { kind: "duration" }
  | { kind: "array"; of: Schema }
  | { kind: "map"; of: Schema }
  | { kind: "object"; fields: Record<string, Field> };

export interface Field {
  schema: Schema;
  /** A pointer or omitempty field of Go: absent or null decodes to undefined instead of the zero value. */
  optional?: boolean;
}

export const s = {
  string: (): Schema => ({ kind: "string" }),
  bool: (): Schema => ({ kind: "bool" }),
  int32: (): Schema => ({ kind: "int", min: -(2 ** 31), max: 2 ** 31 - 1 }),
  uint32: (): Schema => ({ kind: "int", min: 0, max: 2 ** 32 - 1 }),
  duration: (): Schema => ({ kind: "duration" }),
  array: (of: Schema): Schema => ({ kind: "array", of }),
  map: (of: Schema): Schema => ({ kind: "map", of }),
  object: (fields: Record<string, Field | Schema>): Schema => ({
    kind: "object",
    fields: Object.fromEntries(
      Object.entries(fields).map(([k, f]) => [k, "schema" in f ? f : { schema: f }]),
    ),
  }),
  optional: (schema: Schema): Field => ({ schema, optional: true }),
};

/** Go's time.ParseDuration syntax (metav1.Duration), e.g. `20m`, `1h30m`, `1.5s`, `0`. */
const DURATION = /^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

function zero(schema: Schema): unknown {
  switch (schema.kind) {
    case "string":
    case "duration":
      return "";
    case "bool":
      return false;
    case "int":
      return 0;
    case "array":
      return [];
    case "map":
      return {};
    case "object":
      return decodeObject({}, schema, FieldPath.root(), []);
  }
}

/** Decodes `value` against `schema`; problems go to `errors` at their paths, and the zero value stands in. */
export function decode(value: unknown, schema: Schema, path: FieldPath, errors: FieldError[]): unknown {
  if (value === null || value === undefined) return zero(schema);
  switch (schema.kind) {
    case "string":
      if (typeof value === "string") return value;
      errors.push(fieldError.invalid(path, value, `must be a string, not ${describe(value)}`));
      return "";
    case "duration":
      if (typeof value === "string" && DURATION.test(value)) return value;
      errors.push(fieldError.invalid(path, value, "must be a duration such as 30s, 20m or 1h30m"));
      return "";
    case "bool":
      if (typeof value === "boolean") return value;
      errors.push(fieldError.invalid(path, value, `must be a boolean, not ${describe(value)}`));
      return false;
    case "int":
      if (typeof value === "number" && Number.isInteger(value) && value >= schema.min && value <= schema.max)
        return value;
      errors.push(fieldError.invalid(path, value, `must be an integer from ${schema.min} to ${schema.max}`));
      return 0;
    case "array":
      if (!Array.isArray(value)) {
        errors.push(fieldError.invalid(path, value, `must be a list, not ${describe(value)}`));
        return [];
      }
      return value.map((item, i) => decode(item, schema.of, path.index(i), errors));
    case "map": {
      if (!isPlainObject(value)) {
        errors.push(fieldError.invalid(path, value, `must be an object, not ${describe(value)}`));
        return {};
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = decode(v, schema.of, path.key(k), errors);
      return out;
    }
    case "object":
      if (!isPlainObject(value)) {
        errors.push(fieldError.invalid(path, value, `must be an object, not ${describe(value)}`));
        return zero(schema);
      }
      return decodeObject(value, schema, path, errors);
  }
}

function decodeObject(
  value: Record<string, unknown>,
  schema: Extract<Schema, { kind: "object" }>,
  path: FieldPath,
  errors: FieldError[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(schema.fields, key))
      errors.push(fieldError.invalid(path.child(key), value[key], unknownFieldMessage(key, schema)));
  }
  for (const [key, field] of Object.entries(schema.fields)) {
    const v = value[key];
    if (field.optional && (v === undefined || v === null)) continue;
    out[key] = decode(v, field.schema, path.child(key), errors);
  }
  return out;
}

function unknownFieldMessage(key: string, schema: Extract<Schema, { kind: "object" }>): string {
  const lower = key.toLowerCase();
  const near = Object.keys(schema.fields).find((f) => f.toLowerCase() === lower);
  return near ? `unknown field (did you mean ${JSON.stringify(near)}?)` : "unknown field";
}

export const PROVIDER_API_VERSION = "metal.provider.extensions.gardener.cloud/v1alpha1";

/**
 * Decodes a provider config object (an embedded RawExtension of a Gardener object): apiVersion and kind
 * must name the type, as the scheme-based decoder requires; the rest is decoded strictly. Returns
 * undefined with errors when the value is not an object at all.
 */
export function decodeProviderConfig<T>(
  raw: unknown,
  kind: string,
  schema: Extract<Schema, { kind: "object" }>,
  path: FieldPath,
  errors: FieldError[],
): T | undefined {
  if (!isPlainObject(raw)) {
    errors.push(fieldError.invalid(path, raw, `must be a ${kind} object, not ${describe(raw)}`));
    return undefined;
  }
  const { apiVersion, kind: gotKind, ...rest } = raw;
  if (apiVersion === undefined || apiVersion === "")
    errors.push(fieldError.required(path.child("apiVersion"), `must be ${PROVIDER_API_VERSION}`));
  else if (apiVersion !== PROVIDER_API_VERSION)
    errors.push(fieldError.notSupported(path.child("apiVersion"), apiVersion, [PROVIDER_API_VERSION]));
  if (gotKind === undefined || gotKind === "")
    errors.push(fieldError.required(path.child("kind"), `must be ${kind}`));
  else if (gotKind !== kind) errors.push(fieldError.notSupported(path.child("kind"), gotKind, [kind]));
  return decodeObject(rest, schema, path, errors) as T;
}

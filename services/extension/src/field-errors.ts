import { type FieldError, FieldErrorType } from "@metal-kube/proto/metalstack/extension/v1/admission";

/**
 * A field path as Kubernetes' field.Path prints it: `spec.provider.workers[2].machine.image`, map keys in
 * brackets (`metalControlPlanes[prod]`). Immutable: every step returns a new path.
 */
export class FieldPath {
  private constructor(private readonly text: string) {}

  static root(name = ""): FieldPath {
    return new FieldPath(name);
  }

  child(...names: string[]): FieldPath {
    let t = this.text;
    for (const n of names) t = t === "" ? n : `${t}.${n}`;
    return new FieldPath(t);
  }

  index(i: number): FieldPath {
    return new FieldPath(`${this.text}[${i}]`);
  }

  key(k: string): FieldPath {
    return new FieldPath(`${this.text}[${k}]`);
  }

  toString(): string {
    return this.text;
  }
}

type Where = FieldPath | string;

/** JSON text of a value for FieldError.value; undefined stays empty. */
export function jsonValue(value: unknown): string {
  if (value === undefined) return "";
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return String(value);
  }
}

const make = (type: FieldErrorType, field: Where, value: unknown, message: string): FieldError => ({
  field: String(field),
  type,
  value: jsonValue(value),
  message,
});

/** The five error types Gardener users see from kubectl, built as Kubernetes' field package does. */
export const fieldError = {
  required: (field: Where, message: string) =>
    make(FieldErrorType.FIELD_ERROR_TYPE_REQUIRED, field, undefined, message),
  invalid: (field: Where, value: unknown, message: string) =>
    make(FieldErrorType.FIELD_ERROR_TYPE_INVALID, field, value, message),
  forbidden: (field: Where, message: string) =>
    make(FieldErrorType.FIELD_ERROR_TYPE_FORBIDDEN, field, undefined, message),
  /** The detail lists the supported values, quoted and sorted, as kubectl shows them. */
  notSupported: (field: Where, value: unknown, supported: readonly string[]) =>
    make(FieldErrorType.FIELD_ERROR_TYPE_NOT_SUPPORTED, field, value, supportedValues(supported)),
  duplicate: (field: Where, value: unknown) =>
    make(FieldErrorType.FIELD_ERROR_TYPE_DUPLICATE, field, value, ""),
};

export function supportedValues(values: readonly string[]): string {
  const sorted = [...new Set(values)].sort();
  return sorted.length === 0
    ? "no values are supported"
    : `supported values: ${sorted.map((v) => JSON.stringify(v)).join(", ")}`;
}

const TYPE_TEXT: Record<number, string> = {
  [FieldErrorType.FIELD_ERROR_TYPE_REQUIRED]: "Required value",
  [FieldErrorType.FIELD_ERROR_TYPE_INVALID]: "Invalid value",
  [FieldErrorType.FIELD_ERROR_TYPE_FORBIDDEN]: "Forbidden",
  [FieldErrorType.FIELD_ERROR_TYPE_NOT_SUPPORTED]: "Unsupported value",
  [FieldErrorType.FIELD_ERROR_TYPE_DUPLICATE]: "Duplicate value",
};

/** One error as Kubernetes' field.Error prints it: `<field>: <Type>[: <value>][: <detail>]`. */
export function formatFieldError(e: FieldError): string {
  const type = TYPE_TEXT[e.type] ?? "Invalid value";
  const withValue =
    e.type !== FieldErrorType.FIELD_ERROR_TYPE_REQUIRED &&
    e.type !== FieldErrorType.FIELD_ERROR_TYPE_FORBIDDEN;
  let body = withValue ? `${type}: ${e.value === "" ? "null" : e.value}` : type;
  if (e.message) body += `: ${e.message}`;
  return e.field ? `${e.field}: ${body}` : body;
}

/** Several errors as Kubernetes aggregates them: one alone, more as `[a, b]`. */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  if (errors.length === 0) return "";
  if (errors.length === 1) return formatFieldError(errors[0] as FieldError);
  return `[${errors.map(formatFieldError).join(", ")}]`;
}

/** Sorted by field, then type, then value and message; exact duplicates removed. */
export function normalizeErrors(errors: readonly FieldError[]): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of errors) {
    const key = `${e.field}\u0000${e.type}\u0000${e.value}\u0000${e.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out.sort(
    (a, b) => cmp(a.field, b.field) || a.type - b.type || cmp(a.value, b.value) || cmp(a.message, b.message),
  );
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A verdict as every validating RPC answers it. */
export interface Verdict {
  allowed: boolean;
  errors: FieldError[];
  message: string;
}

export function verdict(errors: readonly FieldError[]): Verdict {
  const normalized = normalizeErrors(errors);
  return { allowed: normalized.length === 0, errors: normalized, message: formatFieldErrors(normalized) };
}

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

// metal-api's own Swagger 2.0 spec (../shared/reference, present in CI) turned into JSON-schema validators.
// Stricter than the spec on two points, so drift shows: no property outside the definition
// (additionalProperties: false), and Go's encoding of a nil pointer (null) is accepted only for
// properties the definition does not require.

export const SPEC_FILE = fileURLToPath(
  new URL("../../../../shared/reference/metal-api.swagger.json", import.meta.url),
);

type Schema = Record<string, unknown>;
interface Operation {
  parameters?: { in: string; name: string; schema?: Schema }[];
  responses: Record<string, { schema?: Schema }>;
}

function tighten(def: Schema): Schema {
  if (!def.properties) return def;
  const required = new Set((def.required as string[] | undefined) ?? []);
  const props: Record<string, Schema> = {};
  for (const [k, v] of Object.entries(def.properties as Record<string, Schema>)) {
    props[k] = required.has(k) ? v : { anyOf: [v, { type: "null" }] };
  }
  return { ...def, properties: props, additionalProperties: false };
}

export function loadSpec() {
  const spec = JSON.parse(readFileSync(SPEC_FILE, "utf8")) as {
    definitions: Record<string, Schema>;
    paths: Record<string, Record<string, Operation>>;
  };
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // go-openapi writes `format: integer` on some integers; it carries no constraint
  ajv.addFormat("integer", true);
  const definitions = Object.fromEntries(Object.entries(spec.definitions).map(([k, v]) => [k, tighten(v)]));
  ajv.addSchema({ $id: "metal-api", definitions });
  const fix = (s: Schema): Schema =>
    JSON.parse(JSON.stringify(s).replaceAll('"#/definitions/', '"metal-api#/definitions/'));
  const cache = new Map<string, ValidateFunction>();
  const compile = (s: Schema) => {
    const key = JSON.stringify(s);
    let v = cache.get(key);
    if (!v) {
      v = ajv.compile(fix(s));
      cache.set(key, v);
    }
    return v;
  };
  const templates = Object.entries(spec.paths).map(([path, ops]) => ({
    path,
    re: new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}$`),
    ops,
  }));

  /** The operation of a request, matching literal segments before templated ones. */
  function operation(method: string, path: string): { path: string; op: Operation } | undefined {
    const hits = templates.filter((t) => t.re.test(path) && t.ops[method.toLowerCase()]);
    hits.sort((a, b) => (a.path.match(/\{/g)?.length ?? 0) - (b.path.match(/\{/g)?.length ?? 0));
    const h = hits[0];
    return h && { path: h.path, op: h.ops[method.toLowerCase()]! };
  }

  /** Problems of one exchange against the spec (empty when it conforms). */
  function check(
    method: string,
    path: string,
    requestBody: unknown,
    status: number,
    responseBody: unknown,
  ): string[] {
    const found = operation(method, path);
    if (!found) return [`${method} ${path}: no such operation in the spec`];
    const where = `${method} ${found.path}`;
    const problems: string[] = [];
    const bodyParam = found.op.parameters?.find((p) => p.in === "body");
    if (bodyParam?.schema && requestBody !== undefined) {
      const v = compile(bodyParam.schema);
      if (!v(requestBody)) problems.push(`${where} request: ${ajv.errorsText(v.errors)}`);
    }
    const resp = found.op.responses[String(status)] ?? found.op.responses.default;
    if (!resp) problems.push(`${where}: status ${status} not in the spec`);
    else if (resp.schema) {
      const v = compile(resp.schema);
      if (!v(responseBody)) problems.push(`${where} ${status} response: ${ajv.errorsText(v.errors)}`);
    }
    if (status >= 200 && status < 300 && !found.op.responses[String(status)]) {
      problems.push(
        `${where}: success status ${status} is not the spec's (${Object.keys(found.op.responses).join(", ")})`,
      );
    }
    return problems;
  }

  return { check, operation, ajv };
}

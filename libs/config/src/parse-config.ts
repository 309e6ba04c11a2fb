import type { Logger } from "@metal-kube/logging";
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "./config-error.js";
import { MASK, maskConfigValue, maskUrlCredentials } from "./mask-url.js";

export interface FieldSpec<S extends z.ZodType = z.ZodType> {
  /** Environment variable name. */
  env: string;
  /** Schema applied to the raw string value. */
  schema: S;
  /** Raw string default; without it (and without `optional`) the variable is required. */
  default?: string;
  /** When true and unset, the value is undefined. */
  optional?: boolean;
  /** Masked in logs and `describeConfig`. */
  secret?: boolean;
  /** One line for the configuration reference. */
  description: string;
}

export type ConfigSpec = Record<string, FieldSpec>;

export type ConfigValues<S extends ConfigSpec> = {
  [K in keyof S]: S[K]["optional"] extends true
    ? z.output<S[K]["schema"]> | undefined
    : z.output<S[K]["schema"]>;
};

/** Builds a field spec with the schema's type kept. */
export function field<S extends z.ZodType, O extends boolean = false>(
  env: string,
  schema: S,
  opts: { default?: string; optional?: O; secret?: boolean; description: string },
): FieldSpec<S> & { optional: O } {
  return { env, schema, ...opts, optional: (opts.optional ?? false) as O };
}

/** Parses every field; throws one ConfigError that lists every bad or missing variable. */
export function parseConfig<S extends ConfigSpec>(
  spec: S,
  env: NodeJS.ProcessEnv = process.env,
): ConfigValues<S> {
  const issues: ConfigIssue[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(spec)) {
    const raw = env[f.env];
    const value = raw === undefined || raw === "" ? f.default : raw;
    if (value === undefined) {
      if (f.optional) out[key] = undefined;
      else issues.push({ variable: f.env, message: `is required (${f.description})` });
      continue;
    }
    const r = f.schema.safeParse(value);
    if (r.success) out[key] = r.data;
    else {
      // Credentials are masked before the cut, so a cut inside a URL's password cannot show its start.
      const echoed = maskUrlCredentials(value);
      const shown = f.secret
        ? ""
        : `, got ${JSON.stringify(echoed.length > 80 ? `${echoed.slice(0, 80)}…` : echoed)}`;
      issues.push({ variable: f.env, message: `${r.error.issues.map((i) => i.message).join("; ")}${shown}` });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return out as ConfigValues<S>;
}

/** The effective configuration by variable name, secrets and URL credentials masked: what is logged at start. */
export function effectiveConfig<S extends ConfigSpec>(
  spec: S,
  values: ConfigValues<S>,
): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(spec)) {
    const v = (values as Record<string, unknown>)[key];
    shown[f.env] = f.secret && v !== undefined ? MASK : maskConfigValue(v);
  }
  return shown;
}

/** A markdown table of the variables, for the README's configuration reference. */
export function describeConfig(spec: ConfigSpec): string {
  const rows = Object.values(spec).map(
    (f) =>
      `| \`${f.env}\` | ${f.default !== undefined ? `\`${maskUrlCredentials(f.default)}\`` : f.optional ? "(unset)" : "**required**"} | ${f.description}${f.secret ? " (secret)" : ""} |`,
  );
  return ["| variable | default | meaning |", "|---|---|---|", ...rows].join("\n");
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** On a bad value: print the error and exit with this code (default 2); `false` throws instead. */
  exitCode?: number | false;
}

/** parseConfig at start: logs the effective config with secrets masked, or stops with an error naming each variable. */
export function loadConfig<S extends ConfigSpec>(spec: S, options: LoadConfigOptions = {}): ConfigValues<S> {
  try {
    const values = parseConfig(spec, options.env ?? process.env);
    options.logger?.info({ config: effectiveConfig(spec, values) }, "configuration loaded");
    return values;
  } catch (err) {
    if (options.exitCode === false || !(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(options.exitCode ?? 2);
  }
}

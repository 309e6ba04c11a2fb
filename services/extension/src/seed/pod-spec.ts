// Small, idempotent edits of pod templates as Gardener's webhook helpers make them (EnsureContainerWithName,
// EnsureStringWithPrefix, EnsureEnvVarWithName, ...): applied twice they change nothing the second time.
import { arr, isObject, type JsonObject, str } from "../gardener/json.js";

export type Container = JsonObject & { name: string };

export function containers(podSpec: JsonObject): Container[] {
  return arr(podSpec.containers).filter((c): c is Container => isObject(c) && typeof c.name === "string");
}

export const containerNamed = (podSpec: JsonObject, name: string): Container | undefined =>
  containers(podSpec).find((c) => c.name === name);

/**
 * Whether `have` holds everything `want` says: the apiserver adds defaults (terminationMessagePath,
 * probe thresholds, ...) to what we wrote, and those must not count as a difference.
 */
export function covers(have: unknown, want: unknown): boolean {
  if (Array.isArray(want))
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => covers(have[i], w));
  if (isObject(want)) return isObject(have) && Object.entries(want).every(([k, w]) => covers(have[k], w));
  return have === want;
}

/** Puts `item` in place of the entry of the same name in `podSpec[key]` or appends it; false when it was there. */
function ensureNamed(
  podSpec: JsonObject,
  key: "containers" | "volumes",
  item: JsonObject & { name: string },
): boolean {
  const list = arr(podSpec[key]);
  const i = list.findIndex((x) => isObject(x) && x.name === item.name);
  if (i >= 0 && covers(list[i], item)) return false;
  if (i >= 0) list[i] = item;
  else list.push(item);
  podSpec[key] = list;
  return true;
}

/** Puts `c` in place of the container of the same name, or appends it; false when it was already so. */
export const ensureContainer = (podSpec: JsonObject, c: Container): boolean =>
  ensureNamed(podSpec, "containers", c);

/** Puts `v` in place of the volume of the same name, or appends it; false when it was already so. */
export const ensureVolume = (podSpec: JsonObject, v: JsonObject & { name: string }): boolean =>
  ensureNamed(podSpec, "volumes", v);

/** The flag lists of a container: a flag may live in `command` or in `args`. */
function flagLists(c: JsonObject): Array<"command" | "args"> {
  return (["command", "args"] as const).filter((k) => Array.isArray(c[k]));
}

/** Whether any of the container's flags starts with `prefix`. */
export function hasFlag(c: JsonObject, prefix: string): boolean {
  return flagLists(c).some((k) => arr(c[k]).some((a) => typeof a === "string" && a.startsWith(prefix)));
}

/** Sets `<prefix><value>` once: replaces the first flag with that prefix, drops later ones, or appends. */
export function ensureFlag(c: JsonObject, prefix: string, value: string): void {
  const want = `${prefix}${value}`;
  let placed = false;
  for (const k of flagLists(c)) {
    const out: unknown[] = [];
    for (const a of arr(c[k])) {
      if (typeof a === "string" && a.startsWith(prefix)) {
        if (!placed) out.push(want);
        placed = true;
      } else out.push(a);
    }
    c[k] = out;
  }
  if (!placed) {
    const k = Array.isArray(c.args) ? "args" : "command";
    c[k] = [...arr(c[k]), want];
  }
}

/** Removes every flag starting with `prefix`. */
export function removeFlag(c: JsonObject, prefix: string): void {
  for (const k of flagLists(c))
    c[k] = arr(c[k]).filter((a) => !(typeof a === "string" && a.startsWith(prefix)));
}

/** The value of the first flag with `prefix`, if any. */
export function flagValue(c: JsonObject, prefix: string): string | undefined {
  for (const k of flagLists(c))
    for (const a of arr(c[k]))
      if (typeof a === "string" && a.startsWith(prefix)) return a.slice(prefix.length);
  return undefined;
}

/** Sets env `name=value`, replacing an entry of that name (a valueFrom one included). */
export function ensureEnv(c: JsonObject, name: string, value: string): void {
  const list = arr(c.env);
  const entry = { name, value };
  const i = list.findIndex((e) => isObject(e) && e.name === name);
  if (i >= 0) list[i] = entry;
  else list.push(entry);
  c.env = list;
}

export function envValue(c: JsonObject, name: string): string | undefined {
  const e = arr(c.env).find((x) => isObject(x) && x.name === name);
  return isObject(e) ? str(e.value) : undefined;
}

/** The pod template's metadata map `key` (labels or annotations), created when absent. */
export function templateMap(deployment: JsonObject, key: "labels" | "annotations"): JsonObject {
  const spec = deployment.spec as JsonObject;
  if (!isObject(spec.template)) spec.template = {};
  const template = spec.template as JsonObject;
  if (!isObject(template.metadata)) template.metadata = {};
  const meta = template.metadata as JsonObject;
  if (!isObject(meta[key])) meta[key] = {};
  return meta[key] as JsonObject;
}

export function podSpecOf(deployment: JsonObject): JsonObject | undefined {
  const spec = deployment.spec;
  if (!isObject(spec) || !isObject(spec.template) || !isObject(spec.template.spec)) return undefined;
  return spec.template.spec;
}

// The MachineClass providerSpec: parsed and checked field by field, so a bad class fails with
// INVALID_ARGUMENT naming the field instead of an INTERNAL error deep inside an allocation.

import { isIP } from "node:net";
import { clusterTag, TAG_CLUSTER, tagValues } from "@metal-kube/metal-stack";
import { ServiceError } from "@metal-kube/service-kit";

export interface ProviderSpec {
  partition: string;
  size: string;
  image: string;
  project: string;
  network: string;
  tags: string[];
  sshKeys: string[];
  dnsServers: { ip: string }[];
  ntpServers: { address: string }[];
  /** The value of the cluster tag. */
  cluster: string;
  /** `cluster.metal-stack.io/id=<cluster>`. */
  clusterTag: string;
}

const REQUIRED = ["partition", "size", "image", "project", "network"] as const;
const FIELD = "providerSpec";

const invalid = (path: string, message: string) => ServiceError.invalidArgument(`${FIELD}${path}`, message);

function stringList(v: unknown, path: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(path, "must be a list of strings");
  return v.map((item, i) => {
    if (typeof item !== "string" || item.trim() === "")
      throw invalid(`${path}[${i}]`, "must be a non-empty string");
    return item;
  });
}

function objectList<T>(
  v: unknown,
  path: string,
  key: string,
  check: (s: string) => boolean,
  what: string,
): T[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(path, `must be a list of objects {${key}}`);
  return v.map((item, i) => {
    if (item === null || typeof item !== "object" || Array.isArray(item))
      throw invalid(`${path}[${i}]`, `must be an object {${key}}`);
    const value = (item as Record<string, unknown>)[key];
    if (typeof value !== "string" || !check(value)) throw invalid(`${path}[${i}].${key}`, `must be ${what}`);
    return { [key]: value } as T;
  });
}

/** Parses the providerSpec JSON; throws INVALID_ARGUMENT naming the first bad field. */
export function parseProviderSpec(json: string | undefined): ProviderSpec {
  if (json === undefined || json.trim() === "")
    throw invalid("", "is required (the MachineClass's providerSpec JSON)");
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw invalid("", `is not valid JSON (${(err as Error).message})`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw invalid("", "must be a JSON object");
  const o = raw as Record<string, unknown>;
  const required = {} as Record<(typeof REQUIRED)[number], string>;
  for (const key of REQUIRED) {
    const v = o[key];
    if (v === undefined || v === null || v === "") throw invalid(`.${key}`, "is required");
    if (typeof v !== "string" || v.trim() === "" || /\s/.test(v))
      throw invalid(`.${key}`, `must be a non-empty id without spaces, got ${JSON.stringify(v)}`);
    required[key] = v;
  }
  const tags = stringList(o.tags, ".tags");
  for (const [i, tag] of tags.entries()) {
    // Tags are `key=value`; a bare key is allowed by metal-api, but never an empty key.
    if (tag.startsWith("=")) throw invalid(`.tags[${i}]`, `must be key=value, got ${JSON.stringify(tag)}`);
  }
  const clusterTags = tagValues(tags, TAG_CLUSTER);
  if (clusterTags.length === 0) throw invalid(".tags", `must contain ${TAG_CLUSTER}=<cluster>`);
  const clusterValues = new Set(clusterTags);
  if (clusterValues.size > 1)
    throw invalid(".tags", `has ${clusterValues.size} different ${TAG_CLUSTER} tags`);
  const cluster = [...clusterValues][0]!;
  if (cluster.trim() === "") throw invalid(".tags", `${TAG_CLUSTER} must have a non-empty value`);
  return {
    ...required,
    tags,
    sshKeys: stringList(o.sshKeys, ".sshKeys"),
    dnsServers: objectList<{ ip: string }>(
      o.dnsServers,
      ".dnsServers",
      "ip",
      (s) => isIP(s) !== 0,
      "an IP address",
    ),
    ntpServers: objectList<{ address: string }>(
      o.ntpServers,
      ".ntpServers",
      "address",
      (s) => s.trim() !== "" && !/\s/.test(s),
      "a host name or IP address",
    ),
    cluster,
    clusterTag: clusterTag(cluster),
  };
}

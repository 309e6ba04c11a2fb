import {
  ContextKind,
  type ContextObject,
  type FieldError,
} from "@metal-kube/proto/metalstack/extension/v1/admission";
import { parseDocument } from "yaml";
import { FieldPath } from "../field-errors.js";
import { arr, at, cloneJson, isObject, type JsonObject, obj, str } from "../gardener/json.js";
import { isDeleting } from "../gardener/objects.js";
import {
  decodeCloudProfileConfig,
  findPartition,
  type NetworkIsolation,
} from "../provider-config/cloud-profile-config.js";
import {
  decodeControlPlaneConfig,
  isIsolated,
  networkAccessType,
} from "../provider-config/control-plane-config.js";
import { decodeInfrastructureConfig } from "../provider-config/infrastructure-config.js";
import { PROVIDER_API_VERSION } from "../provider-config/strict-decoder.js";
import { clusterShoot, need, type SeedContext } from "./context.js";

/**
 * Files whose presence in an old OSC's status.extensionFiles means its nodes were set up with the
 * partition's DNS and NTP servers by the OS extension: keep writing them, or those nodes lose them.
 */
export const DNS_NTP_FILES = [
  "/etc/systemd/resolved.conf.d/dns.conf",
  "/etc/resolv.conf",
  "/etc/systemd/timesyncd.conf",
];
export const KUBELET_UNIT = "kubelet.service";
export const KUBELET_CONFIG_FILE = "/var/lib/kubelet/config/kubelet";
/** Feature gates the kubelet no longer knows (it refuses to start with them). */
export const REMOVED_KUBELET_FEATURE_GATES = ["VolumeSnapshotDataSource", "CSINodeInfo", "CSIDriverRegistry"];

export interface OscMutation {
  osc: JsonObject;
  changes: string[];
  needs: ContextObject[];
  imageProviderConfig?: { networkIsolation: NetworkIsolation };
}

/** The ImageProviderConfig as the reference marshals it (Go omitempty: empty lists are left out). */
function imageProviderConfig(iso: NetworkIsolation, withDnsNtp: boolean): JsonObject {
  const allowed: JsonObject = {};
  if (iso.allowedNetworks.ingress.length > 0) allowed.ingress = iso.allowedNetworks.ingress;
  if (iso.allowedNetworks.egress.length > 0) allowed.egress = iso.allowedNetworks.egress;
  const n: JsonObject = { allowedNetworks: allowed };
  if (withDnsNtp && iso.dnsServers.length > 0) n.dnsServers = iso.dnsServers;
  if (withDnsNtp && iso.ntpServers.length > 0) n.ntpServers = iso.ntpServers;
  if (iso.registryMirrors.length > 0)
    n.registryMirrors = iso.registryMirrors.map((m) => {
      const r: JsonObject = {};
      if (m.name) r.name = m.name;
      if (m.endpoint) r.endpoint = m.endpoint;
      if (m.ip) r.ip = m.ip;
      if (m.port) r.port = m.port;
      if (m.mirrorOf.length > 0) r.mirrorOf = m.mirrorOf;
      return r;
    });
  return { apiVersion: PROVIDER_API_VERSION, kind: "ImageProviderConfig", networkIsolation: n };
}

/** The partition's isolation, when the shoot is restricted or forbidden and its partition has one. */
function shootIsolation(cluster: JsonObject | undefined): NetworkIsolation | undefined {
  const shoot = clusterShoot(cluster);
  const errors: FieldError[] = [];
  const root = FieldPath.root();
  const rawCp = at(shoot, "spec", "provider", "controlPlaneConfig");
  const cp = rawCp == null ? undefined : decodeControlPlaneConfig(rawCp, root, errors);
  if (!isIsolated(networkAccessType(cp))) return undefined;
  const rawInfra = at(shoot, "spec", "provider", "infrastructureConfig");
  const infra = rawInfra == null ? undefined : decodeInfrastructureConfig(rawInfra, root, errors);
  const rawProfile = at(cluster, "spec", "cloudProfile", "spec", "providerConfig");
  const config = rawProfile == null ? undefined : decodeCloudProfileConfig(rawProfile, root, errors);
  if (!infra || !config) return undefined;
  return findPartition(config, infra.partitionID)?.partition.networkIsolation;
}

function hadDnsNtpFiles(old: JsonObject | undefined): boolean {
  return arr(at(old, "status", "extensionFiles")).some(
    (f) => isObject(f) && DNS_NTP_FILES.includes(str(f.path) ?? ""),
  );
}

/** The unit's ExecStart command line as arguments (continuation lines joined). */
function execStart(content: string): { start: number; end: number; args: string[] } | undefined {
  const lines = content.split("\n");
  const i = lines.findIndex((l) => /^\s*ExecStart=/.test(l));
  if (i < 0) return undefined;
  let j = i;
  while (j < lines.length - 1 && (lines[j] as string).trimEnd().endsWith("\\")) j++;
  const text = lines
    .slice(i, j + 1)
    .map((l) => l.trimEnd().replace(/\\$/, ""))
    .join(" ")
    .replace(/^\s*ExecStart=/, "");
  return { start: i, end: j, args: text.split(/\s+/).filter((a) => a !== "") };
}

/** Sets --cloud-provider=external on the kubelet's ExecStart, keeping the unit otherwise as it was. */
function ensureKubeletCloudProvider(content: string): string | undefined {
  const exec = execStart(content);
  if (!exec || exec.args.includes("--cloud-provider=external")) return undefined;
  const args = [...exec.args.filter((a) => !a.startsWith("--cloud-provider=")), "--cloud-provider=external"];
  const lines = content.split("\n");
  // Gardener's unit serializer writes one flag per line, continued with backslashes.
  const written = `ExecStart=${args.join(" \\\n    ")}`;
  lines.splice(exec.start, exec.end - exec.start + 1, written);
  return lines.join("\n");
}

function decodeInline(inline: JsonObject): string | undefined {
  const data = str(inline.data);
  if (data === undefined) return undefined;
  const enc = str(inline.encoding) ?? "";
  if (enc === "") return data;
  if (enc === "b64") return Buffer.from(data, "base64").toString("utf8");
  return undefined;
}

/** Drops removed feature gates from the kubelet configuration, keeping its encoding. */
function dropKubeletFeatureGates(inline: JsonObject): string[] {
  const text = decodeInline(inline);
  if (text === undefined) return [];
  const doc = parseDocument(text);
  const gates = doc.get("featureGates");
  if (!gates || typeof (gates as { has?: unknown }).has !== "function") return [];
  const map = gates as { has(k: string): boolean; delete(k: string): boolean };
  const dropped = REMOVED_KUBELET_FEATURE_GATES.filter((g) => map.has(g));
  if (dropped.length === 0) return [];
  for (const g of dropped) map.delete(g);
  const out = doc.toString();
  inline.data = (str(inline.encoding) ?? "") === "b64" ? Buffer.from(out).toString("base64") : out;
  return dropped;
}

/**
 * Mutates an OperatingSystemConfig of a metal shoot: the ImageProviderConfig for isolated shoots (with
 * DNS and NTP servers only where the old OSC's nodes already had them), the kubelet's external cloud
 * provider and its removed feature gates.
 */
export function mutateOperatingSystemConfig(
  osc: JsonObject,
  old: JsonObject | undefined,
  ctx: SeedContext,
): OscMutation {
  if (isDeleting(osc) || !isObject(osc.spec)) return { osc, changes: [], needs: [] };
  if (!ctx.has(ContextKind.CONTEXT_KIND_CLUSTER))
    return { osc, changes: [], needs: [need(ContextKind.CONTEXT_KIND_CLUSTER)] };
  const out = cloneJson(osc);
  const spec = out.spec as JsonObject;
  const changes: string[] = [];
  let written: OscMutation["imageProviderConfig"];

  const iso = shootIsolation(ctx.cluster());
  if (iso) {
    const config = imageProviderConfig(iso, hadDnsNtpFiles(old));
    if (JSON.stringify(spec.providerConfig) !== JSON.stringify(config)) {
      spec.providerConfig = config;
      changes.push("spec.providerConfig: ImageProviderConfig with the partition's network isolation");
    }
    const withDnsNtp = hadDnsNtpFiles(old);
    written = {
      networkIsolation: {
        ...iso,
        dnsServers: withDnsNtp ? iso.dnsServers : [],
        ntpServers: withDnsNtp ? iso.ntpServers : [],
      },
    };
  }

  for (const u of arr(spec.units)) {
    if (!isObject(u) || u.name !== KUBELET_UNIT || typeof u.content !== "string") continue;
    const next = ensureKubeletCloudProvider(u.content);
    if (next !== undefined) {
      u.content = next;
      changes.push(`unit ${KUBELET_UNIT}: --cloud-provider=external`);
    }
  }
  for (const f of arr(spec.files)) {
    if (!isObject(f) || f.path !== KUBELET_CONFIG_FILE) continue;
    const inline = obj(at(f, "content", "inline"));
    if (!inline) continue;
    const dropped = dropKubeletFeatureGates(inline);
    if (dropped.length > 0)
      changes.push(`file ${KUBELET_CONFIG_FILE}: feature gates ${dropped.join(", ")} removed`);
  }
  return { osc: changes.length > 0 ? out : osc, changes, needs: [], imageProviderConfig: written };
}

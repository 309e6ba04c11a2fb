import { createHash } from "node:crypto";
import { ContextKind, type ContextObject } from "@metal-kube/proto/metalstack/extension/v1/admission";
import { at, cloneJson, type JsonObject, obj, str } from "../gardener/json.js";
import { isDeleting, nameOf, namespaceOf } from "../gardener/objects.js";
import { parseSemVer } from "../semver.js";
import { CLOUDPROVIDER_SECRET, clusterShoot, need, nodeCidr, type SeedContext } from "./context.js";
import { bridgeContainer, driverContainer, type SidecarOptions, sidecarVolumes } from "./mcm-sidecars.js";
import {
  containerNamed,
  ensureContainer,
  ensureEnv,
  ensureFlag,
  ensureVolume,
  envValue,
  flagValue,
  hasFlag,
  podSpecOf,
  removeFlag,
  templateMap,
} from "./pod-spec.js";

export interface DeploymentMutation {
  deployment: JsonObject;
  changes: string[];
  needs: ContextObject[];
}

/** Pod labels that let kube-controller-manager reach the cloud (Gardener's network policy labels). */
export const KCM_NETWORK_LABELS = [
  "networking.gardener.cloud/to-public-networks",
  "networking.gardener.cloud/to-private-networks",
  "networking.gardener.cloud/to-blocked-cidrs",
];

/** Gardener's pod-template annotation that rolls a Deployment when a Secret it reads changes. */
export const secretChecksumAnnotation = (name: string) => `checksum/secret-${name}`;

/** Gardener's ComputeSecretChecksum: sha256 of the data map as Go's json.Marshal writes it (sorted keys). */
export function secretChecksum(secret: JsonObject): string {
  const data = obj(secret.data) ?? {};
  const sorted = Object.fromEntries(
    Object.keys(data)
      .sort()
      .map((k) => [k, data[k]]),
  );
  return createHash("sha256").update(JSON.stringify(sorted)).digest("hex");
}

function ensureChecksum(d: JsonObject, secret: JsonObject | undefined, changes: string[]): void {
  if (!secret) return;
  const annotations = templateMap(d, "annotations");
  const key = secretChecksumAnnotation(CLOUDPROVIDER_SECRET);
  const sum = secretChecksum(secret);
  if (annotations[key] === sum) return;
  annotations[key] = sum;
  changes.push(`annotation ${key} set`);
}

function ensureNodeNetwork(
  d: JsonObject,
  container: string,
  cidr: string | undefined,
  changes: string[],
): void {
  const podSpec = podSpecOf(d);
  const c = podSpec && containerNamed(podSpec, container);
  if (!c) return;
  // Without a nodes CIDR yet (the Infrastructure has not reconciled) the next rollout sets it.
  if (!cidr) return;
  if (envValue(c, "NODE_NETWORK") === cidr) return;
  ensureEnv(c, "NODE_NETWORK", cidr);
  changes.push(`container ${container}: env NODE_NETWORK=${cidr}`);
}

/** Kubernetes minor version of the shoot (from the Cluster), if readable. */
function shootMinor(shoot: JsonObject | undefined): number | undefined {
  const v = parseSemVer(str(at(shoot, "spec", "kubernetes", "version")) ?? "");
  return v && v.major === 1 ? v.minor : undefined;
}

function removeFlags(c: JsonObject, name: string, prefixes: string[], changes: string[]): void {
  for (const p of prefixes)
    if (hasFlag(c, p)) {
      removeFlag(c, p);
      changes.push(`container ${name}: ${p} removed`);
    }
}

/** PersistentVolumeLabel is an in-tree cloud admission plugin: disabled on Kubernetes before 1.31. */
function disablePersistentVolumeLabel(c: JsonObject, changes: string[]): void {
  const plugin = "PersistentVolumeLabel";
  const enabled = (flagValue(c, "--enable-admission-plugins=") ?? "").split(",").filter((p) => p !== "");
  const disabled = (flagValue(c, "--disable-admission-plugins=") ?? "").split(",").filter((p) => p !== "");
  if (!enabled.includes(plugin) && disabled.includes(plugin)) return;
  if (enabled.includes(plugin)) {
    const rest = enabled.filter((p) => p !== plugin);
    if (rest.length > 0) ensureFlag(c, "--enable-admission-plugins=", rest.join(","));
    else removeFlag(c, "--enable-admission-plugins=");
  }
  if (!disabled.includes(plugin))
    ensureFlag(c, "--disable-admission-plugins=", [...disabled, plugin].join(","));
  changes.push(`container kube-apiserver: ${plugin} admission plugin disabled`);
}

function mutateKubeApiserver(d: JsonObject, ctx: SeedContext, changes: string[]): ContextObject[] {
  const needs = contextNeeds(ctx, true, true);
  if (needs.length > 0) return needs;
  const shoot = clusterShoot(ctx.cluster());
  const podSpec = podSpecOf(d);
  const c = podSpec && containerNamed(podSpec, "kube-apiserver");
  if (c) {
    removeFlags(c, "kube-apiserver", ["--cloud-provider=", "--cloud-config="], changes);
    const minor = shootMinor(shoot);
    if (minor !== undefined && minor < 31) disablePersistentVolumeLabel(c, changes);
  }
  ensureNodeNetwork(
    d,
    "vpn-seed",
    nodeCidr(shoot, ctx.infrastructure(str(at(shoot, "metadata", "name")))),
    changes,
  );
  ensureChecksum(d, ctx.secret(CLOUDPROVIDER_SECRET), changes);
  return [];
}

function mutateKubeControllerManager(d: JsonObject, ctx: SeedContext, changes: string[]): ContextObject[] {
  const needs = contextNeeds(ctx, false, true);
  if (needs.length > 0) return needs;
  const podSpec = podSpecOf(d);
  const c = podSpec && containerNamed(podSpec, "kube-controller-manager");
  if (c) {
    if (flagValue(c, "--cloud-provider=") !== "external") {
      ensureFlag(c, "--cloud-provider=", "external");
      changes.push("container kube-controller-manager: --cloud-provider=external");
    }
    removeFlags(
      c,
      "kube-controller-manager",
      ["--cloud-config=", "--external-cloud-volume-plugin="],
      changes,
    );
  }
  const labels = templateMap(d, "labels");
  for (const l of KCM_NETWORK_LABELS)
    if (labels[l] !== "allowed") {
      labels[l] = "allowed";
      changes.push(`label ${l}=allowed`);
    }
  ensureChecksum(d, ctx.secret(CLOUDPROVIDER_SECRET), changes);
  return [];
}

function mutateVpnSeedServer(d: JsonObject, ctx: SeedContext, changes: string[]): ContextObject[] {
  const needs = contextNeeds(ctx, true, false);
  if (needs.length > 0) return needs;
  const shoot = clusterShoot(ctx.cluster());
  ensureNodeNetwork(
    d,
    "vpn-seed-server",
    nodeCidr(shoot, ctx.infrastructure(str(at(shoot, "metadata", "name")))),
    changes,
  );
  return [];
}

function mutateMachineControllerManager(d: JsonObject, o: SidecarOptions, changes: string[]): void {
  const podSpec = podSpecOf(d);
  if (!podSpec) return;
  const namespace = namespaceOf(d);
  for (const c of [bridgeContainer(namespace, o), driverContainer(o)])
    if (ensureContainer(podSpec, c)) changes.push(`container ${c.name} set`);
  for (const v of sidecarVolumes()) if (ensureVolume(podSpec, v)) changes.push(`volume ${v.name} set`);
}

function contextNeeds(ctx: SeedContext, infrastructure: boolean, secret: boolean): ContextObject[] {
  const needs: ContextObject[] = [];
  if (!ctx.has(ContextKind.CONTEXT_KIND_CLUSTER)) needs.push(need(ContextKind.CONTEXT_KIND_CLUSTER));
  if (infrastructure && !ctx.has(ContextKind.CONTEXT_KIND_INFRASTRUCTURE))
    needs.push(need(ContextKind.CONTEXT_KIND_INFRASTRUCTURE));
  if (secret && !ctx.has(ContextKind.CONTEXT_KIND_SECRET, CLOUDPROVIDER_SECRET))
    needs.push(need(ContextKind.CONTEXT_KIND_SECRET, CLOUDPROVIDER_SECRET));
  return needs;
}

/** The Deployments of a shoot's control plane this extension changes, by name. */
export const MUTATED_DEPLOYMENTS = [
  "kube-apiserver",
  "kube-controller-manager",
  "vpn-seed-server",
  "machine-controller-manager",
] as const;

/**
 * Mutates one Deployment of a shoot namespace. Deployments being deleted and those of other names come
 * back unchanged; when context is missing, nothing changes and `needs` says what to send.
 */
export function mutateDeployment(
  deployment: JsonObject,
  ctx: SeedContext,
  o: SidecarOptions,
): DeploymentMutation {
  const name = nameOf(deployment);
  if (isDeleting(deployment) || !podSpecOf(deployment)) return { deployment, changes: [], needs: [] };
  const d = cloneJson(deployment);
  const changes: string[] = [];
  let needs: ContextObject[] = [];
  switch (name) {
    case "kube-apiserver":
      needs = mutateKubeApiserver(d, ctx, changes);
      break;
    case "kube-controller-manager":
      needs = mutateKubeControllerManager(d, ctx, changes);
      break;
    case "vpn-seed-server":
      needs = mutateVpnSeedServer(d, ctx, changes);
      break;
    case "machine-controller-manager":
      mutateMachineControllerManager(d, o, changes);
      break;
    default:
      return { deployment, changes: [], needs: [] };
  }
  if (needs.length > 0) return { deployment, changes: [], needs };
  return { deployment: changes.length > 0 ? d : deployment, changes, needs: [] };
}

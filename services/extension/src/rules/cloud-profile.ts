import type { FieldError } from "@metal-kube/proto/metalstack/extension/v1/admission";
import { FieldPath, fieldError, type Verdict, verdict } from "../field-errors.js";
import { arr, at, isObject, type JsonObject, obj, str } from "../gardener/json.js";
import { CLOUD_PROFILE, isDeleting, PROVIDER_TYPE } from "../gardener/objects.js";
import { isCidr, isIpAddress } from "../ip.js";
import {
  type CloudProfileConfig,
  decodeCloudProfileConfig,
  FIREWALL_CONTROLLER_CLASSIFICATIONS,
  type NetworkIsolation,
} from "../provider-config/cloud-profile-config.js";
import { parseSemVer } from "../semver.js";

export const MAX_DNS_SERVERS = 3;
const PROVIDER_CONFIG_PATH = FieldPath.root().child("spec", "providerConfig");

export interface CloudProfileValidation {
  verdict: Verdict;
  config?: CloudProfileConfig;
}

/** The zone names of a profile's regions. */
function zonesOf(spec: JsonObject | undefined): string[] {
  return arr(spec?.regions)
    .filter(isObject)
    .flatMap((r) =>
      arr(r.zones)
        .filter(isObject)
        .map((z) => str(z.name) ?? ""),
    );
}

/**
 * A metal CloudProfile, or a NamespacedCloudProfile whose parent is one. A CloudProfile must carry a
 * CloudProfileConfig; a NamespacedCloudProfile may add one, checked against its parent's zones.
 */
export function validateCloudProfile(
  profile: JsonObject,
  old: JsonObject | undefined,
  parent: JsonObject | undefined,
): CloudProfileValidation {
  const namespaced = profile.kind !== CLOUD_PROFILE.kind;
  const spec = obj(profile.spec);
  const typeOf = namespaced ? str(at(parent, "spec", "type")) : str(spec?.type);
  if ((typeOf !== undefined && typeOf !== PROVIDER_TYPE) || isDeleting(profile))
    return { verdict: verdict([]) };
  const errors: FieldError[] = [];
  const raw = spec?.providerConfig;
  if (raw == null) {
    if (!namespaced)
      errors.push(
        fieldError.required(PROVIDER_CONFIG_PATH, "providerConfig must be set for metal cloud profiles"),
      );
    return { verdict: verdict(errors) };
  }
  const config = decodeCloudProfileConfig(raw, PROVIDER_CONFIG_PATH, errors);
  if (!config) return { verdict: verdict(errors) };
  const zones = zonesOf(namespaced ? obj(parent?.spec) : spec);
  errors.push(...validateCloudProfileConfig(config, zones, namespaced && !parent));
  if (old) {
    const oldErrors: FieldError[] = [];
    const oldRaw = obj(old.spec)?.providerConfig;
    const oldConfig =
      oldRaw == null ? undefined : decodeCloudProfileConfig(oldRaw, PROVIDER_CONFIG_PATH, oldErrors);
    if (oldConfig && oldErrors.length === 0)
      errors.push(...validateCloudProfileConfigUpdate(config, oldConfig));
  }
  return { verdict: verdict(errors), config };
}

/** The rules of one CloudProfileConfig; `zones` are the profile's (or its parent's) zone names. */
export function validateCloudProfileConfig(
  config: CloudProfileConfig,
  zones: string[],
  zonesUnknown = false,
): FieldError[] {
  const errors: FieldError[] = [];
  const seenPartitions = new Map<string, string>();
  const mcps = PROVIDER_CONFIG_PATH.child("metalControlPlanes");
  for (const name of Object.keys(config.metalControlPlanes).sort()) {
    const mcp = config.metalControlPlanes[name]!;
    const mp = mcps.key(name);
    if (mcp.endpoint === "")
      errors.push(fieldError.required(mp.child("endpoint"), "the metal-api endpoint must be specified"));
    else if (!isHttpUrl(mcp.endpoint))
      errors.push(fieldError.invalid(mp.child("endpoint"), mcp.endpoint, "must be an http(s) URL"));

    const versions = new Set<string>();
    mcp.firewallControllerVersions.forEach((v, i) => {
      const vp = mp.child("firewallControllerVersions").index(i);
      if (v.version === "")
        errors.push(
          fieldError.required(vp.child("version"), "a firewall controller version must be specified"),
        );
      else if (versions.has(v.version)) errors.push(fieldError.duplicate(vp.child("version"), v.version));
      else if (v.classification !== undefined && v.classification !== "preview" && !parseSemVer(v.version))
        errors.push(
          fieldError.invalid(
            vp.child("version"),
            v.version,
            "a classified version must be a semantic version such as v2.3.4",
          ),
        );
      versions.add(v.version);
      if (
        v.classification !== undefined &&
        !(FIREWALL_CONTROLLER_CLASSIFICATIONS as readonly string[]).includes(v.classification)
      )
        errors.push(
          fieldError.notSupported(
            vp.child("classification"),
            v.classification,
            FIREWALL_CONTROLLER_CLASSIFICATIONS,
          ),
        );
    });

    for (const id of Object.keys(mcp.partitions).sort()) {
      const partition = mcp.partitions[id]!;
      const pp = mp.child("partitions").key(id);
      if (!zonesUnknown && !zones.includes(id))
        errors.push(
          fieldError.invalid(
            pp,
            id,
            `the control plane has a partition that is not a configured zone in any of the cloud profile regions: [${[...new Set(zones)].sort().join(" ")}]`,
          ),
        );
      const other = seenPartitions.get(id);
      if (other !== undefined)
        errors.push(
          fieldError.invalid(
            pp,
            id,
            `partition is also defined in metal control plane ${JSON.stringify(other)}`,
          ),
        );
      else seenPartitions.set(id, name);
      if (partition.networkIsolation)
        errors.push(...validateNetworkIsolation(partition.networkIsolation, pp.child("networkIsolation")));
    }
  }
  return errors;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}

/** A registry host as image references name it: a DNS name or IP, optionally with a port. */
function isRegistryHost(s: string): boolean {
  let u: URL;
  try {
    u = new URL(`https://${s}/`);
  } catch {
    return false;
  }
  const host = s.toLowerCase();
  // URL drops the scheme's default port from host.
  const sameHost = u.host === host || `${u.host}:443` === host;
  return sameHost && u.pathname === "/" && u.username === "" && u.search === "" && u.hash === "";
}

export function validateNetworkIsolation(n: NetworkIsolation, p: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const dns = p.child("dnsServers");
  if (n.dnsServers.length === 0) errors.push(fieldError.required(dns, "may not be empty"));
  else if (n.dnsServers.length > MAX_DNS_SERVERS)
    errors.push(
      fieldError.invalid(dns, n.dnsServers, `only up to ${MAX_DNS_SERVERS} dns servers are allowed`),
    );
  n.dnsServers.forEach((ip, i) => {
    if (!isIpAddress(ip)) errors.push(fieldError.invalid(dns.index(i), ip, "invalid ip address"));
  });
  const ntp = p.child("ntpServers");
  if (n.ntpServers.length === 0) errors.push(fieldError.required(ntp, "may not be empty"));
  n.ntpServers.forEach((ip, i) => {
    if (!isIpAddress(ip)) errors.push(fieldError.invalid(ntp.index(i), ip, "invalid ip address"));
  });
  for (const dir of ["egress", "ingress"] as const) {
    const np = p.child("allowedNetworks", dir);
    const list = n.allowedNetworks[dir];
    if (list.length === 0) errors.push(fieldError.required(np, "may not be empty"));
    list.forEach((c, i) => {
      if (!isCidr(c)) errors.push(fieldError.invalid(np.index(i), c, "invalid cidr"));
    });
  }
  const mp = p.child("registryMirrors");
  if (n.registryMirrors.length === 0) errors.push(fieldError.required(mp, "may not be empty"));
  n.registryMirrors.forEach((m, i) => {
    const rp = mp.index(i);
    if (m.name === "") errors.push(fieldError.required(rp.child("name"), "name of mirror may not be empty"));
    let scheme = "";
    try {
      scheme = new URL(m.endpoint).protocol;
    } catch {
      errors.push(fieldError.invalid(rp.child("endpoint"), m.endpoint, "not a valid url"));
    }
    if (scheme !== "" && scheme !== "http:" && scheme !== "https:")
      errors.push(fieldError.invalid(rp.child("endpoint"), m.endpoint, "url must have the scheme http/s"));
    if (!isIpAddress(m.ip)) errors.push(fieldError.invalid(rp.child("ip"), m.ip, "invalid ip address"));
    if (m.port < 1 || m.port > 65535)
      errors.push(fieldError.invalid(rp.child("port"), m.port, "must be a valid port"));
    const of = rp.child("mirrorOf");
    if (m.mirrorOf.length === 0)
      errors.push(fieldError.required(of, "registry mirror must replace existing registries"));
    m.mirrorOf.forEach((reg, j) => {
      if (reg === "") errors.push(fieldError.required(of.index(j), "cannot be empty"));
      else if (!isRegistryHost(reg))
        errors.push(fieldError.invalid(of.index(j), reg, "not a valid registry host"));
    });
  });
  return errors;
}

/**
 * What may not change: a partition's network isolation stays (isolated shoots depend on it) and its DNS
 * servers stay as they are (nodes of isolated shoots were set up with them).
 */
export function validateCloudProfileConfigUpdate(
  next: CloudProfileConfig,
  old: CloudProfileConfig,
): FieldError[] {
  const errors: FieldError[] = [];
  const mcps = PROVIDER_CONFIG_PATH.child("metalControlPlanes");
  for (const [name, oldMcp] of Object.entries(old.metalControlPlanes)) {
    const mcp = next.metalControlPlanes[name];
    if (!mcp) continue;
    for (const [id, oldPartition] of Object.entries(oldMcp.partitions)) {
      const partition = mcp.partitions[id];
      const before = oldPartition.networkIsolation;
      if (!partition || !before) continue;
      const p = mcps.key(name).child("partitions").key(id).child("networkIsolation");
      const after = partition.networkIsolation;
      if (!after) {
        errors.push(fieldError.required(p, "cannot remove existing network isolations"));
        continue;
      }
      const dns = p.child("dnsServers");
      if (after.dnsServers.length !== before.dnsServers.length)
        errors.push(
          fieldError.invalid(
            dns,
            after.dnsServers,
            `field is immutable (was ${JSON.stringify(before.dnsServers)})`,
          ),
        );
      else
        after.dnsServers.forEach((ip, i) => {
          if (ip !== before.dnsServers[i])
            errors.push(
              fieldError.invalid(
                dns.index(i),
                ip,
                `field is immutable (was ${JSON.stringify(before.dnsServers[i])})`,
              ),
            );
        });
    }
  }
  return errors;
}

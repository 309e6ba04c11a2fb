import { isIP } from "node:net";
import type {
  ContainerRuntime,
  File,
  MetalProviderConfig,
  NetworkIsolation,
  Unit,
} from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import { UnitCommand } from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import type { Violations } from "@metal-kube/service-kit";

export const CONTAINERD_CONFIG_PATH = "/etc/containerd/config.toml";
export const CONTAINERD_CONF_D_GLOB = "/etc/containerd/conf.d/*.toml";
export const CONTAINERD_CERTS_D = "/etc/containerd/certs.d";
export const RESOLVED_DROP_IN_PATH = "/etc/systemd/resolved.conf.d/metal-dns.conf";
export const RESOLV_CONF_PATH = "/etc/resolv.conf";
export const TIMESYNCD_CONF_PATH = "/etc/systemd/timesyncd.conf";
/** resolv.conf's MAXNS: the resolver ignores any further nameserver. */
export const MAX_DNS_SERVERS = 3;

const HEADER = "# Written by metal-kube ignition from the OperatingSystemConfig; changes are overwritten.\n";

export interface Extension {
  files: File[];
  units: Unit[];
}

const inlineFile = (path: string, data: string): File => ({
  path,
  permissions: 0o644,
  content: { source: { $case: "inline", value: { encoding: "", data } }, transmitUnencoded: false },
});

const restartUnit = (name: string, filePaths: string[]): Unit => ({
  name,
  enable: undefined,
  command: UnitCommand.UNIT_COMMAND_UNSPECIFIED,
  content: undefined,
  dropIns: [],
  filePaths,
});

// RFC 1123 host name labels, case-insensitive.
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A registry host as containerd names its certs.d directory: host, host:port or [v6]:port. */
function parseRegistryHost(s: string): string | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return undefined;
  const host = m[1] as string;
  const port = m[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535 || port.startsWith("0")))
    return undefined;
  if (host.startsWith("[")) {
    if (isIP(host.slice(1, -1)) !== 6) return undefined;
  } else if (isIP(host) !== 4 && !HOST_NAME.test(host)) return undefined;
  return s.toLowerCase();
}

/** The mirror endpoint normalised to scheme://host[:port], or a reason it is not usable. */
function parseEndpoint(s: string): string | { problem: string } {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return { problem: `endpoint ${JSON.stringify(s)} is not a URL` };
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    return { problem: `endpoint ${JSON.stringify(s)} must be http or https` };
  if (u.username || u.password) return { problem: "endpoint must not carry credentials" };
  if ((u.pathname !== "/" && u.pathname !== "") || u.search || u.hash)
    return { problem: `endpoint ${JSON.stringify(s)} must not have a path, query or fragment` };
  return `${u.protocol}//${u.host}`;
}

/** The upstream of a registry host (containerd's `server`); Docker Hub's API lives elsewhere. */
function upstreamServer(host: string): string {
  return host === "docker.io" ? "https://registry-1.docker.io" : `https://${host}`;
}

function tomlString(s: string): string {
  // Only validated hosts and URLs get here; JSON escaping is valid TOML basic-string escaping for them.
  return JSON.stringify(s);
}

/**
 * The files and units this extension adds to every OSC, validated from the request's container
 * runtime and metal provider config. Output is sorted and so independent of input order where
 * order does not matter (mirror order is kept: it is containerd's preference order).
 */
export function buildExtension(
  runtime: ContainerRuntime | undefined,
  provider: MetalProviderConfig | undefined,
  v: Violations,
): Extension {
  const files: File[] = [];
  const units: Unit[] = [];

  const runtimeName = runtime?.name ?? "";
  const cgroupDriver = runtime?.cgroupDriver ?? "";
  if (runtimeName !== "" && runtimeName !== "containerd")
    v.add(
      "container_runtime.name",
      `unsupported container runtime ${JSON.stringify(runtimeName)} (only containerd)`,
    );
  if (cgroupDriver !== "" && cgroupDriver !== "cgroupfs" && cgroupDriver !== "systemd")
    v.add(
      "container_runtime.cgroup_driver",
      `unknown cgroup driver ${JSON.stringify(cgroupDriver)} (use cgroupfs or systemd)`,
    );
  // With the systemd cgroup driver Gardener's node agent writes config.toml itself (and points
  // config_path at certs.d); a second writer would fight over the file.
  if (cgroupDriver !== "systemd") {
    files.push(
      inlineFile(
        CONTAINERD_CONFIG_PATH,
        `${HEADER}version = 2\nimports = [${tomlString(CONTAINERD_CONF_D_GLOB)}]\n\n` +
          `[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = ${tomlString(CONTAINERD_CERTS_D)}\n`,
      ),
    );
    units.push(restartUnit("containerd.service", [CONTAINERD_CONFIG_PATH]));
  }

  const iso = provider?.networkIsolation;
  if (iso) addIsolation(iso, files, units, v);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  units.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { files, units };
}

/** What an isolated cluster's machines need instead of public registries, DNS and NTP. */
function addIsolation(iso: NetworkIsolation, files: File[], units: Unit[], v: Violations): void {
  // Registry mirrors: one hosts.toml per mirrored registry, mirrors in the order given.
  const byRegistry = new Map<string, string[]>();
  iso.registryMirrors.forEach((m, i) => {
    const field = `provider_config.network_isolation.registry_mirrors[${i}]${m.name ? ` (${m.name})` : ""}`;
    const endpoint = parseEndpoint(m.endpoint);
    if (typeof endpoint !== "string") v.add(field, endpoint.problem);
    if (m.mirrorOf.length === 0) v.add(field, "mirror_of must name at least one registry");
    m.mirrorOf.forEach((of, j) => {
      const host = parseRegistryHost(of);
      if (!host) {
        v.add(`${field}.mirror_of[${j}]`, `${JSON.stringify(of)} is not a registry host (host or host:port)`);
        return;
      }
      if (typeof endpoint !== "string") return;
      const list = byRegistry.get(host) ?? [];
      if (!list.includes(endpoint)) list.push(endpoint);
      byRegistry.set(host, list);
    });
  });
  for (const host of [...byRegistry.keys()].sort()) {
    const hosts = (byRegistry.get(host) ?? [])
      .map((e) => `\n[host.${tomlString(e)}]\n  capabilities = ["pull", "resolve"]\n`)
      .join("");
    const path = `${CONTAINERD_CERTS_D}/${host}/hosts.toml`;
    files.push(inlineFile(path, `${HEADER}server = ${tomlString(upstreamServer(host))}\n${hosts}`));
  }
  // containerd reads certs.d on every pull, so hosts.toml changes need no restart.

  if (iso.dnsServers.length > MAX_DNS_SERVERS)
    v.add(
      "provider_config.network_isolation.dns_servers",
      `at most ${MAX_DNS_SERVERS} DNS servers (the resolver ignores more), got ${iso.dnsServers.length}`,
    );
  iso.dnsServers.forEach((s, i) => {
    if (isIP(s) === 0)
      v.add(
        `provider_config.network_isolation.dns_servers[${i}]`,
        `${JSON.stringify(s)} is not an IP address`,
      );
  });
  if (iso.dnsServers.length > 0) {
    files.push(
      inlineFile(RESOLVED_DROP_IN_PATH, `${HEADER}[Resolve]\nDNS=${iso.dnsServers.join(" ")}\nDomains=~.\n`),
      inlineFile(RESOLV_CONF_PATH, `${HEADER}${iso.dnsServers.map((s) => `nameserver ${s}\n`).join("")}`),
    );
    units.push(restartUnit("systemd-resolved.service", [RESOLVED_DROP_IN_PATH]));
  }

  iso.ntpServers.forEach((s, i) => {
    if (isIP(s) === 0 && !HOST_NAME.test(s))
      v.add(
        `provider_config.network_isolation.ntp_servers[${i}]`,
        `${JSON.stringify(s)} is neither an IP address nor a host name`,
      );
  });
  if (iso.ntpServers.length > 0) {
    files.push(inlineFile(TIMESYNCD_CONF_PATH, `${HEADER}[Time]\nNTP=${iso.ntpServers.join(" ")}\n`));
    units.push(restartUnit("systemd-timesyncd.service", [TIMESYNCD_CONF_PATH]));
  }
}

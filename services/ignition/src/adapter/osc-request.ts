import {
  type File,
  type MetalProviderConfig,
  Purpose,
  type RenderRequest,
  SpecVersion,
  type Unit,
  UnitCommand,
} from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import { Violations } from "@metal-kube/service-kit";
import type { OperatingSystemConfig, OscFile, OscUnit } from "./osc.js";

/** Resolved secret-backed contents, keyed by `secretName/dataKey`. */
export type ResolvedSecrets = ReadonlyMap<string, Buffer>;

export const secretKey = (name: string, dataKey: string) => `${name}/${dataKey}`;

const PURPOSES: Record<string, Purpose> = {
  provision: Purpose.PURPOSE_PROVISION,
  reconcile: Purpose.PURPOSE_RECONCILE,
};
const COMMANDS: Record<string, UnitCommand> = {
  start: UnitCommand.UNIT_COMMAND_START,
  restart: UnitCommand.UNIT_COMMAND_RESTART,
  stop: UnitCommand.UNIT_COMMAND_STOP,
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];

/**
 * The metal provider's ImageProviderConfig (a RawExtension in spec.providerConfig): only
 * networkIsolation matters here. Registry mirrors carry ip/port for the firewall; not used here.
 */
export function providerConfigFrom(raw: unknown, v: Violations): MetalProviderConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    v.add("spec.providerConfig", "must be an object (an ImageProviderConfig)");
    return undefined;
  }
  const iso = raw.networkIsolation;
  if (iso === undefined || iso === null) return { networkIsolation: undefined };
  if (!isObject(iso)) {
    v.add("spec.providerConfig.networkIsolation", "must be an object");
    return undefined;
  }
  const mirrors = Array.isArray(iso.registryMirrors) ? iso.registryMirrors : [];
  return {
    networkIsolation: {
      dnsServers: strings(iso.dnsServers),
      ntpServers: strings(iso.ntpServers),
      registryMirrors: mirrors.filter(isObject).map((m) => ({
        name: typeof m.name === "string" ? m.name : "",
        endpoint: typeof m.endpoint === "string" ? m.endpoint : "",
        mirrorOf: strings(m.mirrorOf),
      })),
    },
  };
}

function fileFrom(f: OscFile, secrets: ResolvedSecrets): File {
  const c = f.content ?? {};
  let source: NonNullable<File["content"]>["source"];
  if (c.inline)
    source = { $case: "inline", value: { encoding: c.inline.encoding ?? "", data: c.inline.data ?? "" } };
  else if (c.secretRef)
    source = {
      $case: "secretRef",
      value: {
        name: c.secretRef.name,
        dataKey: c.secretRef.dataKey,
        data: secrets.get(secretKey(c.secretRef.name, c.secretRef.dataKey)),
      },
    };
  else if (c.imageRef)
    source = {
      $case: "imageRef",
      value: { image: c.imageRef.image, filePathInImage: c.imageRef.filePathInImage },
    };
  return {
    path: f.path,
    permissions: f.permissions ?? undefined,
    content: { source, transmitUnencoded: c.transmitUnencoded ?? false },
  };
}

function unitFrom(u: OscUnit, index: number, v: Violations): Unit {
  let command = UnitCommand.UNIT_COMMAND_UNSPECIFIED;
  if (u.command !== undefined && u.command !== "") {
    const c = COMMANDS[u.command];
    if (c === undefined)
      v.add(
        `spec.units[${index}] (${u.name}).command`,
        `unknown command ${JSON.stringify(u.command)} (start, restart or stop)`,
      );
    else command = c;
  }
  return {
    name: u.name,
    enable: u.enable ?? undefined,
    command,
    content: u.content ?? undefined,
    dropIns: (u.dropIns ?? []).map((d) => ({ name: d.name, content: d.content ?? "" })),
    filePaths: u.filePaths ?? [],
  };
}

/**
 * The render request for an OSC. Secret-backed contents come from `secrets`; a missing one stays
 * unresolved, which the renderer names. Throws INVALID_ARGUMENT for what does not map at all.
 */
export function oscToRequest(
  osc: OperatingSystemConfig,
  secrets: ResolvedSecrets,
  specVersion: SpecVersion = SpecVersion.SPEC_VERSION_UNSPECIFIED,
): RenderRequest {
  const v = new Violations();
  const spec = osc.spec ?? ({} as OperatingSystemConfig["spec"]);
  const purpose = PURPOSES[spec.purpose];
  if (purpose === undefined)
    v.add("spec.purpose", `unknown purpose ${JSON.stringify(spec.purpose)} (provision or reconcile)`);
  const units = (spec.units ?? []).map((u, i) => unitFrom(u, i, v));
  const providerConfig = providerConfigFrom(spec.providerConfig, v);
  v.throwIfAny(10);
  return {
    namespace: osc.metadata.namespace ?? "",
    name: osc.metadata.name ?? "",
    type: spec.type ?? "",
    purpose: purpose ?? Purpose.PURPOSE_UNSPECIFIED,
    files: (spec.files ?? []).map((f) => fileFrom(f, secrets)),
    units,
    containerRuntime: spec.criConfig
      ? { name: spec.criConfig.name ?? "", cgroupDriver: spec.criConfig.cgroupDriver ?? "" }
      : undefined,
    providerConfig,
    specVersion,
  };
}

/** Extension files and units in Gardener's shape, for the OSC status. */
export function gardenerFile(f: File): OscFile {
  const s = f.content?.source;
  const out: OscFile = {
    path: f.path,
    content: s?.$case === "inline" ? { inline: { encoding: s.value.encoding, data: s.value.data } } : {},
  };
  if (f.permissions !== undefined) out.permissions = f.permissions;
  return out;
}

export function gardenerUnit(u: Unit): OscUnit {
  const out: OscUnit = { name: u.name };
  if (u.enable !== undefined) out.enable = u.enable;
  const command = Object.entries(COMMANDS).find(([, c]) => c === u.command)?.[0];
  if (command) out.command = command;
  if (u.content !== undefined) out.content = u.content;
  if (u.dropIns.length > 0) out.dropIns = u.dropIns.map((d) => ({ name: d.name, content: d.content }));
  if (u.filePaths.length > 0) out.filePaths = u.filePaths;
  return out;
}

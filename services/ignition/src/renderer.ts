import { createHash } from "node:crypto";
import {
  type File,
  Purpose,
  type RenderRequest,
  type RenderResponse,
  SpecVersion,
  type Unit,
  UnitCommand,
} from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import { Violations } from "@metal-kube/service-kit";
import { fileContent } from "./content.js";
import { createDataUrlEncoder } from "./data-url.js";
import { buildExtension } from "./extension.js";
import { fileField, unitField } from "./field-names.js";
import { type OutConfig, type OutFile, type OutUnit, toIgnitionJson } from "./ignition-json.js";
import { parseOptions, type RendererOptions } from "./options.js";
import { ancestors, pathProblem } from "./paths.js";
import { type IgnitionVersion, versionFromEnum } from "./spec-version.js";
import { START_HELPER_UNIT, startHelperContents } from "./start-helper.js";
import {
  dropInNameProblem,
  hasInstallSection,
  SYSTEMD_UNIT_DIR,
  unitContentProblem,
  unitNameProblem,
} from "./systemd.js";

export const DEFAULT_FILE_MODE = 0o644;
export const MAX_FILE_MODE = 0o7777;

export interface Renderer {
  /** Validates and renders one OSC; throws ServiceError INVALID_ARGUMENT naming the field at fault. */
  render(request: RenderRequest): RenderResponse;
}

interface CheckedFile {
  index: number;
  path: string;
  mode: number;
  /** Undefined when the purpose does not need the bytes (reconcile with a reference). */
  data: Buffer | undefined;
}

const byPath = <T extends { path: string }>(a: T, b: T) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const octal = (n: number) => `0o${n.toString(8)}`;

export function createRenderer(options: RendererOptions = {}): Renderer {
  const o = parseOptions(options);
  const encoder = createDataUrlEncoder(o);

  return {
    render(req) {
      const v = new Violations();
      const warnings: string[] = [];

      if (req.purpose !== Purpose.PURPOSE_PROVISION && req.purpose !== Purpose.PURPOSE_RECONCILE)
        v.add("purpose", "must be PURPOSE_PROVISION or PURPOSE_RECONCILE");
      if (req.type === "") v.add("type", "is required (the operating system, e.g. ubuntu)");
      let version: IgnitionVersion = o.defaultSpecVersion;
      if (req.specVersion !== SpecVersion.SPEC_VERSION_UNSPECIFIED) {
        const asked = versionFromEnum(req.specVersion);
        if (asked) version = asked;
        else v.add("spec_version", `unknown spec version ${req.specVersion}`);
      }
      const provision = req.purpose === Purpose.PURPOSE_PROVISION;

      const ext = buildExtension(req.containerRuntime, req.providerConfig, v);
      const files = checkFiles(req.files, provision, v, warnings);

      // Every path the machine gets, with who writes it: conflicts are caught before Ignition sees them.
      const owners = new Map<string, string>();
      for (const f of files.values()) owners.set(f.path, fileField(f.index, f.path));
      const extFiles = ext.files.filter((f) => {
        if (!files.has(f.path)) {
          owners.set(f.path, `extension file ${f.path}`);
          return true;
        }
        warnings.push(
          `${fileField(files.get(f.path)?.index ?? 0, f.path)}: replaces the extension's own file`,
        );
        return false;
      });

      const { units, startOnce } = checkUnits(req.units, owners, files, extFiles, v, warnings);
      checkParents(owners, v);
      if (version.startsWith("3.") && provision) {
        for (const f of files.values())
          if (f.mode > 0o777)
            warnings.push(
              `${fileField(f.index, f.path)}: Ignition spec ${version} ignores setuid/setgid/sticky bits (${octal(f.mode)})`,
            );
      }
      v.throwIfAny(o.maxReportedViolations);

      if (!provision) {
        const canonical = JSON.stringify({
          files: extFiles.map((f) => [f.path, f.permissions, inlineData(f)]),
          units: ext.units.map((u) => [u.name, u.filePaths]),
        });
        return {
          userData: Buffer.alloc(0),
          specVersion: "",
          sha256: createHash("sha256").update(canonical).digest("hex"),
          extensionFiles: extFiles,
          extensionUnits: ext.units,
          warnings,
        };
      }

      const outFiles: OutFile[] = [];
      for (const f of files.values())
        outFiles.push({ path: f.path, mode: f.mode, data: f.data ?? Buffer.alloc(0) });
      for (const f of extFiles)
        outFiles.push({
          path: f.path,
          mode: f.permissions ?? DEFAULT_FILE_MODE,
          data: Buffer.from(inlineData(f)),
        });
      outFiles.sort(byPath);
      if (startOnce.length > 0)
        units.push({
          name: START_HELPER_UNIT,
          enabled: true,
          contents: startHelperContents(startOnce.sort()),
          dropIns: [],
        });
      units.sort(byName);
      const config: OutConfig = { files: outFiles, units };
      const userData = Buffer.from(toIgnitionJson(config, version, encoder));
      return {
        userData,
        specVersion: version,
        sha256: createHash("sha256").update(userData).digest("hex"),
        extensionFiles: extFiles,
        extensionUnits: ext.units,
        warnings,
      };
    },
  };
}

function inlineData(f: File): string {
  const s = f.content?.source;
  return s?.$case === "inline" ? s.value.data : "";
}

/** Validates files; returns them by path. A path given twice is fine only with the same bytes and mode. */
function checkFiles(
  list: File[],
  provision: boolean,
  v: Violations,
  warnings: string[],
): Map<string, CheckedFile> {
  const out = new Map<string, CheckedFile>();
  list.forEach((file, index) => {
    const field = fileField(index, file.path);
    let ok = true;
    const problem = pathProblem(file.path);
    if (problem) {
      v.add(field, problem);
      ok = false;
    }
    const mode = file.permissions ?? DEFAULT_FILE_MODE;
    if (!Number.isInteger(mode) || mode < 0 || mode > MAX_FILE_MODE) {
      v.add(field, `invalid mode ${octal(mode)} (permissions must be 0 to 0o7777)`);
      ok = false;
    }
    const content = fileContent(file, provision);
    if (!content.ok) {
      v.add(field, content.message);
      ok = false;
    }
    if (!ok || !content.ok) return;
    const previous = out.get(file.path);
    if (previous) {
      const same =
        previous.mode === mode &&
        (previous.data === undefined || content.data === undefined
          ? previous.data === content.data
          : previous.data.equals(content.data));
      if (same) warnings.push(`${field}: repeats ${fileField(previous.index, previous.path)}; written once`);
      else
        v.add(
          field,
          `the path is also ${fileField(previous.index, previous.path)} with different ${previous.mode === mode ? "content" : "mode"}; one path can have only one content`,
        );
      return;
    }
    out.set(file.path, { index, path: file.path, mode, data: content.data });
  });
  return out;
}

function checkUnits(
  list: Unit[],
  owners: Map<string, string>,
  files: Map<string, CheckedFile>,
  extFiles: File[],
  v: Violations,
  warnings: string[],
): { units: OutUnit[]; startOnce: string[] } {
  const units: OutUnit[] = [];
  const startOnce: string[] = [];
  const seen = new Map<string, number>();
  const extPaths = new Set(extFiles.map((f) => f.path));
  const claim = (path: string, field: string) => {
    const other = owners.get(path);
    if (other)
      v.add(
        other.startsWith("extension") ? field : other,
        `${path} is also written by ${other.startsWith("extension") ? other : field}`,
      );
    else owners.set(path, field);
  };

  list.forEach((unit, index) => {
    const field = unitField(index, unit.name);
    const before = v.list.length;
    const nameProblem = unitNameProblem(unit.name);
    if (nameProblem) v.add(field, nameProblem);
    else if (unit.name === START_HELPER_UNIT)
      v.add(field, "this name is reserved for the start-once helper unit");
    const dup = seen.get(unit.name);
    if (dup !== undefined && unit.name !== "") v.add(field, `the unit is also ${unitField(dup, unit.name)}`);
    else seen.set(unit.name, index);

    // A template (a@.service) has no instance to enable or start; systemd would refuse both.
    const template = /@\.[a-z]+$/.test(unit.name);
    let enabled: boolean | undefined = unit.enable ?? (template ? undefined : true);
    if (template && unit.enable === true)
      v.add(field, "a template unit cannot be enabled; enable an instance such as name@instance.service");
    if (
      template &&
      (unit.command === UnitCommand.UNIT_COMMAND_START || unit.command === UnitCommand.UNIT_COMMAND_RESTART)
    )
      v.add(field, "a template unit cannot be started; start an instance such as name@instance.service");
    switch (unit.command) {
      case UnitCommand.UNIT_COMMAND_UNSPECIFIED:
      case UnitCommand.UNIT_COMMAND_START:
      case UnitCommand.UNIT_COMMAND_RESTART:
        break;
      case UnitCommand.UNIT_COMMAND_STOP:
        if (unit.enable === true) v.add(field, "enable: true contradicts command STOP");
        enabled = false;
        break;
      default:
        v.add(field, `unknown command ${unit.command}`);
    }
    if (unit.content !== undefined) {
      const p = unitContentProblem(unit.content);
      if (p) v.add(field, `invalid unit content: ${p}`);
    }
    const dropSeen = new Set<string>();
    unit.dropIns.forEach((d, j) => {
      const dField = `${field}.drop_ins[${j}]${d.name ? ` (${d.name})` : ""}`;
      const np = dropInNameProblem(d.name);
      if (np) v.add(dField, np);
      else if (dropSeen.has(d.name)) v.add(dField, "the drop-in name is used twice in this unit");
      dropSeen.add(d.name);
      const cp = unitContentProblem(d.content);
      if (cp) v.add(dField, `invalid drop-in content: ${cp}`);
    });
    unit.filePaths.forEach((p, k) => {
      if (!files.has(p) && !extPaths.has(p))
        v.add(`${field}.file_paths[${k}]`, `${JSON.stringify(p)} is not one of the files`);
    });
    if (v.list.length > before || dup !== undefined) return;

    // Paths Ignition writes for the unit: they must not collide with files.
    if (unit.content !== undefined) claim(`${SYSTEMD_UNIT_DIR}/${unit.name}`, field);
    for (const d of unit.dropIns) claim(`${SYSTEMD_UNIT_DIR}/${unit.name}.d/${d.name}`, field);

    if (
      enabled === false &&
      (unit.command === UnitCommand.UNIT_COMMAND_START || unit.command === UnitCommand.UNIT_COMMAND_RESTART)
    )
      startOnce.push(unit.name);
    if (
      enabled &&
      unit.content !== undefined &&
      !hasInstallSection(unit.content) &&
      !unit.dropIns.some((d) => hasInstallSection(d.content))
    )
      warnings.push(`${field}: enabled, but the unit has no [Install] section, so enabling does nothing`);
    units.push({
      name: unit.name,
      enabled,
      contents: unit.content,
      dropIns: unit.dropIns.map((d) => ({ name: d.name, contents: d.content })).sort(byName),
    });
  });
  return { units, startOnce };
}

/** A path that is written as a file cannot also be a directory that holds another path. */
function checkParents(owners: Map<string, string>, v: Violations): void {
  for (const [path, owner] of owners) {
    for (const dir of ancestors(path)) {
      const dirOwner = owners.get(dir);
      if (!dirOwner) continue;
      // Blame the request's own entry; an extension file is never at fault.
      if (dirOwner.startsWith("extension"))
        v.add(owner, `needs ${dir} to be a directory, but it is the ${dirOwner}`);
      else v.add(dirOwner, `is a file, but ${owner} needs ${dir} to be a directory`);
    }
  }
}

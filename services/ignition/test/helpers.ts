// Builders for requests and readers for rendered user data, shared by the ignition tests.

import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import {
  type DropIn,
  type File,
  Purpose,
  type RenderRequest,
  SpecVersion,
  type Unit,
  UnitCommand,
} from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import { makeTempDir } from "@metal-kube/testing";

export const plainFile = (path: string, data: string, permissions?: number): File => ({
  path,
  permissions,
  content: { source: { $case: "inline", value: { encoding: "", data } }, transmitUnencoded: false },
});

export const b64File = (path: string, bytes: Buffer, encoding = "b64", permissions?: number): File => ({
  path,
  permissions,
  content: {
    source: { $case: "inline", value: { encoding, data: bytes.toString("base64") } },
    transmitUnencoded: false,
  },
});

export const secretFile = (path: string, data: Buffer | undefined, permissions?: number): File => ({
  path,
  permissions,
  content: {
    source: {
      $case: "secretRef",
      value: { name: "node-secrets", dataKey: path.split("/").pop() ?? "", data },
    },
    transmitUnencoded: false,
  },
});

export const imageFile = (path: string): File => ({
  path,
  permissions: 0o755,
  content: {
    source: {
      $case: "imageRef",
      value: { image: "registry.example/tools:v1", filePathInImage: "/bin/tool" },
    },
    transmitUnencoded: false,
  },
});

export const unit = (name: string, extra: Partial<Unit> = {}): Unit => ({
  name,
  enable: undefined,
  command: UnitCommand.UNIT_COMMAND_UNSPECIFIED,
  content: undefined,
  dropIns: [] as DropIn[],
  filePaths: [],
  ...extra,
});

export const request = (extra: Partial<RenderRequest> = {}): RenderRequest => ({
  namespace: "shoot--p--c",
  name: "osc-worker-a",
  type: "ubuntu",
  purpose: Purpose.PURPOSE_PROVISION,
  files: [],
  units: [],
  containerRuntime: { name: "containerd", cgroupDriver: "cgroupfs" },
  providerConfig: undefined,
  specVersion: SpecVersion.SPEC_VERSION_UNSPECIFIED,
  ...extra,
});

/** Decodes an Ignition data URL (optionally gzip-compressed) back to bytes. */
export function decodeSource(source: string, compression?: string): Buffer {
  if (!source.startsWith("data:")) throw new Error(`not a data URL: ${source.slice(0, 40)}`);
  const comma = source.indexOf(",");
  const meta = source.slice(5, comma);
  const body = source.slice(comma + 1);
  const raw = meta.endsWith(";base64")
    ? Buffer.from(body, "base64")
    : Buffer.from(decodeURIComponent(body), "latin1");
  return compression === "gzip" ? gunzipSync(raw) : raw;
}

export interface IgnFile {
  path: string;
  mode: number;
  overwrite: boolean;
  data: Buffer;
  compression?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: parsed Ignition JSON
export type IgnConfig = any;

/** The files of rendered user data, decoded. */
export function ignitionFiles(config: IgnConfig): Map<string, IgnFile> {
  const out = new Map<string, IgnFile>();
  for (const f of config.storage?.files ?? [])
    out.set(f.path, {
      path: f.path,
      mode: f.mode,
      overwrite: f.overwrite,
      data: decodeSource(f.contents.source, f.contents.compression),
      compression: f.contents.compression,
    });
  return out;
}

export interface ValidateResult {
  ok: boolean;
  output: string;
}

const validateDir = makeTempDir("ignition-validate-");
let counter = 0;

/** Runs Debian's ignition-validate (the real Ignition parser and validator) on user data. */
export async function ignitionValidate(userData: Buffer | string): Promise<ValidateResult> {
  const file = join(validateDir.path, `config-${process.pid}-${counter++}.ign`);
  await writeFile(file, userData);
  return new Promise((resolve) => {
    execFile("ignition-validate", [file], (err, stdout, stderr) => {
      resolve({ ok: err === null, output: `${stdout}${stderr}`.trim() });
    });
  });
}

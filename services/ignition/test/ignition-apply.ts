// Applies user data with the real Ignition (Debian's `ignition` package ships the binary for the
// initramfs) to a temporary root, as its `files` stage does on a machine's first boot.

import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "@metal-kube/testing";

export const IGNITION_BINARY = "/usr/lib/dracut/modules.d/30ignition/ignition";
export const ignitionAvailable = () => existsSync(IGNITION_BINARY) && process.getuid?.() === 0;

const run = (args: string[], env: NodeJS.ProcessEnv) =>
  new Promise<{ ok: boolean; output: string }>((resolve) =>
    execFile(IGNITION_BINARY, args, { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ ok: err === null, output: `${stdout}${stderr}` }),
    ),
  );

export interface Applied {
  root: string;
  output: string;
  remove(): void;
}

/** Runs Ignition's fetch-offline and files stages on `userData` against a fresh root directory. */
export async function applyWithIgnition(userData: Buffer): Promise<Applied> {
  const dir = makeTempDir("ignition-apply-");
  const root = join(dir.path, "root");
  // Ignition relabels what it wrote when the root has an SELinux config, and fails without one; a
  // no-op setfiles stands in for SELinux, which has nothing to do with the files' content.
  mkdirSync(join(root, "etc/selinux"), { recursive: true });
  writeFileSync(join(root, "etc/selinux/config"), "SELINUX=disabled\nSELINUXTYPE=targeted\n");
  const bin = join(dir.path, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "setfiles"), "#!/bin/sh\ncat >/dev/null\nexit 0\n");
  chmodSync(join(bin, "setfiles"), 0o755);
  const config = join(dir.path, "config.ign");
  writeFileSync(config, userData);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, IGNITION_CONFIG_FILE: config };
  const common = [
    "-platform",
    "file",
    "-log-to-stdout",
    "-config-cache",
    join(dir.path, "cache.json"),
    "-state-file",
    join(dir.path, "state"),
  ];
  const fetch = await run([...common, "-stage", "fetch-offline", "-neednet", join(dir.path, "neednet")], env);
  if (!fetch.ok) throw new Error(`ignition fetch-offline failed:\n${fetch.output.slice(-4000)}`);
  const files = await run([...common, "-stage", "files", "-root", root], env);
  if (!files.ok) throw new Error(`ignition files failed:\n${files.output.slice(-4000)}`);
  return { root, output: files.output, remove: dir.remove };
}

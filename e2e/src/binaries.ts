import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { commandPath } from "@metal-kube/testing";
import { type InstallDebianOptions, installDebianPackages } from "./debian-packages.js";
import { buildGoBinary, type GoBinary, goBinaryPath, goCommand, goEnv } from "./go-builder.js";
import { onPath, runCommand } from "./run-command.js";
import { GRPCURL_VERSION, KUBERNETES_STAGING_VERSION, KUBERNETES_VERSION, MODULES } from "./versions.js";

export type Progress = (line: string) => void;

/**
 * The `k8s.io/*` staging modules of a Kubernetes release, read from its own go.mod (it points them at
 * ./staging/src/..., which only works inside its repo; a consumer must pin them to v0.x).
 */
async function kubernetesStagingModules(version: string): Promise<string[]> {
  const json = await runCommand(goCommand(), ["mod", "download", "-json", `k8s.io/kubernetes@${version}`], {
    cwd: tmpdir(),
    env: { ...goEnv(), GOFLAGS: "" },
  });
  const info = JSON.parse(json) as { GoMod?: string; Error?: string };
  if (!info.GoMod)
    throw new Error(`go mod download k8s.io/kubernetes@${version}: ${info.Error ?? "no go.mod"}`);
  const mods = [
    ...readFileSync(info.GoMod, "utf8").matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm),
  ].map((m) => m[1] as string);
  if (mods.length === 0) throw new Error(`no staging replace lines found in ${info.GoMod}`);
  return mods;
}

/** kube-apiserver at KUBERNETES_VERSION, built once and cached. */
export async function ensureKubeApiserver(onProgress?: Progress): Promise<GoBinary> {
  if (existsSync(goBinaryPath("kube-apiserver", KUBERNETES_VERSION)))
    return { path: goBinaryPath("kube-apiserver", KUBERNETES_VERSION), built: false, buildMs: 0 };
  const staging = await kubernetesStagingModules(KUBERNETES_VERSION);
  const minor = /^v1\.(\d+)\./.exec(KUBERNETES_VERSION)?.[1] ?? "";
  const pkgVersion = "k8s.io/component-base/version";
  return buildGoBinary({
    name: "kube-apiserver",
    module: "k8s.io/kubernetes",
    version: KUBERNETES_VERSION,
    pkg: "k8s.io/kubernetes/cmd/kube-apiserver",
    replaces: Object.fromEntries(staging.map((m) => [m, KUBERNETES_STAGING_VERSION])),
    // Without these the server reports v0.0.0-master, which clients print in version checks.
    ldflags: [
      "-s -w",
      `-X ${pkgVersion}.gitVersion=${KUBERNETES_VERSION}`,
      `-X ${pkgVersion}.gitMajor=1`,
      `-X ${pkgVersion}.gitMinor=${minor}`,
    ].join(" "),
    onProgress,
  });
}

/** The real machine-controller-manager (its controller-manager binary), for the machine-driver e2e tests. */
export function ensureMachineControllerManager(onProgress?: Progress): Promise<GoBinary> {
  return buildGoBinary({
    name: "machine-controller-manager",
    module: MODULES.machineControllerManager.module,
    version: MODULES.machineControllerManager.version,
    pkg: "github.com/gardener/machine-controller-manager/cmd/machine-controller-manager",
    onProgress,
  });
}

/**
 * Gardener's own API server (core.gardener.cloud, security.gardener.cloud, ...) at GARDENER_VERSION, run
 * by tests as an aggregated API behind the test bed's kube-apiserver so Gardener objects go through
 * Gardener's real validation, defaulting and admission plugins before our webhooks see them.
 */
export function ensureGardenerApiserver(onProgress?: Progress): Promise<GoBinary> {
  const minor = /^v1\.(\d+)\./.exec(MODULES.gardener.version)?.[1] ?? "";
  const pkgVersion = "k8s.io/component-base/version";
  return buildGoBinary({
    name: "gardener-apiserver",
    module: MODULES.gardener.module,
    version: MODULES.gardener.version,
    pkg: "github.com/gardener/gardener/cmd/gardener-apiserver",
    // Gardener stamps its version into component-base like Kubernetes does; clients print it.
    ldflags: [
      "-s -w",
      `-X ${pkgVersion}.gitVersion=${MODULES.gardener.version}`,
      `-X ${pkgVersion}.gitMajor=1`,
      `-X ${pkgVersion}.gitMinor=${minor}`,
    ].join(" "),
    onProgress,
  });
}

/** grpcurl at GRPCURL_VERSION, built once and cached. */
export function ensureGrpcurl(onProgress?: Progress): Promise<GoBinary> {
  return buildGoBinary({
    name: "grpcurl",
    module: "github.com/fullstorydev/grpcurl",
    version: GRPCURL_VERSION,
    pkg: "github.com/fullstorydev/grpcurl/cmd/grpcurl",
    ldflags: `-s -w -X main.version=${GRPCURL_VERSION}`,
    onProgress,
  });
}

/**
 * Installs Debian package `pkg` when `command` is not on PATH (idempotent), as root or through `sudo -n`
 * like scripts/ensure.mjs (both go through installDebianPackages).
 */
export async function ensureDebianCommand(
  command: string,
  pkg: string,
  onProgress?: Progress,
  options: Omit<InstallDebianOptions, "onProgress"> = {},
): Promise<void> {
  const hasCommand = options.hasCommand ?? onPath;
  // Installed in an sbin dir off this user's PATH counts too: its callers spawn it through commandPath.
  const present = async () => (await hasCommand(command)) || commandPath(command, "") !== command;
  if (await present()) return;
  onProgress?.(`${command} missing: installing Debian package ${pkg}`);
  await installDebianPackages([pkg], { ...options, hasCommand, onProgress });
  if (!(await present())) throw new Error(`apt-get installed ${pkg} but ${command} is still not on PATH`);
}

/** Debian's etcd-server, openssl and nats-server, installed when missing. */
export async function ensureSystemTools(onProgress?: Progress): Promise<void> {
  await ensureDebianCommand("etcd", "etcd-server", onProgress);
  await ensureDebianCommand("openssl", "openssl", onProgress);
  await ensureDebianCommand("nats-server", "nats-server", onProgress);
}

export interface TestbedBinaries {
  kubeApiserver: string;
  grpcurl: string;
}

/** Everything the test bed runs: system packages first (fast), then the Go builds. */
export async function ensureBinaries(onProgress?: Progress): Promise<TestbedBinaries> {
  await ensureSystemTools(onProgress);
  const kubeApiserver = await ensureKubeApiserver(onProgress);
  const grpcurl = await ensureGrpcurl(onProgress);
  return { kubeApiserver: kubeApiserver.path, grpcurl: grpcurl.path };
}

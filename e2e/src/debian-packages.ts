// Installs Debian packages with the privileges this user has: apt-get itself as root, `sudo -n apt-get`
// otherwise (never a password prompt: `npm start` and `npm test` run unattended). The one implementation
// behind scripts/ensure.mjs (through install-debian-cli.ts) and the test bed's own checks.
import { onPath, runCommand } from "./run-command.js";

/** Runs one command to completion; rejects (with the command's output in the message) when it fails. */
export type CommandRunner = (
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
) => Promise<unknown>;

export interface InstallDebianOptions {
  /** Whether this process runs as root (default: its uid is 0). */
  isRoot?: boolean;
  /** Runs apt-get (default: runCommand, its output lines passed to onProgress). */
  run?: CommandRunner;
  /** Whether a command is on PATH (default: a `command -v` lookup); used to find sudo. */
  hasCommand?: (cmd: string) => Promise<boolean>;
  onProgress?: (line: string) => void;
}

type ParsedInstallOptions = Required<Omit<InstallDebianOptions, "onProgress">> &
  Pick<InstallDebianOptions, "onProgress">;

export const DEFAULT_INSTALL_DEBIAN_OPTIONS = {
  isRoot: process.getuid?.() === 0,
  hasCommand: onPath,
} as const;

/** Waits for a dpkg lock held by another install (two test workers, unattended-upgrades) instead of failing. */
const LOCK_WAIT = ["-o", "DPkg::Lock::Timeout=300"];
const INSTALL_FLAGS = ["install", "-y", "-qq", "--no-install-recommends"];

function parseOptions(o: InstallDebianOptions): ParsedInstallOptions {
  const onProgress = o.onProgress;
  return {
    isRoot: o.isRoot ?? DEFAULT_INSTALL_DEBIAN_OPTIONS.isRoot,
    hasCommand: o.hasCommand ?? DEFAULT_INSTALL_DEBIAN_OPTIONS.hasCommand,
    run: o.run ?? ((cmd, args, env) => runCommand(cmd, args, { env, onLine: onProgress })),
    onProgress,
  };
}

/** The error for packages that could not be installed: names them and the command to run by hand. */
export class DebianInstallError extends Error {
  constructor(
    readonly packages: readonly string[],
    reason: string,
    readonly byHand: string,
    options?: ErrorOptions,
  ) {
    super(
      `could not install Debian package${packages.length === 1 ? "" : "s"} ${packages.join(" ")}: ${reason}; ` +
        `install by hand with: ${byHand}`,
      options,
    );
    this.name = "DebianInstallError";
  }
}

/**
 * The argv prefix apt-get runs under: nothing as root, `sudo -n` otherwise; undefined when this user is not
 * root and has no sudo, so nothing can install packages.
 */
export async function aptGetPrefix(
  isRoot: boolean,
  hasCommand: (cmd: string) => Promise<boolean>,
): Promise<string[] | undefined> {
  if (isRoot) return [];
  return (await hasCommand("sudo")) ? ["sudo", "-n"] : undefined;
}

/** The command a person runs to install `packages` themselves. */
export function installByHand(packages: readonly string[], isRoot: boolean): string {
  const sudo = isRoot ? "" : "sudo ";
  return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${packages.join(" ")}`;
}

/**
 * Installs `packages` in one apt-get run. A failed install is retried once after `apt-get update`
 * (a fresh machine has no package lists); when that fails too, or nothing can run apt-get, a
 * DebianInstallError names the packages and the command to run by hand.
 */
export async function installDebianPackages(
  packages: readonly string[],
  options: InstallDebianOptions = {},
): Promise<void> {
  if (packages.length === 0) return;
  const o = parseOptions(options);
  const byHand = installByHand(packages, o.isRoot);
  const prefix = await aptGetPrefix(o.isRoot, o.hasCommand);
  if (!prefix)
    throw new DebianInstallError(packages, "not running as root and sudo is not installed", byHand);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const aptGet = (args: readonly string[]) => {
    const argv = [...prefix, "apt-get", ...LOCK_WAIT, ...args];
    return o.run(argv[0] as string, argv.slice(1), env);
  };
  const how = `${prefix.length > 0 ? "sudo -n " : ""}apt-get`;
  o.onProgress?.(`installing ${packages.join(" ")} with ${how}`);
  try {
    await aptGet([...INSTALL_FLAGS, ...packages]);
    return;
  } catch {
    o.onProgress?.(`${how} install failed; refreshing package lists and retrying`);
  }
  try {
    await aptGet(["update", "-qq"]);
    await aptGet([...INSTALL_FLAGS, ...packages]);
  } catch (err) {
    const cause = err instanceof Error ? err.message : String(err);
    // sudo's own refusal ("a password is required") is the reason most worth seeing, so keep the tail.
    throw new DebianInstallError(packages, `${how} failed (${cause.trim().slice(-600)})`, byHand, {
      cause: err,
    });
  }
}

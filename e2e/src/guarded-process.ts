import { existsSync } from "node:fs";
import { type ManagedProcess, type SpawnOptions, spawnProcess } from "@metal-kube/testing";

const SETPRIV = "/usr/bin/setpriv";

/**
 * Spawns a server process of the test bed that dies with the process that started it, even when that
 * one is killed with SIGKILL (an ava timeout, Ctrl-\): util-linux `setpriv --pdeathsig` sets the
 * kernel's parent-death signal and then execs the command, so the pid is the server's own. Without
 * setpriv it falls back to the exit hook of spawnProcess, which covers every normal exit.
 */
export function spawnGuarded(cmd: string, args: readonly string[], opts?: SpawnOptions): ManagedProcess {
  if (!existsSync(SETPRIV)) return spawnProcess(cmd, [...args], opts);
  return spawnProcess(SETPRIV, ["--pdeathsig", "KILL", "--", cmd, ...args], opts);
}

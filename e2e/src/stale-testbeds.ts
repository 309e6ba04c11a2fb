import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { alive } from "./file-lock.js";

export const TESTBED_DIR_PREFIX = "metal-kube-testbed-";
/** Holds the pid of the process that started the test bed. */
export const OWNER_FILE = "owner.pid";
/** A dir without an owner file is left alone this long (it may be one being created right now). */
const UNOWNED_GRACE_MS = 10 * 60_000;

/**
 * Removes test bed dirs whose owner died without cleaning up (SIGKILL, OOM): their processes are gone
 * already (parent-death signal), but an etcd data dir in /dev/shm would hold memory until reboot.
 * Returns the removed paths.
 */
export function sweepStaleTestbeds(baseDir: string): string[] {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(baseDir).filter((e) => e.startsWith(TESTBED_DIR_PREFIX));
  } catch {
    return removed;
  }
  for (const e of entries) {
    const dir = join(baseDir, e);
    try {
      let stale: boolean;
      try {
        const pid = Number.parseInt(readFileSync(join(dir, OWNER_FILE), "utf8"), 10);
        stale = Number.isInteger(pid) && !alive(pid);
      } catch {
        stale = Date.now() - statSync(dir).mtimeMs > UNOWNED_GRACE_MS;
      }
      if (stale) {
        rmSync(dir, { recursive: true, force: true });
        removed.push(dir);
      }
    } catch {
      // Removed by someone else meanwhile, or not ours to remove: leave it.
    }
  }
  return removed;
}

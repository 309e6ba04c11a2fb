import { homedir } from "node:os";
import { join } from "node:path";

/** Root of everything the test bed caches outside the repo (Go build dirs, binaries, locks). */
export function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "metal-kube");
}

export const binDir = (): string => join(cacheRoot(), "bin");
export const goBuildDir = (key: string): string => join(cacheRoot(), "go", key);
export const lockDir = (): string => join(cacheRoot(), "locks");

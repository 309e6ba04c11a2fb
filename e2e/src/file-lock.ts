import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";

const DEFAULT_LOCK_TIMEOUT_MS = 60 * 60_000;

/** True while a process with this pid exists (EPERM: it exists but is not ours). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Runs `fn` holding an exclusive lock file, so two processes (two ava workers, or `npm test` next to
 * `npm run testbed`) never build the same binary at once. A lock left by a dead process is taken over.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  {
    timeoutMs = DEFAULT_LOCK_TIMEOUT_MS,
    onWait,
  }: { timeoutMs?: number; onWait?: (holder: number) => void } = {},
): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let holder = Number.NaN;
      try {
        holder = Number.parseInt(readFileSync(path, "utf8"), 10);
      } catch {
        continue; // removed between open and read: try again at once
      }
      // An empty file is a holder that has created but not yet written it; give it time.
      if (Number.isInteger(holder) && !alive(holder)) {
        rmSync(path, { force: true });
        continue;
      }
      if (!told && Number.isInteger(holder)) {
        onWait?.(holder);
        told = true;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${path} held by pid ${holder}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

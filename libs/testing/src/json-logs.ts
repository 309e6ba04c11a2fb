import type { ManagedProcess } from "./process.js";

/**
 * The JSON log lines a process has written so far (pino's one object per line). Other lines, and a line
 * cut by the kept output's limit, are skipped.
 */
export function jsonLogs(proc: ManagedProcess): () => Array<Record<string, unknown>> {
  return () =>
    proc
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
}

import type { Logger } from "./create-logger.js";

/** How long exit waits for buffered log lines to reach stdout before it exits anyway. */
export const DEFAULT_EXIT_FLUSH_TIMEOUT_MS = 1000;

/**
 * Exits once the logger's buffered lines are written. An exit racing an asynchronous write can drop the
 * last lines (the ones saying why the process ended), so exit waits for the flush callback.
 */
export function exitAfterFlush(
  logger: Logger,
  code: number,
  timeoutMs = DEFAULT_EXIT_FLUSH_TIMEOUT_MS,
): void {
  process.exitCode = code;
  const exit = () => process.exit(code);
  setTimeout(exit, timeoutMs).unref();
  try {
    logger.flush(() => setImmediate(exit));
  } catch {
    setImmediate(exit);
  }
}

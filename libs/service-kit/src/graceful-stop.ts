import { exitAfterFlush, type Logger } from "@metal-kube/logging";

export interface GracefulStop {
  /** Runs the steps once, then exits 0 (1 when a step failed); a second call exits 1 at once. */
  stop(signal: string): Promise<void>;
  readonly stopping: boolean;
}

/** The stop of a service or adapter process on SIGTERM/SIGINT (or its primary's word). */
export function createGracefulStop(logger: Logger, steps: () => Promise<void>): GracefulStop {
  let stopping = false;
  return {
    get stopping() {
      return stopping;
    },
    async stop(signal) {
      if (stopping) {
        logger.warn({ signal }, "second signal: exiting now");
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, "shutdown requested");
      try {
        await steps();
        exitAfterFlush(logger, 0);
      } catch (err) {
        logger.error({ err }, "error during shutdown");
        exitAfterFlush(logger, 1);
      }
    },
  };
}

/** Stops on SIGTERM and SIGINT. */
export function stopOnSignals(g: GracefulStop): void {
  process.on("SIGTERM", () => void g.stop("SIGTERM"));
  process.on("SIGINT", () => void g.stop("SIGINT"));
}

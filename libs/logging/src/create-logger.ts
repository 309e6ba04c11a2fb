import pino, { type Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;

export interface LoggerOptions {
  /** Component name, written as `name` on every line. */
  name: string;
  /** pino level; default from LOG_LEVEL or "info". */
  level?: string;
  /** Extra pino redact paths beyond DEFAULT_REDACT_PATHS. */
  redact?: string[];
  /** Destination stream (tests capture logs through it); default stdout. */
  destination?: pino.DestinationStream;
}

/** Paths pino masks on every line, as a second fence behind redactSecrets for structured fields. */
export const DEFAULT_REDACT_PATHS = [
  "token",
  "*.token",
  "password",
  "*.password",
  "userData",
  "*.userData",
  "user_data",
  "*.user_data",
  "hmac",
  "*.hmac",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "metalAPIKey",
  "*.metalAPIKey",
  "metalAPIHMac",
  "*.metalAPIHMac",
];

/** Bytes buffered before a write: one syscall per line costs more than the call it logs. */
export const DEFAULT_LOG_BUFFER_BYTES = 8 * 1024;
/** Buffered lines reach stdout at least this often, so logs stay live. */
export const DEFAULT_LOG_FLUSH_MS = 100;

function bufferedStdout(): pino.DestinationStream {
  const dest = pino.destination({ dest: 1, sync: false, minLength: DEFAULT_LOG_BUFFER_BYTES });
  // pino flushes synchronously on exit; the timer only bounds how stale a quiet process's logs get.
  setInterval(() => {
    try {
      dest.flush();
    } catch {
      // A flush while a write is pending throws; the next tick catches up.
    }
  }, DEFAULT_LOG_FLUSH_MS).unref();
  return dest;
}

export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? "info";
  return pino(
    {
      name: options.name,
      level,
      redact: { paths: [...DEFAULT_REDACT_PATHS, ...(options.redact ?? [])], censor: "[REDACTED]" },
      base: { pid: process.pid },
      // Epoch milliseconds (pino's default): an ISO string per line cost ~3 us, more than the rest of a call line.
      timestamp: pino.stdTimeFunctions.epochTime,
    },
    options.destination ?? bufferedStdout(),
  );
}

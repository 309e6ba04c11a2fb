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

export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? "info";
  return pino(
    {
      name: options.name,
      level,
      redact: { paths: [...DEFAULT_REDACT_PATHS, ...(options.redact ?? [])], censor: "[REDACTED]" },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

export {
  createLogger,
  DEFAULT_REDACT_PATHS,
  type Logger,
  type LoggerOptions,
} from "./create-logger.js";
export { DEFAULT_EXIT_FLUSH_TIMEOUT_MS, exitAfterFlush } from "./exit-after-flush.js";
export {
  createLineBuffer,
  DEFAULT_LOG_BUFFER_BYTES,
  DEFAULT_LOG_FLUSH_MS,
  DEFAULT_LOG_MAX_BUFFERED,
  type LineBuffer,
  type LineBufferOptions,
} from "./line-buffer.js";
export { isSecretKey, redactSecrets, SECRET_KEY_PATTERN } from "./redact.js";

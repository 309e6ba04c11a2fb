export { createMetalApiClient, type MetalApiClient } from "./client.js";
export {
  computeHmac,
  formatHmacDate,
  HMAC_AUTH_TYPES,
  HMAC_DATE_HEADER,
  HMAC_SALT_HEADER,
  HMAC_SALT_LENGTH,
  type HmacAuthType,
  type HmacHeaderOptions,
  type HmacKey,
  type HmacVerification,
  hmacHeaders,
  randomSalt,
  verifyHmac,
} from "./hmac.js";
export {
  type ArrayPicker,
  createArrayPicker,
  JsonPickError,
  type PickShape,
  pickArray,
} from "./json-pick.js";
export { MACHINE_SUMMARY_SHAPE, type MachineSummary } from "./machine-summary.js";
export {
  isBadRequest,
  isConflict,
  isForbidden,
  isMetalApiError,
  isNoMachineAvailable,
  isNotFound,
  MetalApiConfigError,
  MetalApiError,
  type MetalApiErrorInit,
  type MetalApiErrorKind,
} from "./metal-api-error.js";
export {
  DEFAULT_CONNECTIONS,
  DEFAULT_HMAC_AUTH_TYPE,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_RETRIES,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_USER_AGENT,
  type MetalApiClientOptions,
  parseOptions,
} from "./options.js";
export type { CallOptions, Operation } from "./transport.js";
export type * from "./types/index.js";

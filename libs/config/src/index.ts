export { ConfigError, type ConfigIssue } from "./config-error.js";
export { maskUrlCredentials } from "./mask-url.js";
export {
  type ConfigSpec,
  type ConfigValues,
  describeConfig,
  effectiveConfig,
  type FieldSpec,
  field,
  type LoadConfigOptions,
  loadConfig,
  parseConfig,
} from "./parse-config.js";
export { bool, duration, enumOf, hostPort, integer, list, listenAddress, port, text, url } from "./types.js";

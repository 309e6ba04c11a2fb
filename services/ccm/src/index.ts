export { type CloudProvider, type CloudProviderOptions, createCloudProvider } from "./cloud-provider.js";
export { ccmConfigSpec, DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN } from "./config.js";
export { type CcmEvent, type CcmEventSink, noEvents } from "./events.js";
export { MANAGED_BY, MANAGED_BY_LABEL, renderConfig } from "./lb-config.js";
export { SERVICE_NAME } from "./service.js";

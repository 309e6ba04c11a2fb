export { DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN, ignitionConfigSpec } from "./config.js";
export { createPublisherEventSink, EVENT_ENTITY, type EventSink, noopEventSink } from "./events.js";
export { DEFAULT_SPEC_VERSION, type RendererOptions } from "./options.js";
export { createRenderer, type Renderer } from "./renderer.js";
export { createIgnitionService } from "./service.js";

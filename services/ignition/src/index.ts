export {
  CHECKSUM_ANNOTATION,
  createOscActuator,
  RESULT_SECRET_KEY,
  type RenderClient,
  resultSecretName,
} from "./adapter/actuator.js";
export type { OperatingSystemConfig } from "./adapter/osc.js";
export { oscToRequest } from "./adapter/osc-request.js";
export { createPublisherEventSink, EVENT_ENTITY, type EventSink, noopEventSink } from "./events.js";
export { DEFAULT_SPEC_VERSION, type RendererOptions } from "./options.js";
export { createRenderer, type Renderer } from "./renderer.js";
export { DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN, startIgnitionServer } from "./server.js";
export { createIgnitionService } from "./service.js";

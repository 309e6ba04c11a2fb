export { type Admission, createAdmission } from "./admission.js";
export { DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN, extensionConfigSpec } from "./config.js";
export { DEFAULT_SHOOT_DEFAULTS, type ShootDefaults } from "./defaults/options.js";
export { ADMISSION_ENTITY, createRecordingEventSink, type EventSink } from "./events.js";
export { createSeedMutation, type SeedMutation } from "./seed-mutation.js";
export { createAdmissionService, createSeedMutationService } from "./service.js";

export {
  type BuildCloudEventInput,
  buildCloudEvent,
  CLOUD_EVENT_CONTENT_TYPE,
  CLOUD_EVENT_SPEC_VERSION,
  type CloudEvent,
  decodeCloudEvent,
  encodeCloudEvent,
} from "./cloud-event.js";
export {
  EventsError,
  type EventsErrorCode,
  InvalidEventError,
  InvalidOptionError,
  OutboxFullError,
} from "./errors.js";
export * from "./options.js";
export {
  createEventPublisher,
  type EventPublisher,
  type EventPublisherStats,
  type PublishInput,
} from "./publisher.js";
export { type EnsureStreamOptions, ensureStream } from "./stream.js";
export { eventSubject, parseEventSubject, SUBJECT_PREFIX, type SubjectParts } from "./subject.js";
export {
  createEventSubscriber,
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_RETRY_MS,
  DEFAULT_SUBSCRIBE_SUBJECT,
  type DeliverFrom,
  type EventSubscriber,
  type EventSubscriberOptions,
  type ReceivedEvent,
} from "./subscriber.js";

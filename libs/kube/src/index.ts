export {
  type Backoff,
  type BackoffOptions,
  backoffDelay,
  createBackoff,
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_FACTOR,
  DEFAULT_BACKOFF_JITTER,
  DEFAULT_BACKOFF_MAX_MS,
} from "./backoff.js";
export {
  type Controller,
  type ControllerOptions,
  createController,
  DEFAULT_SYNC_TIMEOUT_MS,
  defaultEnqueueOnUpdate,
} from "./controller.js";
export {
  createEventRecorder,
  DEFAULT_EVENT_CACHE_SIZE,
  DEFAULT_EVENT_CORRELATION_WINDOW_MS,
  type EventRecorder,
  type EventRecorderOptions,
  type EventType,
  MAX_EVENT_MESSAGE_LENGTH,
} from "./event-recorder.js";
export { addFinalizer, hasFinalizer, removeFinalizer } from "./finalizers.js";
export {
  createInformer,
  DEFAULT_PAGE_SIZE,
  DEFAULT_RELIST_AFTER_FAILURES,
  DEFAULT_RETRY_BASE_MS,
  DEFAULT_RETRY_MAX_MS,
  DEFAULT_WATCH_IDLE_TIMEOUT_MS,
  DEFAULT_WATCH_TIMEOUT_SECONDS,
  type Informer,
  type InformerHandler,
  type InformerOptions,
} from "./informer.js";
export {
  createInformerFactory,
  type InformerFactory,
  type InformerFactoryOptions,
  type InformerSelection,
} from "./informer-factory.js";
export { createKubeClient, type KubeClient, type KubeClientOptions, loadKubeConfig } from "./kube-client.js";
export {
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isNotFound,
  KubeError,
  type RequestTarget,
} from "./kube-error.js";
export {
  createLeaderElector,
  DEFAULT_LEASE_DURATION_MS,
  DEFAULT_RENEW_DEADLINE_MS,
  DEFAULT_RETRY_PERIOD_MS,
  LEASES,
  type LeaderElector,
  type LeaderElectorOptions,
} from "./leader-election.js";
export {
  createKubeMetrics,
  DEFAULT_DURATION_BUCKETS,
  DEFAULT_METRICS_PREFIX,
  type KubeMetrics,
  type KubeMetricsOptions,
} from "./metrics.js";
export {
  type Condition,
  conditionsStatus,
  kubeTime,
  lastOperationStatus,
  noStatus,
  type OperationReport,
  type OperationState,
  type OperationType,
  type StatusWriter,
} from "./operation-status.js";
export { parseOptions } from "./parse-options.js";
export {
  createMergePatch,
  DEFAULT_CONFLICT_ATTEMPTS,
  jsonEqual,
  jsonPatchWithRetry,
  type MutateOptions,
  mutateWithRetry,
} from "./patch.js";
export {
  describePermission,
  type Permission,
  PermissionError,
  policyRules,
  verifyPermissions,
  whoAmI,
} from "./permissions.js";
export {
  type Actuator,
  type ActuatorContext,
  type ActuatorResult,
  createReconciler,
  OPERATION_ANNOTATION,
  type Reconciler,
  type ReconcilerOptions,
  type StatusStyle,
} from "./reconciler.js";
export { isRequeueAfterError, RequeueAfterError } from "./requeue-after-error.js";
export { apiVersionOf, collectionPath, objectPath, type ResourceRef, resourceId } from "./resource.js";
export {
  createResourceClient,
  type DeleteParams,
  type JsonPatchOp,
  type ListParams,
  type ObjectRef,
  PATCH_CONTENT_TYPES,
  type PatchParams,
  type PatchType,
  type ResourceClient,
  type WatchParams,
} from "./resource-client.js";
export { sleep } from "./sleep.js";
export { createStore, type IndexFunc, NAMESPACE_INDEX, type Store } from "./store.js";
export {
  createTransport,
  DEFAULT_AUTH_REFRESH_MS,
  DEFAULT_MAX_SOCKETS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type KubeRequest,
  type Query,
  type Transport,
  type TransportOptions,
  type WatchEnd,
  type WatchRequest,
} from "./transport.js";
export {
  type KubeList,
  type KubeObject,
  type KubeStatus,
  type ListMeta,
  type ObjectMeta,
  type OwnerReference,
  objectKey,
  splitKey,
  type WatchEvent,
  type WatchEventType,
} from "./types.js";
export {
  createWorkQueue,
  DEFAULT_CONCURRENCY,
  DEFAULT_QUEUE_BACKOFF_BASE_MS,
  DEFAULT_QUEUE_BACKOFF_MAX_MS,
  DEFAULT_RESYNC_PERIOD_MS,
  type QueueResult,
  type WorkQueue,
  type WorkQueueOptions,
} from "./work-queue.js";

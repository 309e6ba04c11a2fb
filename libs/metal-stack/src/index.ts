export { isLabelKey, isLabelValue, tagsToLabels } from "./labels.js";
export { metalApiErrorToServiceError, metalErrorMapper, outcomeUnknown } from "./metal-errors.js";
export {
  formatProviderId,
  isMetalProviderId,
  machineIdOf,
  PROVIDER_ID_SCHEME,
  type ProviderId,
  parseProviderId,
} from "./provider-id.js";
export {
  clusterTag,
  egressTag,
  isReservedTag,
  LABEL_HOSTNAME,
  LABEL_INSTANCE_TYPE,
  LABEL_REGION,
  LABEL_ZONE,
  machineTag,
  serviceOfTag,
  serviceTag,
  TAG_CLUSTER,
  TAG_CLUSTER_NAME,
  TAG_CLUSTER_PROJECT,
  TAG_EGRESS,
  TAG_MACHINE,
  TAG_PRIMARY_ASN,
  TAG_RACK,
  TAG_SERVICE,
  tag,
  tagKey,
  tagValue,
  tagValues,
} from "./tags.js";

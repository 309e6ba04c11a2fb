export { applyManifests, FIELD_MANAGER, type ManifestInput, parseManifests } from "./apply.js";
export {
  ensureBinaries,
  ensureDebianCommand,
  ensureGardenerApiserver,
  ensureGrpcurl,
  ensureKubeApiserver,
  ensureMachineControllerManager,
  ensureSystemTools,
  type Progress,
  type TestbedBinaries,
} from "./binaries.js";
export { binDir, cacheRoot } from "./cache-paths.js";
export { ADMIN_USER, makeCerts, type TestbedCerts } from "./certs.js";
export {
  ALL_CRDS,
  CRD_GROUPS,
  CRD_SOURCES,
  type CrdName,
  DEFAULT_CRD_TIMEOUT_MS,
  downloadCrdModules,
  installCrds,
  loadCrd,
  waitEstablished,
} from "./crds.js";
export { ensureTestBinaries, type TestBinaries } from "./ensure-test-binaries.js";
export { withFileLock } from "./file-lock.js";
export {
  DEFAULT_GARDEN_READY_TIMEOUT_MS,
  GARDEN_API_GROUP_VERSIONS,
  type GardenTestbed,
  type GardenTestbedOptions,
  startGardenTestbed,
} from "./garden-testbed.js";
export {
  type BuildGoBinaryOptions,
  type BuildRepoGoBinaryOptions,
  buildGoBinary,
  buildRepoGoBinary,
  DEFAULT_GO_COMMAND,
  DEFAULT_GO_LDFLAGS,
  type GoBinary,
  goBinaryPath,
  goCommand,
  goModuleDir,
} from "./go-builder.js";
export { loadKubeConfig, writeKubeconfig } from "./kubeconfig.js";
export { DEFAULT_TOKEN_EXPIRATION_SECONDS, type MintServiceAccountOptions } from "./service-account.js";
export {
  DEFAULT_TESTBED_OPTIONS,
  type ExtraApiserver,
  type RestartOptions,
  startTestbed,
  type Testbed,
  type TestbedOptions,
} from "./testbed.js";
export * from "./versions.js";

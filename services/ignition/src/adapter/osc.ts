import type { KubeObject } from "@metal-kube/kube";

/** The Gardener resource this adapter reconciles. */
export const OSC_RESOURCE = {
  group: "extensions.gardener.cloud",
  version: "v1alpha1",
  plural: "operatingsystemconfigs",
  kind: "OperatingSystemConfig",
} as const;

/** Gardener's FileContent (extensions.gardener.cloud/v1alpha1). */
export interface OscFileContent {
  inline?: { encoding: string; data: string };
  secretRef?: { name: string; dataKey: string };
  imageRef?: { image: string; filePathInImage: string };
  transmitUnencoded?: boolean;
}

export interface OscFile {
  path: string;
  permissions?: number;
  content: OscFileContent;
}

export interface OscUnit {
  name: string;
  command?: string;
  enable?: boolean;
  content?: string;
  dropIns?: { name: string; content: string }[];
  filePaths?: string[];
}

export interface OscSpec {
  type: string;
  purpose: string;
  files?: OscFile[];
  units?: OscUnit[];
  criConfig?: { name: string; cgroupDriver?: string };
  providerConfig?: unknown;
}

export interface OscStatus {
  cloudConfig?: { secretRef: { name: string; namespace: string } };
  extensionFiles?: OscFile[];
  extensionUnits?: OscUnit[];
  observedGeneration?: number;
  lastOperation?: { type: string; state: string; description: string };
  [field: string]: unknown;
}

export interface OperatingSystemConfig extends KubeObject {
  spec: OscSpec;
  status?: OscStatus;
}

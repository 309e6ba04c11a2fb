import type { DnsServer, NtpServer } from "./common.js";

/** `v1.PartitionBootConfiguration` */
export interface PartitionBootConfiguration {
  commandline?: string;
  imageurl?: string;
  kernelurl?: string;
}

/** `v1.PartitionResponse` */
export interface PartitionResponse {
  id: string;
  name?: string;
  description?: string;
  bootconfig: PartitionBootConfiguration;
  dns_servers?: DnsServer[];
  ntp_servers?: NtpServer[];
  labels?: Record<string, string>;
  mgmtserviceaddress?: string;
  created?: string;
  changed?: string;
}

export type SizeConstraintType = "cores" | "gpu" | "memory" | "storage";

/** `v1.SizeConstraint` */
export interface SizeConstraint {
  type: SizeConstraintType;
  min?: number;
  max?: number;
  identifier?: string;
}

/** `v1.SizeResponse` */
export interface SizeResponse {
  id: string;
  name?: string;
  description?: string;
  constraints: SizeConstraint[];
  labels: Record<string, string>;
  created?: string;
  changed?: string;
}

/** `v1.ImageResponse`; `features` holds "machine" and/or "firewall". */
export interface ImageResponse {
  id: string;
  name?: string;
  description?: string;
  url?: string;
  features?: string[];
  classification?: string;
  expirationDate: string;
  usedby?: string[];
  created?: string;
  changed?: string;
}

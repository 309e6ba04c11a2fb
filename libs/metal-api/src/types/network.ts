import type { AddressFamily } from "./common.js";

/** `v1.NetworkUsage` */
export interface NetworkUsage {
  available_ips: number;
  used_ips: number;
  available_prefixes: number;
  used_prefixes: number;
}

/** `v1.NetworkConsumption` */
export interface NetworkConsumption {
  ipv4?: NetworkUsage;
  ipv6?: NetworkUsage;
}

/** `v1.NetworkResponse` */
export interface NetworkResponse {
  id: string;
  name?: string;
  description?: string;
  partitionid?: string;
  projectid?: string;
  parentnetworkid?: string;
  prefixes: string[];
  destinationprefixes: string[];
  additionalAnnouncableCIDRs?: string[];
  defaultchildprefixlength?: Record<string, number>;
  labels?: Record<string, string>;
  nat: boolean;
  nattype: string;
  networktype: string;
  privatesuper: boolean;
  underlay: boolean;
  shared?: boolean;
  vrf?: number;
  vrfshared?: boolean;
  usage: NetworkUsage;
  consumption: NetworkConsumption;
  created?: string;
  changed?: string;
}

/** `v1.NetworkFindRequest`: every given field must match. */
export interface NetworkFindRequest {
  id?: string;
  name?: string;
  partitionid?: string;
  projectid?: string;
  parentnetworkid?: string;
  prefixes?: string[];
  destinationprefixes?: string[];
  labels?: Record<string, string>;
  nat?: boolean;
  privatesuper?: boolean;
  underlay?: boolean;
  vrf?: number;
  addressfamily?: AddressFamily;
}

/** `v1.NetworkAllocateRequest`: a child of the partition's private super network. */
export interface NetworkAllocateRequest {
  partitionid?: string;
  projectid?: string;
  name?: string;
  description?: string;
  labels?: Record<string, string>;
  destinationprefixes?: string[];
  /** Prefix length per address family, e.g. `{ IPv4: 22 }`. */
  length?: Record<string, number>;
  nat?: boolean;
  shared?: boolean;
  addressfamily?: AddressFamily;
}

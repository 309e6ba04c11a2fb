import type { AddressFamily } from "./common.js";

export type IpType = "ephemeral" | "static";

/** `v1.IPAllocateRequest` (POST /v1/ip/allocate and /v1/ip/allocate/{ip}) */
export interface IpAllocateRequest {
  networkid: string;
  projectid: string;
  type: IpType;
  name?: string;
  description?: string;
  tags?: string[];
  machineid?: string;
  addressfamily?: AddressFamily;
}

/** `v1.IPResponse` */
export interface IpResponse {
  ipaddress: string;
  allocationuuid: string;
  networkid: string;
  projectid: string;
  type: IpType;
  name?: string;
  description?: string;
  tags?: string[];
  created?: string;
  changed?: string;
}

/** `v1.IPUpdateRequest`: replaces type, name, description and tags. */
export interface IpUpdateRequest {
  ipaddress: string;
  type: IpType;
  name?: string;
  description?: string;
  tags?: string[];
}

/** `v1.IPFindRequest`: every given field must match. */
export interface IpFindRequest {
  ipaddress?: string;
  allocationuuid?: string;
  networkid?: string;
  networkprefix?: string;
  projectid?: string;
  machineid?: string;
  name?: string;
  type?: string;
  tags?: string[];
  addressfamily?: AddressFamily;
}

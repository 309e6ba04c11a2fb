// Wire types shared by several metal-api v1 resources, named after the spec's definitions.
// Field names are exactly as on the wire (snake_case where the spec has it); optional where the spec
// does not list the field as required.

/** `httperrors.HTTPErrorResponse`: every non-2xx body of metal-api. */
export interface HttpErrorResponse {
  statuscode: number;
  message: string;
}

/** `v1.DNSServer` */
export interface DnsServer {
  ip: string;
}

/** `v1.NTPServer` */
export interface NtpServer {
  address: string;
}

/** `rest.HealthResponse` */
export interface HealthResponse {
  status: string;
  message: string;
  services?: Record<string, HealthResponse>;
}

export type AddressFamily = "IPv4" | "IPv6";

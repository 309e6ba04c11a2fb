// The metal-api endpoint and credential from the MachineClass secret. The values stay in the call
// (and in the keyed client pool); they are never logged or put into errors.

import type { Secret } from "@metal-kube/proto/metalstack/machinedriver/v1/machine_driver";
import { ServiceError } from "@metal-kube/service-kit";

export type MetalCredential = { kind: "hmac"; hmac: string } | { kind: "token"; token: string };

export interface MetalEndpoint {
  url: string;
  credential: MetalCredential;
}

/** Checks the secret; the field names are the secret's keys, which users know from the MachineClass. */
export function parseSecret(secret: Secret | undefined, opts: { requireUserData: boolean }): MetalEndpoint {
  if (!secret) throw ServiceError.invalidArgument("secret", "is required");
  const url = secret.metalApiUrl.trim();
  if (url === "") throw ServiceError.invalidArgument("secret.metalAPIURL", "is required");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw ServiceError.invalidArgument("secret.metalAPIURL", "must be an http(s) URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw ServiceError.invalidArgument("secret.metalAPIURL", "must be an http(s) URL");
  const key = secret.metalApiKey.trim();
  const hmac = secret.metalApiHmac.trim();
  if (key !== "" && hmac !== "")
    throw ServiceError.invalidArgument("secret", "holds both metalAPIKey and metalAPIHMac; keep exactly one");
  if (key === "" && hmac === "")
    throw ServiceError.invalidArgument(
      "secret",
      "holds neither metalAPIKey nor metalAPIHMac; set exactly one",
    );
  if (opts.requireUserData && secret.userData.length === 0)
    throw ServiceError.invalidArgument("secret.userData", "is required");
  return { url, credential: key !== "" ? { kind: "token", token: key } : { kind: "hmac", hmac } };
}

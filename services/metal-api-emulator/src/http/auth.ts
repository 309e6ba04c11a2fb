import { HMAC_AUTH_TYPES, type HmacAuthType, type HmacKey, verifyHmac } from "@metal-kube/metal-api";

// metal-api's three users: an HMAC key (or bearer token) per role; a higher role includes the lower ones.

export type Role = "view" | "edit" | "admin";
export const ROLES: Role[] = ["view", "edit", "admin"];
const TYPE_ROLE: Record<HmacAuthType, Role> = {
  "Metal-View": "view",
  "Metal-Edit": "edit",
  "Metal-Admin": "admin",
};
const ROLE_TYPE: Record<Role, HmacAuthType> = {
  view: "Metal-View",
  edit: "Metal-Edit",
  admin: "Metal-Admin",
};

export interface AuthOptions {
  /** HMAC key per role; an empty key disables that user. */
  hmacKeys: Record<Role, string>;
  /** Oldest accepted X-Date per role, in ms (metal-api: 30 s view/edit, 90 s admin). */
  hmacLifetimesMs: Record<Role, number>;
  /** Bearer token per role; empty disables. A JWT with a past `exp` is refused even when it matches. */
  tokens: Record<Role, string>;
}

export type AuthResult = { ok: true; role: Role; user: string } | { ok: false; message: string };

const rank = (r: Role) => ROLES.indexOf(r);

export function hasRole(have: Role, need: Role): boolean {
  return rank(have) >= rank(need);
}

export function missingRoleMessage(need: Role): string {
  return `you are not member in one of [${ROLES.filter((r) => rank(r) >= rank(need))
    .map((r) => `maas-all-all-${r}`)
    .join(" ")}]`;
}

function jwtExpired(token: string, now: Date): boolean {
  const parts = token.split(".");
  if (parts.length !== 3) return false;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString()) as { exp?: unknown };
    return typeof claims.exp === "number" && claims.exp * 1000 < now.getTime();
  } catch {
    return false;
  }
}

export function createAuthenticator(o: AuthOptions) {
  const keys: Partial<Record<HmacAuthType, HmacKey>> = {};
  for (const r of ROLES)
    if (o.hmacKeys[r]) keys[ROLE_TYPE[r]] = { key: o.hmacKeys[r], lifetimeMs: o.hmacLifetimesMs[r] };

  return (
    headers: Record<string, string | string[] | undefined>,
    method: string,
    now = new Date(),
  ): AuthResult => {
    const authz = typeof headers.authorization === "string" ? headers.authorization : "";
    if (authz.startsWith("Bearer ")) {
      const token = authz.slice(7).trim();
      // highest role first: one token string configured for two roles means the higher one
      const role = [...ROLES].reverse().find((r) => o.tokens[r] !== "" && o.tokens[r] === token);
      if (!role) return { ok: false, message: "invalid token" };
      if (jwtExpired(token, now)) return { ok: false, message: "token is expired" };
      return { ok: true, role, user: `metal-${role}@token` };
    }
    const v = verifyHmac(
      {
        authorization: authz,
        date: typeof headers["x-date"] === "string" ? headers["x-date"] : undefined,
        salt: typeof headers["x-data-salt"] === "string" ? headers["x-data-salt"] : undefined,
      },
      method,
      keys,
      now,
    );
    if (!v.ok) return { ok: false, message: v.reason };
    const role = TYPE_ROLE[v.authType];
    return { ok: true, role, user: `metal-${role}@metal-pod.io` };
  };
}

export { HMAC_AUTH_TYPES };

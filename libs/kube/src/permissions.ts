import type { RequestTarget } from "./kube-error.js";
import type { Transport } from "./transport.js";

/** One permission an adapter needs, in RBAC terms. */
export interface Permission {
  verb: string;
  /** API group, "" for core. */
  group: string;
  /** Plural resource, without subresource. */
  resource: string;
  subresource?: string;
  /** Namespace the permission is needed in; cluster-wide when absent. */
  namespace?: string;
}

interface AccessReviewStatus {
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

/** The permissions an identity lacks, named the way `kubectl auth can-i` would. */
export class PermissionError extends Error {
  override readonly name = "PermissionError";
  readonly missing: Permission[];
  constructor(identity: string, missing: Permission[]) {
    const list = missing.map(describePermission).join("; ");
    super(`${identity} lacks RBAC permission: ${list}`);
    this.missing = missing;
  }
}

export function describePermission(p: Permission): string {
  const res = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
  const group = p.group === "" ? "the core group" : `group "${p.group}"`;
  return `cannot ${p.verb} resource "${res}" in ${group}${p.namespace ? ` in namespace "${p.namespace}"` : " (cluster-wide)"}`;
}

/**
 * Asks the apiserver (SelfSubjectAccessReview, allowed to every authenticated user) whether the
 * transport's identity has each permission, and throws one PermissionError listing all that are missing,
 * so an adapter with incomplete RBAC fails at start with the full list instead of one 403 at a time later.
 */
export async function verifyPermissions(transport: Transport, needed: Permission[]): Promise<void> {
  const results = await Promise.all(
    needed.map(async (p) => {
      const target: RequestTarget = {
        verb: "create",
        group: "authorization.k8s.io",
        resource: "selfsubjectaccessreviews",
      };
      const review = await transport.request<{ status?: AccessReviewStatus }>({
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectAccessReview",
          spec: {
            resourceAttributes: {
              verb: p.verb,
              group: p.group,
              resource: p.resource,
              subresource: p.subresource,
              namespace: p.namespace,
            },
          },
        },
        target,
      });
      return { p, allowed: review.status?.allowed === true };
    }),
  );
  const missing = results.filter((r) => !r.allowed).map((r) => r.p);
  if (missing.length) {
    const user = await whoAmI(transport);
    throw new PermissionError(user ? `user "${user}"` : `kubeconfig user "${transport.identity}"`, missing);
  }
}

/** RBAC PolicyRules granting exactly `permissions` (merged per group and resource), for Roles in manifests and tests. */
export function policyRules(
  permissions: Permission[],
): { apiGroups: string[]; resources: string[]; verbs: string[] }[] {
  const byResource = new Map<string, { group: string; resource: string; verbs: Set<string> }>();
  for (const p of permissions) {
    const resource = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
    const k = `${p.group}\u0000${resource}`;
    let e = byResource.get(k);
    if (!e) {
      e = { group: p.group, resource, verbs: new Set() };
      byResource.set(k, e);
    }
    e.verbs.add(p.verb);
  }
  return [...byResource.values()].map((e) => ({
    apiGroups: [e.group],
    resources: [e.resource],
    verbs: [...e.verbs].sort(),
  }));
}

/** The username the apiserver authenticates this transport as (SelfSubjectReview), or undefined. */
export async function whoAmI(transport: Transport): Promise<string | undefined> {
  try {
    const r = await transport.request<{ status?: { userInfo?: { username?: string } } }>({
      method: "POST",
      path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
      target: { verb: "create", group: "authentication.k8s.io", resource: "selfsubjectreviews" },
    });
    return r.status?.userInfo?.username;
  } catch {
    return undefined;
  }
}

import { join } from "node:path";
import {
  AuthorizationV1Api,
  CoreV1Api,
  type KubeConfig,
  RbacAuthorizationV1Api,
  type V1PolicyRule,
} from "@kubernetes/client-node";
import { waitFor } from "@metal-kube/testing";
import { applyManifests, type ManifestInput, parseManifests } from "./apply.js";
import { writeKubeconfig } from "./kubeconfig.js";

export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 24 * 3600;

export interface MintServiceAccountOptions {
  namespace: string;
  name: string;
  /** Namespaced permissions: a Role and RoleBinding named like the ServiceAccount. */
  rules?: V1PolicyRule[];
  /** Cluster-wide permissions: a ClusterRole and ClusterRoleBinding named "<namespace>:<name>". */
  clusterRules?: V1PolicyRule[];
  /**
   * Deploy manifests (file paths, YAML text or objects) applied first: the ServiceAccount and the
   * Roles, ClusterRoles and bindings that grant it its permissions, as the adapter is deployed.
   */
  manifests?: ManifestInput;
  /** Lifetime of the TokenRequest token (default a day). */
  expirationSeconds?: number;
}

export interface MintContext {
  admin: KubeConfig;
  server: string;
  caPem: string;
  dir: string;
}

const isConflict = (err: unknown) => (err as { code?: number }).code === 409;
async function createOrKeep(create: () => Promise<unknown>, replace?: () => Promise<unknown>) {
  try {
    await create();
  } catch (err) {
    if (!isConflict(err)) throw err;
    await replace?.();
  }
}

/**
 * Creates a ServiceAccount with exactly the given RBAC rules and writes a kubeconfig that
 * authenticates as it with a TokenRequest token, so an adapter under test runs with the permissions
 * its deploy manifests grant and no more. Returns the kubeconfig path.
 */
export async function mintServiceAccountKubeconfig(
  ctx: MintContext,
  o: MintServiceAccountOptions,
): Promise<string> {
  const core = ctx.admin.makeApiClient(CoreV1Api);
  const rbac = ctx.admin.makeApiClient(RbacAuthorizationV1Api);
  const { namespace, name } = o;
  const subject = { kind: "ServiceAccount", name, namespace };

  const probes: Probe[] = [];
  if (o.manifests !== undefined) {
    const docs = parseManifests(o.manifests);
    await applyManifests(ctx.admin, docs);
    probes.push(...grantedRules(docs, namespace, name));
  }
  await createOrKeep(() => core.createNamespace({ body: { metadata: { name: namespace } } }));
  await createOrKeep(() =>
    core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, namespace } } }),
  );
  if (o.rules) {
    const role = { metadata: { name, namespace }, rules: o.rules };
    await createOrKeep(
      () => rbac.createNamespacedRole({ namespace, body: role }),
      () => rbac.replaceNamespacedRole({ name, namespace, body: role }),
    );
    await createOrKeep(() =>
      rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name, namespace },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
          subjects: [subject],
        },
      }),
    );
  }
  if (o.clusterRules) {
    const crName = `${namespace}:${name}`;
    const cr = { metadata: { name: crName }, rules: o.clusterRules };
    await createOrKeep(
      () => rbac.createClusterRole({ body: cr }),
      () => rbac.replaceClusterRole({ name: crName, body: cr }),
    );
    await createOrKeep(() =>
      rbac.createClusterRoleBinding({
        body: {
          metadata: { name: crName },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: crName },
          subjects: [subject],
        },
      }),
    );
  }

  const tr = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: {
      spec: { audiences: [], expirationSeconds: o.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS },
    },
  });
  const token = tr.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);

  probes.push(...(o.rules ?? []).map((rule) => ({ rule, namespace })));
  probes.push(...(o.clusterRules ?? []).map((rule) => ({ rule, namespace: "" })));
  await waitUntilEffective(ctx.admin, namespace, name, probes);

  return writeKubeconfig({
    path: join(ctx.dir, `sa-${namespace}-${name}.kubeconfig`),
    server: ctx.server,
    caPem: ctx.caPem,
    user: `system:serviceaccount:${namespace}:${name}`,
    credentials: { token },
    namespace,
  });
}

/** A rule granted to the ServiceAccount and where it applies ("" = cluster-wide). */
interface Probe {
  rule: V1PolicyRule;
  namespace: string;
}

interface RbacDoc {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: V1PolicyRule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

/** The rules that the manifests' bindings grant to namespace/name, with their scope. */
function grantedRules(docs: readonly unknown[], namespace: string, name: string): Probe[] {
  const rbac = docs as RbacDoc[];
  const role = (kind: string, roleName: string, ns?: string) =>
    rbac.find(
      (d) =>
        d.kind === kind && d.metadata.name === roleName && (ns === undefined || d.metadata.namespace === ns),
    );
  const out: Probe[] = [];
  for (const b of rbac) {
    if (b.kind !== "RoleBinding" && b.kind !== "ClusterRoleBinding") continue;
    const bindsUs = b.subjects?.some(
      (s) =>
        s.kind === "ServiceAccount" && s.name === name && (s.namespace ?? b.metadata.namespace) === namespace,
    );
    if (!bindsUs || !b.roleRef) continue;
    const scope = b.kind === "ClusterRoleBinding" ? "" : (b.metadata.namespace ?? namespace);
    const r =
      b.roleRef.kind === "Role"
        ? role("Role", b.roleRef.name, b.metadata.namespace ?? namespace)
        : role("ClusterRole", b.roleRef.name);
    for (const rule of r?.rules ?? []) out.push({ rule, namespace: scope });
  }
  return out;
}

/**
 * The RBAC authorizer reads roles and bindings from informers, so fresh ones take a moment to apply.
 * Asks a SubjectAccessReview for every concrete rule until each is allowed, so the caller never sees
 * a 403 that is only propagation delay.
 */
async function waitUntilEffective(admin: KubeConfig, namespace: string, name: string, probes: Probe[]) {
  const concrete = probes.filter(
    ({ rule: r }) => r.verbs.length > 0 && (r.resources?.length ?? 0) > 0 && !r.resourceNames?.length,
  );
  if (concrete.length === 0) return;
  const authz = admin.makeApiClient(AuthorizationV1Api);
  const user = `system:serviceaccount:${namespace}:${name}`;
  await Promise.all(
    concrete.map(({ rule: r, namespace: ns }) => {
      const [resource, subresource] = (
        r.resources?.[0] === "*" ? "configmaps" : (r.resources?.[0] ?? "")
      ).split("/");
      const group = r.apiGroups?.[0] === "*" ? "" : (r.apiGroups?.[0] ?? "");
      const verb = r.verbs[0] === "*" ? "get" : (r.verbs[0] as string);
      return waitFor(
        `RBAC for ${user} to allow ${verb} ${resource}${group ? `.${group}` : ""}${ns ? ` in ${ns}` : ""}`,
        async () => {
          const res = await authz.createSubjectAccessReview({
            body: {
              spec: {
                user,
                groups: [
                  "system:serviceaccounts",
                  `system:serviceaccounts:${namespace}`,
                  "system:authenticated",
                ],
                resourceAttributes: { namespace: ns || undefined, verb, group, resource, subresource },
              },
            },
          });
          return res.status?.allowed === true;
        },
        { timeoutMs: 10_000, intervalMs: 50 },
      );
    }),
  );
}

import type { RequestTarget } from "./kube-error.js";
import { apiVersionOf, collectionPath, objectPath, type ResourceRef } from "./resource.js";
import type { Query, Transport, WatchEnd } from "./transport.js";
import type { KubeList, KubeObject, WatchEvent } from "./types.js";

export type PatchType = "merge" | "json" | "strategic" | "apply";

export const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

/** One RFC 6902 operation. */
export type JsonPatchOp =
  | { op: "add" | "replace" | "test"; path: string; value: unknown }
  | { op: "remove"; path: string }
  | { op: "move" | "copy"; from: string; path: string };

export interface ObjectRef {
  name: string;
  namespace?: string;
}

export interface ListParams {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  signal?: AbortSignal;
}

export interface WatchParams extends ListParams {
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  idleTimeoutMs: number;
}

export interface PatchParams extends ObjectRef {
  patch: unknown;
  type: PatchType;
  /** `status` to patch the status subresource. */
  subresource?: string;
  fieldManager?: string;
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean;
}

export interface DeleteParams extends ObjectRef {
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  gracePeriodSeconds?: number;
  /** Deletes only if the object still has this uid / resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** Typed CRUD, patch and watch calls for one resource. */
export interface ResourceClient<T extends KubeObject = KubeObject> {
  readonly resource: ResourceRef;
  readonly transport: Transport;
  list(params?: ListParams): Promise<KubeList<T>>;
  get(ref: ObjectRef): Promise<T>;
  create(obj: T, options?: { fieldManager?: string }): Promise<T>;
  replace(obj: T, options?: { subresource?: string; fieldManager?: string }): Promise<T>;
  patch(params: PatchParams): Promise<T>;
  mergePatch(ref: ObjectRef, patch: unknown, options?: { subresource?: string }): Promise<T>;
  jsonPatch(ref: ObjectRef, ops: JsonPatchOp[], options?: { subresource?: string }): Promise<T>;
  /** Merge patch of the status subresource. */
  patchStatus(ref: ObjectRef, status: unknown): Promise<T>;
  delete(params: DeleteParams): Promise<void>;
  watch(params: WatchParams, onEvent: (event: WatchEvent<T>) => void): Promise<WatchEnd>;
}

export function createResourceClient<T extends KubeObject = KubeObject>(
  transport: Transport,
  resource: ResourceRef,
): ResourceClient<T> {
  const target = (verb: string, namespace?: string, name?: string, sub?: string): RequestTarget => {
    const t: RequestTarget = {
      verb,
      group: resource.group,
      resource: sub ? `${resource.plural}/${sub}` : resource.plural,
    };
    if (namespace) t.namespace = namespace;
    if (name) t.name = name;
    return t;
  };
  const listQuery = (p: ListParams): Query => ({
    labelSelector: p.labelSelector,
    fieldSelector: p.fieldSelector,
    limit: p.limit,
    continue: p.continue,
    resourceVersion: p.resourceVersion,
  });
  const withTypeMeta = (obj: T): T =>
    obj.apiVersion && obj.kind ? obj : { apiVersion: apiVersionOf(resource), kind: resource.kind, ...obj };

  const client: ResourceClient<T> = {
    resource,
    transport,
    async list(p = {}) {
      return transport.request<KubeList<T>>({
        method: "GET",
        path: collectionPath(resource, p.namespace),
        query: listQuery(p),
        target: target("list", p.namespace),
        signal: p.signal,
      });
    },
    async get({ name, namespace }) {
      return transport.request<T>({
        method: "GET",
        path: objectPath(resource, name, namespace),
        target: target("get", namespace, name),
      });
    },
    async create(obj, o = {}) {
      const ns = obj.metadata?.namespace;
      return transport.request<T>({
        method: "POST",
        path: collectionPath(resource, ns),
        query: { fieldManager: o.fieldManager },
        body: withTypeMeta(obj),
        target: target("create", ns, obj.metadata?.name),
      });
    },
    async replace(obj, o = {}) {
      const { name = "", namespace } = obj.metadata ?? {};
      return transport.request<T>({
        method: "PUT",
        path: objectPath(resource, name, namespace, o.subresource),
        query: { fieldManager: o.fieldManager },
        body: withTypeMeta(obj),
        target: target("update", namespace, name, o.subresource),
      });
    },
    async patch(p) {
      return transport.request<T>({
        method: "PATCH",
        path: objectPath(resource, p.name, p.namespace, p.subresource),
        query: { fieldManager: p.fieldManager, force: p.force },
        body: p.patch,
        contentType: PATCH_CONTENT_TYPES[p.type],
        target: target("patch", p.namespace, p.name, p.subresource),
      });
    },
    mergePatch(ref, patch, o = {}) {
      return client.patch({ ...ref, patch, type: "merge", subresource: o.subresource });
    },
    jsonPatch(ref, ops, o = {}) {
      return client.patch({ ...ref, patch: ops, type: "json", subresource: o.subresource });
    },
    patchStatus(ref, status) {
      return client.patch({ ...ref, patch: { status }, type: "merge", subresource: "status" });
    },
    async delete(p) {
      const body: Record<string, unknown> = { kind: "DeleteOptions", apiVersion: "v1" };
      if (p.propagationPolicy) body.propagationPolicy = p.propagationPolicy;
      if (p.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = p.gracePeriodSeconds;
      if (p.preconditions) body.preconditions = p.preconditions;
      await transport.request({
        method: "DELETE",
        path: objectPath(resource, p.name, p.namespace),
        body,
        target: target("delete", p.namespace, p.name),
      });
    },
    async watch(p, onEvent) {
      return transport.watch(
        {
          method: "GET",
          path: collectionPath(resource, p.namespace),
          query: {
            ...listQuery(p),
            watch: 1,
            allowWatchBookmarks: p.allowWatchBookmarks,
            timeoutSeconds: p.timeoutSeconds,
          },
          target: target("watch", p.namespace),
          signal: p.signal,
          idleTimeoutMs: p.idleTimeoutMs,
        },
        onEvent as (e: WatchEvent) => void,
      );
    },
  };
  return client;
}

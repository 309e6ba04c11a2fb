import { isNotFound } from "./kube-error.js";
import { mutateWithRetry } from "./patch.js";
import type { ResourceClient } from "./resource-client.js";
import type { KubeObject } from "./types.js";

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata.finalizers?.includes(finalizer) ?? false;
}

/**
 * Adds `finalizer` (optimistic concurrency: the merge patch carries the resourceVersion, so finalizers
 * other controllers add meanwhile are never overwritten). Returns the object as written, or as given when
 * the finalizer was already there.
 */
export async function addFinalizer<T extends KubeObject>(
  client: ResourceClient<T>,
  obj: T,
  finalizer: string,
  alsoMutate?: (copy: T) => void,
): Promise<T> {
  if (hasFinalizer(obj, finalizer) && !alsoMutate) return obj;
  return mutateWithRetry(
    client,
    { name: obj.metadata.name ?? "", namespace: obj.metadata.namespace },
    (copy) => {
      if (!hasFinalizer(copy, finalizer))
        copy.metadata.finalizers = [...(copy.metadata.finalizers ?? []), finalizer];
      alsoMutate?.(copy);
    },
    { current: obj },
  );
}

/** Removes `finalizer`; an object already gone counts as done (returns undefined). */
export async function removeFinalizer<T extends KubeObject>(
  client: ResourceClient<T>,
  obj: T,
  finalizer: string,
): Promise<T | undefined> {
  if (!hasFinalizer(obj, finalizer)) return obj;
  try {
    return await mutateWithRetry(
      client,
      { name: obj.metadata.name ?? "", namespace: obj.metadata.namespace },
      (copy) => {
        const rest = (copy.metadata.finalizers ?? []).filter((f) => f !== finalizer);
        if (rest.length) copy.metadata.finalizers = rest;
        else delete copy.metadata.finalizers;
      },
      { current: obj },
    );
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

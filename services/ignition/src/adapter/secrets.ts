import { isNotFound, type KubeObject, type ResourceClient } from "@metal-kube/kube";

export const SECRET_RESOURCE = { group: "", version: "v1", plural: "secrets", kind: "Secret" } as const;

export interface SecretObject extends KubeObject {
  type?: string;
  /** Base64 values, as the apiserver sends them. */
  data?: Record<string, string>;
}

/** The Secret calls the actuator makes; narrow so tests and other transports can stand in. */
export interface SecretApi {
  /** The Secret, or undefined when it does not exist. */
  get(namespace: string, name: string): Promise<SecretObject | undefined>;
  create(secret: SecretObject): Promise<SecretObject>;
  /** Replaces with optimistic concurrency (metadata.resourceVersion must be set). */
  replace(secret: SecretObject): Promise<SecretObject>;
  /** Deletes; true when something was deleted, false when it was already gone. */
  delete(namespace: string, name: string): Promise<boolean>;
}

export function secretApiFrom(client: ResourceClient<SecretObject>): SecretApi {
  return {
    async get(namespace, name) {
      try {
        return await client.get({ namespace, name });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    create: (secret) => client.create(secret),
    replace: (secret) => client.replace(secret),
    async delete(namespace, name) {
      try {
        await client.delete({ namespace, name });
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },
  };
}

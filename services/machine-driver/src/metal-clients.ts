// One metal-api client per endpoint and credential, kept for reuse (keep-alive connections) and bounded:
// a rotated credential gets a fresh client, the least recently used one is closed.

import { createHash } from "node:crypto";
import {
  createMetalApiClient,
  type HmacAuthType,
  type MetalApiClient,
  type MetalApiClientOptions,
} from "@metal-kube/metal-api";
import type { MetalEndpoint } from "./credentials.js";

/** The machine calls the driver makes; the domain depends on this, tests hand in fakes. */
export type MachinesApi = Pick<
  MetalApiClient["machine"],
  "allocate" | "get" | "find" | "findSummaries" | "free"
>;

export interface MetalClientPool {
  machines(endpoint: MetalEndpoint): MachinesApi;
  close(): Promise<void>;
}

export interface MetalClientPoolOptions {
  /** Clients kept at most; the least recently used is closed beyond this. */
  maxClients?: number;
  hmacAuthType?: HmacAuthType;
  /** Deadline of one metal-api call, including retries of reads (ms). */
  timeoutMs?: number;
  /** Client options besides url and credential (tests, tuning). */
  clientOptions?: Omit<MetalApiClientOptions, "url" | "hmac" | "token" | "hmacAuthType" | "timeoutMs">;
  /** Builds a client; default createMetalApiClient. */
  factory?: (o: MetalApiClientOptions) => Pick<MetalApiClient, "machine" | "close">;
}

export const DEFAULT_MAX_CLIENTS = 32;

function keyOf(e: MetalEndpoint): string {
  const secret = e.credential.kind === "hmac" ? e.credential.hmac : e.credential.token;
  // Hashed so the map's keys (visible in a heap dump) do not hold the credential in clear.
  return createHash("sha256").update(`${e.url}\0${e.credential.kind}\0${secret}`).digest("base64url");
}

export function createMetalClientPool(o: MetalClientPoolOptions = {}): MetalClientPool {
  const max = o.maxClients ?? DEFAULT_MAX_CLIENTS;
  const factory = o.factory ?? createMetalApiClient;
  const clients = new Map<string, Pick<MetalApiClient, "machine" | "close">>();
  return {
    machines(endpoint) {
      const key = keyOf(endpoint);
      let client = clients.get(key);
      if (client) {
        clients.delete(key); // re-insert: Map order is the LRU order
      } else {
        client = factory({
          ...o.clientOptions,
          url: endpoint.url,
          ...(endpoint.credential.kind === "hmac"
            ? { hmac: endpoint.credential.hmac, hmacAuthType: o.hmacAuthType }
            : { token: endpoint.credential.token }),
          timeoutMs: o.timeoutMs,
        });
        while (clients.size >= max) {
          const [oldKey, old] = clients.entries().next().value!;
          clients.delete(oldKey);
          void old.close().catch(() => {});
        }
      }
      clients.set(key, client);
      return client.machine;
    },
    async close() {
      const all = [...clients.values()];
      clients.clear();
      await Promise.allSettled(all.map((c) => c.close()));
    },
  };
}

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { createLogger, type Logger } from "@metal-kube/logging";
import { isNotFound } from "./kube-error.js";
import { parseOptions } from "./parse-options.js";
import { createResourceClient } from "./resource-client.js";
import type { Transport } from "./transport.js";
import type { KubeObject } from "./types.js";

/** Repeats of the same event within this window bump `count` on one Event instead of creating another. */
export const DEFAULT_EVENT_CORRELATION_WINDOW_MS = 10 * 60_000;
/** Distinct events remembered for correlation; the oldest are forgotten first. */
export const DEFAULT_EVENT_CACHE_SIZE = 4096;
/** The apiserver caps Event messages; longer ones are cut here so the write is not refused. */
export const MAX_EVENT_MESSAGE_LENGTH = 1024;

export type EventType = "Normal" | "Warning";

export interface EventRecorderOptions {
  transport: Transport;
  /** `source.component` / `reportingController`, e.g. "metal-kube-extension". */
  component: string;
  /** `reportingInstance` and `source.host`; the host name by default. */
  instance?: string;
  correlationWindowMs?: number;
  cacheSize?: number;
  logger?: Logger;
}

/**
 * Records Kubernetes Events (core/v1, what `kubectl describe` shows) about objects. Recording never
 * blocks or fails the caller: writes run in the background and failures are logged, because an Event is
 * a courtesy to humans, not part of reconciling.
 */
export interface EventRecorder {
  event(obj: KubeObject, type: EventType, reason: string, message: string): void;
  /** Resolves when every event recorded so far is written (or has failed). */
  flush(): Promise<void>;
}

const coreEvents = { group: "", version: "v1", plural: "events", kind: "Event" };

interface Seen {
  name: string;
  namespace: string;
  count: number;
  at: number;
}

export function createEventRecorder(options: EventRecorderOptions): EventRecorder {
  const o = parseOptions(
    {
      instance: hostname(),
      correlationWindowMs: DEFAULT_EVENT_CORRELATION_WINDOW_MS,
      cacheSize: DEFAULT_EVENT_CACHE_SIZE,
    },
    options,
    "EventRecorderOptions",
  );
  if (!o.component) throw new TypeError("EventRecorderOptions.component: must not be empty");
  const log = (o.logger ?? createLogger({ name: "kube" })).child({ component: "event-recorder" });
  const client = createResourceClient(o.transport, coreEvents);
  // Insertion-ordered, so the first entries are the least recently recorded.
  const seen = new Map<string, Seen>();
  // Writes for one correlation key run one after the other so a repeat never races the first create.
  const chains = new Map<string, Promise<void>>();
  const pending = new Set<Promise<void>>();

  async function write(key: string, obj: KubeObject, type: EventType, reason: string, message: string) {
    const now = new Date();
    const prev = seen.get(key);
    if (prev && now.getTime() - prev.at < o.correlationWindowMs) {
      try {
        await client.mergePatch(
          { name: prev.name, namespace: prev.namespace },
          { count: prev.count + 1, lastTimestamp: now.toISOString().replace(/\.\d+Z$/, "Z") },
        );
        prev.count++;
        prev.at = now.getTime();
        seen.delete(key);
        seen.set(key, prev);
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // The Event expired (TTL) meanwhile: create a fresh one.
      }
    }
    const m = obj.metadata;
    const namespace = m.namespace || "default";
    const ts = now.toISOString().replace(/\.\d+Z$/, "Z");
    const name = `${m.name}.${now.getTime().toString(16)}${randomBytes(2).toString("hex")}`;
    await client.create({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: ts,
      lastTimestamp: ts,
      source: { component: o.component, host: o.instance },
      reportingComponent: o.component,
      reportingInstance: o.instance,
    });
    seen.delete(key);
    seen.set(key, { name, namespace, count: 1, at: now.getTime() });
    while (seen.size > o.cacheSize) seen.delete(seen.keys().next().value as string);
  }

  return {
    event(obj, type, reason, message) {
      if (message.length > MAX_EVENT_MESSAGE_LENGTH)
        message = `${message.slice(0, MAX_EVENT_MESSAGE_LENGTH - 3)}...`;
      const key = [obj.metadata.uid ?? obj.metadata.name, type, reason, message].join("\u0000");
      const prev = chains.get(key) ?? Promise.resolve();
      const p: Promise<void> = prev
        .then(() => write(key, obj, type, reason, message))
        .catch((err: unknown) => {
          log.warn(
            {
              err: (err as Error).message,
              reason,
              object: `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`,
            },
            "could not record event",
          );
        })
        .finally(() => {
          pending.delete(p);
          if (chains.get(key) === p) chains.delete(key);
        });
      chains.set(key, p);
      pending.add(p);
    },
    async flush() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}

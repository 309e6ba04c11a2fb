import type { Logger } from "@metal-kube/logging";
import {
  DiscardPolicy,
  type NatsConnection,
  nanos,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "nats";
import { DEFAULT_STREAM_SUBJECTS } from "./options.js";

export interface EnsureStreamOptions {
  name: string;
  maxAgeMs: number;
  duplicateWindowMs: number;
  timeoutMs: number;
  logger: Logger;
}

function isStreamNotFound(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10059 || /stream not found/i.test(String(e?.message));
}

/**
 * Creates the events stream, or updates subjects, age and duplicate window of an existing one (other
 * settings an operator changed are kept). Storage cannot change after creation; a mismatch is logged.
 */
export async function ensureStream(
  nc: NatsConnection,
  opts: EnsureStreamOptions,
): Promise<"created" | "updated" | "unchanged"> {
  const jsm = await nc.jetstreamManager({ timeout: opts.timeoutMs });
  const want: Partial<StreamConfig> = {
    name: opts.name,
    subjects: DEFAULT_STREAM_SUBJECTS,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(opts.maxAgeMs),
    duplicate_window: nanos(opts.duplicateWindowMs),
    num_replicas: 1,
  };
  let current: StreamConfig;
  try {
    current = (await jsm.streams.info(opts.name)).config;
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    try {
      await jsm.streams.add(want);
      opts.logger.info({ stream: opts.name, subjects: want.subjects }, "created event stream");
      return "created";
    } catch (addErr) {
      // Another service created it at the same moment: fall through to the update check next time.
      if (!/already in use|already exists/i.test(String((addErr as Error).message))) throw addErr;
      current = (await jsm.streams.info(opts.name)).config;
    }
  }
  if (current.storage !== StorageType.File) {
    opts.logger.warn({ stream: opts.name, storage: current.storage }, "event stream is not file-backed");
  }
  const subjects = [...new Set([...(current.subjects ?? []), ...DEFAULT_STREAM_SUBJECTS])];
  const same =
    subjects.length === (current.subjects ?? []).length &&
    current.max_age === want.max_age &&
    current.duplicate_window === want.duplicate_window;
  if (same) return "unchanged";
  await jsm.streams.update(opts.name, {
    ...current,
    subjects,
    max_age: want.max_age!,
    duplicate_window: want.duplicate_window!,
  });
  opts.logger.info(
    { stream: opts.name, maxAgeMs: opts.maxAgeMs, duplicateWindowMs: opts.duplicateWindowMs },
    "updated event stream",
  );
  return "updated";
}

import { maskUrlCredentials } from "@metal-kube/config";
import type { Logger } from "@metal-kube/logging";
import { InvalidOptionError } from "./errors.js";
import { SUBJECT_PART_PATTERN } from "./subject.js";

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";
export const DEFAULT_STREAM_NAME = "METAL";
export const DEFAULT_STREAM_SUBJECTS = ["metal.>"];
/** Events older than this leave the stream. */
export const DEFAULT_STREAM_MAX_AGE_MS = 7 * 24 * 3600_000;
/**
 * How long the server remembers a Nats-Msg-Id. The outbox re-sends at most `maxInFlight` events after a
 * crash, as soon as it restarts; those must still be inside the window to be dropped as duplicates. The
 * server keeps one entry per id inside the window, so this is a memory/safety trade-off: 20 minutes covers a
 * restart (even a slow node reboot) without holding hours of ids at high rates.
 */
export const DEFAULT_DUPLICATE_WINDOW_MS = 20 * 60_000;
export const DEFAULT_OUTBOX_MAX_EVENTS = 1_000_000;
export const DEFAULT_OUTBOX_MAX_BYTES = 512 * 1024 * 1024;
export const DEFAULT_SEGMENT_BYTES = 32 * 1024 * 1024;
/** fdatasync each group commit: an event acknowledged to the caller survives even a power loss. */
export const DEFAULT_FSYNC = true;
/** Upper bound of events written by one group commit (one write + one fdatasync). */
export const DEFAULT_APPEND_BATCH_MAX = 4096;
export const DEFAULT_BACKOFF_INITIAL_MS = 100;
export const DEFAULT_BACKOFF_MAX_MS = 2_000;
/** Fraction of each delay that is randomized, so many services do not reconnect in lockstep. */
export const DEFAULT_BACKOFF_JITTER = 0.2;
/** Publishes awaiting their JetStream ack at once (pipelining). */
export const DEFAULT_MAX_IN_FLIGHT = 2048;
export const DEFAULT_READ_CHUNK_BYTES = 1024 * 1024;
export const DEFAULT_ACK_TIMEOUT_MS = 5_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
/** close() waits at most this long for the outbox to drain into JetStream; the rest stays for the next start. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;
/**
 * An event JetStream rejects with an explicit error (not a timeout) this many times in a row is dropped,
 * logged with its id and counted, so one poison event cannot wedge the outbox forever.
 */
export const DEFAULT_MAX_REJECTS = 10;
/** Below NATS' default max_payload (1 MiB) with room for headers. */
export const DEFAULT_MAX_EVENT_BYTES = 1_000_000;

export interface EventPublisherOptions {
  /** Service name: the `<service>` subject token and the default CloudEvent source. Required. */
  service: string;
  /** CloudEvent `source`; default `/metal-kube/<service>`. */
  source?: string;
  /** NATS server URL(s); default DEFAULT_NATS_URL. */
  natsUrl?: string | string[];
  /** Directory of the durable outbox (created if missing). One publisher per directory. Required. */
  outboxDir: string;
  /** Bound on events waiting in the outbox; beyond it new events are dropped and counted. */
  outboxMaxEvents?: number;
  /** Bound on bytes of events waiting in the outbox. */
  outboxMaxBytes?: number;
  /** Size after which the outbox starts a new segment file (acked segments are deleted whole). */
  segmentBytes?: number;
  /** fdatasync every group commit (default true). false survives kill -9 but not power loss. */
  fsync?: boolean;
  appendBatchMax?: number;
  streamName?: string;
  streamMaxAgeMs?: number;
  duplicateWindowMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  backoffJitter?: number;
  maxInFlight?: number;
  readChunkBytes?: number;
  ackTimeoutMs?: number;
  connectTimeoutMs?: number;
  maxEventBytes?: number;
  closeTimeoutMs?: number;
  maxRejects?: number;
  /** pino logger; default a `events` logger from @metal-kube/logging. */
  logger?: Logger;
}

export interface ParsedPublisherOptions extends Required<Omit<EventPublisherOptions, "natsUrl" | "logger">> {
  natsUrl: string[];
  logger: Logger | undefined;
}

function positiveInt(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min)
    throw new InvalidOptionError(name, `${v} must be an integer >= ${min}`);
  return v;
}

/** Merges DEFAULT_* into `opts` and validates every value, naming the bad option. */
export function parseOptions(opts: EventPublisherOptions): ParsedPublisherOptions {
  if (!opts || typeof opts !== "object") throw new InvalidOptionError("options", "must be an object");
  if (typeof opts.service !== "string" || !SUBJECT_PART_PATTERN.test(opts.service)) {
    throw new InvalidOptionError(
      "service",
      `${JSON.stringify(opts.service)} must be a subject token (a-z 0-9 - _, starting with a-z or 0-9)`,
    );
  }
  if (opts.source !== undefined && (typeof opts.source !== "string" || opts.source.length === 0)) {
    throw new InvalidOptionError("source", "must be a non-empty URI reference");
  }
  if (opts.fsync !== undefined && typeof opts.fsync !== "boolean") {
    throw new InvalidOptionError("fsync", `${JSON.stringify(opts.fsync)} must be true or false`);
  }
  if (typeof opts.outboxDir !== "string" || opts.outboxDir.length === 0) {
    throw new InvalidOptionError("outboxDir", "is required");
  }
  const natsUrl = opts.natsUrl === undefined ? [DEFAULT_NATS_URL] : [opts.natsUrl].flat();
  if (natsUrl.length === 0 || natsUrl.some((u) => typeof u !== "string" || u.length === 0)) {
    throw new InvalidOptionError("natsUrl", "must be a non-empty URL or list of URLs");
  }
  const streamName = opts.streamName ?? DEFAULT_STREAM_NAME;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(streamName)) {
    throw new InvalidOptionError(
      "streamName",
      `${JSON.stringify(streamName)} must be 1-64 of A-Z a-z 0-9 _ -`,
    );
  }
  const jitter = opts.backoffJitter ?? DEFAULT_BACKOFF_JITTER;
  if (!(jitter >= 0 && jitter <= 1))
    throw new InvalidOptionError("backoffJitter", `${jitter} must be in [0, 1]`);
  const parsed: ParsedPublisherOptions = {
    service: opts.service,
    source: opts.source ?? `/metal-kube/${opts.service}`,
    natsUrl,
    outboxDir: opts.outboxDir,
    outboxMaxEvents: positiveInt("outboxMaxEvents", opts.outboxMaxEvents, DEFAULT_OUTBOX_MAX_EVENTS),
    outboxMaxBytes: positiveInt("outboxMaxBytes", opts.outboxMaxBytes, DEFAULT_OUTBOX_MAX_BYTES),
    segmentBytes: positiveInt("segmentBytes", opts.segmentBytes, DEFAULT_SEGMENT_BYTES, 4096),
    fsync: opts.fsync ?? DEFAULT_FSYNC,
    appendBatchMax: positiveInt("appendBatchMax", opts.appendBatchMax, DEFAULT_APPEND_BATCH_MAX),
    streamName,
    streamMaxAgeMs: positiveInt("streamMaxAgeMs", opts.streamMaxAgeMs, DEFAULT_STREAM_MAX_AGE_MS, 1000),
    duplicateWindowMs: positiveInt(
      "duplicateWindowMs",
      opts.duplicateWindowMs,
      DEFAULT_DUPLICATE_WINDOW_MS,
      1000,
    ),
    backoffInitialMs: positiveInt("backoffInitialMs", opts.backoffInitialMs, DEFAULT_BACKOFF_INITIAL_MS),
    backoffMaxMs: positiveInt("backoffMaxMs", opts.backoffMaxMs, DEFAULT_BACKOFF_MAX_MS),
    backoffJitter: jitter,
    maxInFlight: positiveInt("maxInFlight", opts.maxInFlight, DEFAULT_MAX_IN_FLIGHT),
    readChunkBytes: positiveInt("readChunkBytes", opts.readChunkBytes, DEFAULT_READ_CHUNK_BYTES, 4096),
    ackTimeoutMs: positiveInt("ackTimeoutMs", opts.ackTimeoutMs, DEFAULT_ACK_TIMEOUT_MS),
    connectTimeoutMs: positiveInt("connectTimeoutMs", opts.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS),
    maxEventBytes: positiveInt("maxEventBytes", opts.maxEventBytes, DEFAULT_MAX_EVENT_BYTES, 256),
    closeTimeoutMs: positiveInt("closeTimeoutMs", opts.closeTimeoutMs, DEFAULT_CLOSE_TIMEOUT_MS, 0),
    maxRejects: positiveInt("maxRejects", opts.maxRejects, DEFAULT_MAX_REJECTS),
    logger: opts.logger,
  };
  if (parsed.duplicateWindowMs > parsed.streamMaxAgeMs) {
    throw new InvalidOptionError("duplicateWindowMs", "must not exceed streamMaxAgeMs");
  }
  if (parsed.backoffMaxMs < parsed.backoffInitialMs) {
    throw new InvalidOptionError("backoffMaxMs", "must be >= backoffInitialMs");
  }
  return parsed;
}

/** A NATS URL fit for logs: user and password (or token) replaced, since secrets are never logged. */
export const maskUrl = maskUrlCredentials;

import { createLogger, type Logger } from "@metal-kube/logging";
import { buildCloudEvent, type CloudEvent, encodeCloudEvent } from "./cloud-event.js";
import { EventsError, InvalidEventError, OutboxFullError } from "./errors.js";
import { Flusher } from "./flusher.js";
import { type EventPublisherOptions, type ParsedPublisherOptions, parseOptions } from "./options.js";
import { Outbox } from "./outbox.js";
import { eventSubject } from "./subject.js";

export interface PublishInput<T = unknown> {
  /** The kind of thing the event is about, e.g. `machine`: the third subject token. */
  entity: string;
  /** What happened, e.g. `created`: the fourth subject token. */
  action: string;
  /** The event data (JSON-serializable; null for none). */
  data: T;
  /** CloudEvent `subject`: the affected object's identifier, e.g. a machine id. */
  subject?: string;
  /** Event id (and Nats-Msg-Id); default a fresh UUID. Give a stable one to make a retried publish idempotent. */
  id?: string;
}

/** Plain numbers, ready to expose as Prometheus gauges and counters. */
export interface EventPublisherStats {
  /** Events in the outbox not yet acknowledged by JetStream (gauge). */
  pending: number;
  /** Bytes those events take in the outbox (gauge). */
  pendingBytes: number;
  /** Events JetStream stored since start (counter). */
  published: number;
  /** Re-sent events JetStream recognised as duplicates and dropped (counter). */
  duplicates: number;
  /** Events lost: outbox full, rejected by JetStream `maxRejects` times, or damaged on disk (counter). */
  dropped: number;
  /** 1 while connected to NATS with the stream ensured, else 0 (gauge). */
  connected: number;
}

export interface EventPublisher {
  /**
   * Stores the event durably in the outbox and resolves with it; never waits on NATS. When the outbox is
   * full the event is dropped (logged, counted in `stats().dropped`) and the promise still resolves, so a
   * request is never failed because NATS has been down. Rejects with InvalidEventError for a bad event,
   * and with EventsError (OUTBOX_IO, CLOSED) when the disk fails or after close().
   */
  publish<T>(input: PublishInput<T>): Promise<CloudEvent<T>>;
  /** Resolves once the stream is ensured, or NATS is known to be down (then events wait in the outbox). */
  ready(): Promise<void>;
  stats(): EventPublisherStats;
  /** Stops accepting events, waits up to `closeTimeoutMs` for the outbox to drain, then closes. */
  close(): Promise<void>;
}

/** How often the "outbox full" warning repeats while events keep being dropped. */
const FULL_LOG_INTERVAL_MS = 10_000;

interface Opened {
  outbox: Outbox;
  flusher: Flusher;
}

class Publisher implements EventPublisher {
  private droppedFull = 0;
  private droppedSinceLog = 0;
  private lastFullLog = 0;
  private full = false;
  private closing: Promise<void> | undefined;
  private opened: Opened | undefined;
  private readonly opening: Promise<Opened>;

  constructor(
    private readonly opts: ParsedPublisherOptions,
    private readonly logger: Logger,
  ) {
    this.opening = this.open();
    // Reported through publish()/ready(); avoid an unhandled rejection if neither is called.
    this.opening.catch(() => undefined);
  }

  private async open(): Promise<Opened> {
    const { opts, logger } = this;
    let result: Awaited<ReturnType<typeof Outbox.open>>;
    try {
      result = await Outbox.open({
        dir: opts.outboxDir,
        maxEvents: opts.outboxMaxEvents,
        maxBytes: opts.outboxMaxBytes,
        segmentBytes: opts.segmentBytes,
        fsync: opts.fsync,
        appendBatchMax: opts.appendBatchMax,
        readChunkBytes: opts.readChunkBytes,
        logger,
      });
    } catch (err) {
      if (err instanceof EventsError) throw err;
      throw new EventsError(
        "OUTBOX_IO",
        `cannot open event outbox ${opts.outboxDir}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const { outbox, recovery } = result;
    if (recovery.pendingEvents > 0 || recovery.truncatedBytes > 0) {
      logger.info(
        { outboxDir: opts.outboxDir, ...recovery },
        "event outbox recovered; sending what is pending",
      );
    }
    const flusher = new Flusher(outbox, opts, logger);
    flusher.start();
    this.opened = { outbox, flusher };
    return this.opened;
  }

  async publish<T>(input: PublishInput<T>): Promise<CloudEvent<T>> {
    if (this.closing) throw new EventsError("CLOSED", "event publisher is closed");
    if (input === null || typeof input !== "object")
      throw new InvalidEventError("input", "must be an object");
    const subject = eventSubject({ service: this.opts.service, entity: input.entity, action: input.action });
    const event = buildCloudEvent({
      type: subject,
      source: this.opts.source,
      data: input.data,
      subject: input.subject,
      id: input.id,
    }) as CloudEvent<T>;
    const payload = encodeCloudEvent(event);
    if (payload.length > this.opts.maxEventBytes) {
      throw new InvalidEventError(
        "data",
        `event is ${payload.length} bytes, over maxEventBytes ${this.opts.maxEventBytes}`,
      );
    }
    // Once open, append synchronously: publish() calls then reach the outbox in call order.
    const { outbox } = this.opened ?? (await this.opening);
    try {
      await outbox.append({ subject, id: event.id, payload });
      if (this.full) {
        this.full = false;
        this.logger.info({ dropped: this.droppedFull }, "event outbox accepts events again");
      }
    } catch (err) {
      if (!(err instanceof OutboxFullError)) throw err;
      this.onFull(err, event);
    }
    return event;
  }

  private onFull(err: OutboxFullError, event: CloudEvent): void {
    this.full = true;
    this.droppedFull += 1;
    this.droppedSinceLog += 1;
    const now = Date.now();
    if (now - this.lastFullLog >= FULL_LOG_INTERVAL_MS) {
      this.logger.warn(
        {
          limit: err.limit,
          value: err.value,
          droppedSinceLastLog: this.droppedSinceLog,
          droppedTotal: this.droppedFull,
          lastDroppedId: event.id,
          lastDroppedType: event.type,
          natsConnected: this.opened?.flusher.connected ?? false,
        },
        "EVENT OUTBOX FULL: dropping new events until NATS takes the backlog",
      );
      this.lastFullLog = now;
      this.droppedSinceLog = 0;
    }
  }

  async ready(): Promise<void> {
    const { flusher } = await this.opening;
    await flusher.ready();
  }

  stats(): EventPublisherStats {
    const o = this.opened;
    return {
      pending: o?.outbox.pendingEvents ?? 0,
      pendingBytes: o?.outbox.pendingBytes ?? 0,
      published: o?.flusher.published ?? 0,
      duplicates: o?.flusher.duplicates ?? 0,
      dropped: this.droppedFull + (o?.flusher.rejected ?? 0),
      connected: o?.flusher.connected ? 1 : 0,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    let opened: Opened;
    try {
      opened = await this.opening;
    } catch {
      return; // never opened: nothing to flush
    }
    const { outbox, flusher } = opened;
    await outbox.sync();
    // Waiting is pointless while NATS is down: the events are safe on disk for the next start.
    const drained = flusher.connected
      ? await flusher.drain(this.opts.closeTimeoutMs)
      : outbox.pendingEvents === 0;
    await flusher.stop();
    await outbox.close();
    if (!drained) {
      this.logger.info(
        { pending: outbox.pendingEvents, outboxDir: this.opts.outboxDir },
        "closing with events in the outbox; they are sent at the next start",
      );
    }
  }
}

/**
 * Returns at once: the outbox is opened (and recovered) in the background and flushed to JetStream from
 * then on. Throws InvalidOptionError naming a bad option. An outbox that cannot be opened makes ready()
 * and publish() reject with EventsError OUTBOX_IO.
 */
export function createEventPublisher(options: EventPublisherOptions): EventPublisher {
  const opts = parseOptions(options);
  // A child logger, so the lines of the outbox stand out among the service's own.
  const logger = (opts.logger ?? createLogger({ name: "events" })).child({ component: "events" });
  return new Publisher(opts, logger);
}

import { createLogger, type Logger } from "@metal-kube/logging";
import {
  AckPolicy,
  type ConsumerMessages,
  connect,
  DeliverPolicy,
  type JsMsg,
  type NatsConnection,
  nanos,
} from "nats";
import { type CloudEvent, decodeCloudEvent } from "./cloud-event.js";
import { EventsError, InvalidOptionError } from "./errors.js";
import { DEFAULT_NATS_URL, DEFAULT_STREAM_NAME, maskUrl } from "./options.js";

export const DEFAULT_SUBSCRIBE_SUBJECT = "metal.>";
/** Delay between attempts while NATS or the stream is not there yet (a tail started before the stack). */
export const DEFAULT_RETRY_MS = 1_000;

/** JetStream's own default redelivery delay for unacknowledged messages. */
export const DEFAULT_ACK_WAIT_MS = 30_000;

export type DeliverFrom = "new" | "all" | { sinceMs: number };

export interface EventSubscriberOptions {
  /** NATS server URL(s); default DEFAULT_NATS_URL. */
  natsUrl?: string | string[];
  /** Subject filter, wildcards allowed; default `metal.>` (everything). */
  subject?: string;
  /**
   * Durable consumer name: the server remembers what was acknowledged, so a restarted subscriber continues
   * where it stopped. Without it an ordered ephemeral consumer is used (nothing is kept server-side).
   * An event is acknowledged when the loop asks for the next one, i.e. after the caller handled it
   * (at-least-once: events fetched but not handled when the subscriber stops are delivered again after
   * `ackWaitMs`, possibly after newer ones).
   */
  durable?: string;
  /** Durable consumers only, applied when the consumer is created: redelivery delay of unacknowledged events. */
  ackWaitMs?: number;
  /** Where to start: only new events (default), everything the stream holds, or the last `sinceMs` ms. */
  deliver?: DeliverFrom;
  streamName?: string;
  retryMs?: number;
  logger?: Logger;
}

/** An event with where it came from. */
export interface ReceivedEvent {
  event: CloudEvent;
  /** NATS subject, `metal.<service>.<entity>.<action>`. */
  subject: string;
  /** Sequence of the message in the stream (ascending in publish order). */
  streamSeq: number;
  /** The Nats-Msg-Id header (equals event.id for events from this library). */
  msgId: string | undefined;
}

export interface EventSubscriber extends AsyncIterable<CloudEvent> {
  /** The same events with their subject, stream sequence and message id. */
  received(): AsyncIterable<ReceivedEvent>;
  /** Messages skipped because they were not CloudEvents (logged). */
  readonly invalid: number;
  /** Ends the iteration and closes the connection. */
  close(): Promise<void>;
}

interface ParsedSubscriberOptions {
  natsUrl: string[];
  subject: string;
  durable: string | undefined;
  deliver: DeliverFrom;
  streamName: string;
  retryMs: number;
  ackWaitMs: number;
  logger: Logger;
}

function parseSubscriberOptions(opts: EventSubscriberOptions): ParsedSubscriberOptions {
  if (!opts || typeof opts !== "object") throw new InvalidOptionError("options", "must be an object");
  const natsUrl = opts.natsUrl === undefined ? [DEFAULT_NATS_URL] : [opts.natsUrl].flat();
  if (natsUrl.length === 0 || natsUrl.some((u) => typeof u !== "string" || u.length === 0)) {
    throw new InvalidOptionError("natsUrl", "must be a non-empty URL or list of URLs");
  }
  const subject = opts.subject ?? DEFAULT_SUBSCRIBE_SUBJECT;
  const tokens = typeof subject === "string" ? subject.split(".") : [];
  const badToken = (t: string, i: number) =>
    t.length === 0 ||
    /\s/.test(t) ||
    (t.includes(">") && (t !== ">" || i !== tokens.length - 1)) ||
    (t.includes("*") && t !== "*");
  if (tokens.length === 0 || tokens.some(badToken)) {
    throw new InvalidOptionError(
      "subject",
      `${JSON.stringify(subject)} is not a NATS subject (e.g. metal.> or metal.*.machine.*)`,
    );
  }
  if (opts.durable !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(opts.durable)) {
    throw new InvalidOptionError(
      "durable",
      `${JSON.stringify(opts.durable)} must be 1-64 of A-Z a-z 0-9 _ -`,
    );
  }
  const deliver = opts.deliver ?? "new";
  if (
    deliver !== "new" &&
    deliver !== "all" &&
    !(
      typeof deliver === "object" &&
      deliver !== null &&
      Number.isFinite(deliver.sinceMs) &&
      deliver.sinceMs >= 0
    )
  ) {
    throw new InvalidOptionError(
      "deliver",
      `${JSON.stringify(deliver)} must be "new", "all" or { sinceMs: >= 0 }`,
    );
  }
  const streamName = opts.streamName ?? DEFAULT_STREAM_NAME;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(streamName)) {
    throw new InvalidOptionError(
      "streamName",
      `${JSON.stringify(streamName)} must be 1-64 of A-Z a-z 0-9 _ -`,
    );
  }
  const retryMs = opts.retryMs ?? DEFAULT_RETRY_MS;
  if (!Number.isInteger(retryMs) || retryMs < 1)
    throw new InvalidOptionError("retryMs", `${retryMs} must be an integer >= 1`);
  const ackWaitMs = opts.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
  if (!Number.isInteger(ackWaitMs) || ackWaitMs < 100) {
    throw new InvalidOptionError("ackWaitMs", `${ackWaitMs} must be an integer >= 100`);
  }
  return {
    natsUrl,
    subject,
    durable: opts.durable,
    ackWaitMs,
    deliver,
    streamName,
    retryMs,
    logger: opts.logger ?? createLogger({ name: "events-subscriber" }),
  };
}

function isStreamNotFound(err: unknown): boolean {
  return /stream not found/i.test(String((err as Error)?.message));
}

class Subscriber implements EventSubscriber {
  invalid = 0;
  private nc: NatsConnection | undefined;
  private messages: ConsumerMessages | undefined;
  private closed = false;
  private cancelWait: (() => void) | undefined;
  private started = false;
  /** The event last handed to the caller, acked once the caller comes back for more (or closes). */
  private toAck: JsMsg | undefined;
  /** Delivered, not yet handed out (consume() in callback mode, so close() ends iteration at once). */
  private queue: JsMsg[] = [];
  private queueWaiter: (() => void) | undefined;
  private ended = false;
  private closing: Promise<void> | undefined;

  private readonly onMessage = (m: JsMsg): void => {
    if (this.closed) return;
    this.queue.push(m);
    this.notify();
  };

  private notify(): void {
    const w = this.queueWaiter;
    this.queueWaiter = undefined;
    w?.();
  }

  private async next(): Promise<JsMsg | undefined> {
    while (this.queue.length === 0) {
      if (this.closed || this.ended) return undefined;
      await new Promise<void>((r) => {
        this.queueWaiter = r;
      });
    }
    return this.queue.shift();
  }

  constructor(private readonly opts: ParsedSubscriberOptions) {}

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.cancelWait = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.cancelWait = done;
    });
  }

  /** Connects, retrying while NATS is down; the client reconnects by itself afterwards. */
  private async connect(): Promise<NatsConnection | undefined> {
    let logged = false;
    while (!this.closed) {
      try {
        return await connect({
          servers: this.opts.natsUrl,
          name: "metal-events-subscriber",
          maxReconnectAttempts: -1,
          reconnectTimeWait: this.opts.retryMs,
        });
      } catch (err) {
        if (!logged) {
          this.opts.logger.warn(
            { url: this.opts.natsUrl.map(maskUrl), err: (err as Error).message },
            "NATS unreachable; retrying",
          );
          logged = true;
        }
        await this.wait(this.opts.retryMs);
      }
    }
    return undefined;
  }

  private deliverConfig(): { deliver_policy: DeliverPolicy; opt_start_time?: string } {
    const d = this.opts.deliver;
    if (d === "new") return { deliver_policy: DeliverPolicy.New };
    if (d === "all") return { deliver_policy: DeliverPolicy.All };
    return {
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(Date.now() - d.sinceMs).toISOString(),
    };
  }

  private async consume(nc: NatsConnection): Promise<ConsumerMessages | undefined> {
    const { streamName, subject, durable, logger } = this.opts;
    const js = nc.jetstream();
    let logged = false;
    while (!this.closed) {
      try {
        if (durable) {
          const jsm = await nc.jetstreamManager();
          try {
            await jsm.consumers.info(streamName, durable);
          } catch (err) {
            if (!/consumer not found/i.test(String((err as Error).message))) throw err;
            await jsm.consumers.add(streamName, {
              durable_name: durable,
              ack_policy: AckPolicy.Explicit,
              ack_wait: nanos(this.opts.ackWaitMs),
              filter_subject: subject,
              ...this.deliverConfig(),
            });
          }
          const consumer = await js.consumers.get(streamName, durable);
          return await consumer.consume({ max_messages: 256, callback: this.onMessage });
        }
        const dc = this.deliverConfig();
        const consumer = await js.consumers.get(streamName, {
          filterSubjects: subject,
          // "all" is left to the client's default (start at sequence 1): the client adds opt_start_seq to an
          // explicit DeliverPolicy.All, which nats-server 2.9 rejects.
          ...(dc.deliver_policy === DeliverPolicy.All ? {} : { deliver_policy: dc.deliver_policy }),
          ...(dc.opt_start_time ? { opt_start_time: dc.opt_start_time } : {}),
        });
        return await consumer.consume({ max_messages: 256, callback: this.onMessage });
      } catch (err) {
        // Transient by nature (no stream yet, NATS restarting, JetStream busy): keep trying, log once.
        if (!logged) {
          if (isStreamNotFound(err)) {
            logger.info(
              { stream: streamName },
              "event stream does not exist yet; waiting for a publisher to create it",
            );
          } else {
            logger.warn(
              { stream: streamName, err: (err as Error).message },
              "cannot start consuming events; retrying",
            );
          }
          logged = true;
        }
        await this.wait(this.opts.retryMs);
      }
    }
    return undefined;
  }

  async *received(): AsyncGenerator<ReceivedEvent> {
    if (this.started)
      throw new EventsError("INVALID_OPTION", "an event subscriber can be iterated only once");
    this.started = true;
    try {
      this.nc = await this.connect();
      if (!this.nc) return;
      this.messages = await this.consume(this.nc);
      if (!this.messages) return;
      void this.messages.closed().then(() => {
        this.ended = true;
        this.notify();
      });
      for (let m = await this.next(); m; m = await this.next()) {
        this.ackHandled();
        let event: CloudEvent;
        try {
          event = decodeCloudEvent(m.data);
        } catch (err) {
          this.invalid += 1;
          this.opts.logger.warn(
            { subject: m.subject, seq: m.seq, err: (err as Error).message },
            "skipping a message that is not a CloudEvent",
          );
          if (this.opts.durable) m.ack();
          continue;
        }
        if (this.opts.durable) this.toAck = m;
        yield {
          event,
          subject: m.subject,
          streamSeq: m.seq,
          msgId: m.headers?.get("Nats-Msg-Id") || undefined,
        };
        if (this.closed) break;
      }
    } finally {
      await this.close();
      // close() may have run while connect() was still pending: the connection it made must go too.
      if (this.nc && !this.nc.isClosed()) await this.nc.close().catch(() => undefined);
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CloudEvent> {
    for await (const r of this.received()) yield r.event;
  }

  private ackHandled(): void {
    const m = this.toAck;
    this.toAck = undefined;
    try {
      m?.ack();
    } catch (err) {
      this.opts.logger.warn(
        { err: (err as Error).message },
        "could not acknowledge an event; it will be redelivered",
      );
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.ackHandled();
    this.cancelWait?.();
    this.messages?.stop();
    // Delivered but never handed out: a durable consumer's server redelivers them after ackWaitMs. (Not
    // nak'ed: nats-server 2.9 then redelivers into the pull request being torn down, twice or never.)
    this.queue = [];
    this.notify();
    // Acks queued by the loop must reach the server before the connection goes.
    await this.nc?.drain().catch(() => this.nc?.close());
  }
}

/**
 * A subscription to events in the stream, read with `for await`. Nothing happens until iteration starts;
 * while NATS or the stream are missing it waits and retries. Throws InvalidOptionError naming a bad option.
 */
export function createEventSubscriber(options: EventSubscriberOptions): EventSubscriber {
  return new Subscriber(parseSubscriberOptions(options));
}
